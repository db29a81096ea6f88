"""The job flow's executor without Ray: the backends called in a thread of this process,
FFmpeg run here in a scratch folder of the job, as many at once as this machine's CPUs hold
(one each of ``ffmpeg_threads``). For tests and tools that want the real job flow and its
outputs without a cluster; the farm runs jobs with farm/actors/executor.py."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable

from vidgen_ray.beds import create_bed_backend
from vidgen_ray.config import RenderSettings
from vidgen_ray.errors import RenderError, VidgenError
from vidgen_ray.images import create_image_backend
from vidgen_ray.motion import create_motion_backend, create_talking_backend
from vidgen_ray.pipeline import (
    assembly,
    encoders,
    finishing,
    media,
    motion_parts,
    scratch,
    soundtrack,
)
from vidgen_ray.pipeline.clip_fit import ClipPlan
from vidgen_ray.pipeline.executor import Kind, MixResult, Parts
from vidgen_ray.pipeline.slots import SlotGate, Span
from vidgen_ray.speech import create_speech_backend
from vidgen_ray.storyboard import Storyboard
from vidgen_ray.timeline import Timeline

NODE = "in-process"  # what placement records for work done here


class InProcessExecutor:
    """One job's work in this process; ``job_id`` names its scratch root; ``factories``
    (by kind, as the Farm's) build a backend instead of the settings (tests); ``slots``:
    FFmpeg tasks at once (default: CPUs // ffmpeg_threads)."""

    def __init__(self, settings: RenderSettings, job_id: str, *,
                 factories: dict[Kind, Callable[[], object]] | None = None,
                 slots: int | None = None):
        self.settings, self.job_id = settings, job_id
        self.factories = factories or {}
        self._backends: dict[Kind, object] = {}
        # One call at a time per backend: a pipeline's scheduler keeps its step in itself,
        # and stages ask concurrently (two talking lines, two clip scenes), as the farm's
        # workers serialise their calls (farm/actors/resident.py).
        self._locks: dict[Kind, threading.Lock] = defaultdict(threading.Lock)
        self.gate = SlotGate(slots or (os.cpu_count() or 1) // settings.ffmpeg_threads)
        self.spans: list[Span] = []

    def _backend(self, kind: Kind):
        if kind not in self._backends:
            if kind in self.factories:
                backend = self.factories[kind]()
            elif kind == "image":
                backend = create_image_backend(self.settings.image_model, self.settings)
            elif kind == "motion":
                backend = create_motion_backend(self.settings.video_model, self.settings)
            elif kind == "talking":
                backend = create_talking_backend(self.settings.talking_model, self.settings)
            elif kind == "beds":
                backend = create_bed_backend(self.settings.bed_model, self.settings)
            else:
                backend = create_speech_backend(self.settings.tts_model, self.settings)
            load = getattr(backend, "load", None)  # model backends load before their first use
            if load is not None:
                load()
            self._backends[kind] = backend
        return self._backends[kind]

    def version(self, kind: Kind) -> str:
        return self._backend(kind).version()

    async def map(self, kind: Kind, requests: list) -> AsyncIterator[tuple[int, bytes]]:
        """One request at a time; a failure is raised after every other request is made,
        as the farm's pools do (a backend's VidgenError as itself, anything else wrapped)."""
        failure: VidgenError | None = None
        for index, request in enumerate(requests):
            try:
                data = await asyncio.to_thread(self._make, kind, request)
            except VidgenError as exc:
                failure = failure or exc
                continue
            except Exception as exc:
                failure = failure or RenderError(f"the {kind} backend failed: {exc}")
                continue
            yield index, data
        if failure is not None:
            raise failure

    def _make(self, kind: Kind, request) -> bytes:
        with self._locks[kind]:
            return self._call(kind, request)

    def _call(self, kind: Kind, request) -> bytes:
        if kind == "image":
            return self._backend(kind).generate([request])[0]
        if kind in ("motion", "talking"):
            return self._backend(kind).make_clip(request)
        if kind == "beds":
            return self._backend(kind).make_bed(request)
        return self._backend(kind).synthesize([request])[0].to_wav()

    async def resolve_encoder(self, asked: str) -> str:
        if asked == "x264":
            return asked
        return await asyncio.to_thread(encoders.resolve_here, asked)  # a trial encode

    async def encode_chunk(self, timeline: Timeline, start: int, end: int,
                           stills: dict[int, str], parts: Parts, settings: RenderSettings,
                           size: tuple[int, int], ass: str | None,
                           clips: dict[int, str] | None,
                           generated: dict[int, str] | None = None,
                           talking: dict[int, str] | None = None) -> tuple[bytes, str]:
        def encode(work) -> bytes:
            pngs = {scene: parts.get(key) for scene, key in stills.items()}
            videos = {scene: media.read_checked(path) for scene, path in (clips or {}).items()}
            videos |= {scene: parts.get(key) for scene, key in (generated or {}).items()}
            shots = {shot: parts.get(key) for shot, key in (talking or {}).items()}
            return assembly.render_chunk(timeline, start, end, pngs, settings, size, ass,
                                         work, videos or None, talking=shots or None)
        return await self._run("chunk", encode), NODE

    async def fit_clip(self, plan: ClipPlan, clips: list[str], parts: Parts, fps: int,
                       size: tuple[int, int]) -> bytes:
        def fit(work) -> bytes:
            return motion_parts.render_fitted(work, plan, [parts.get(k) for k in clips], fps,
                                              size)
        return await self._run("fit", fit)

    async def mix_soundtrack(self, speech: list[bytes], cue_starts: list[float],
                             storyboard: Storyboard, timeline: Timeline,
                             settings: RenderSettings, music: dict[str, bytes],
                             beds: dict[str, dict[int, str]] | None = None) -> MixResult:
        def mix(work) -> tuple[bytes, dict, dict[str, bytes], float]:
            return soundtrack.mix_in(work, speech, cue_starts, storyboard, timeline,
                                     settings, music, beds)
        return (*await self._run("mix", mix), NODE)

    async def finish(self, chunks: list[tuple[str, float]], parts: Parts, soundtrack: str,
                     title: str, settings: RenderSettings, frames: int,
                     size: tuple[int, int], qc: finishing.QcInputs | None
                     ) -> finishing.Finished:
        def finish(work) -> finishing.Finished:
            listing = [(parts.get(key), seconds) for key, seconds in chunks]
            return finishing.finish_video(work, listing, parts.get(soundtrack), title,
                                          settings, frames, size, qc)
        finished = await self._run("finish", finish)
        finished.node = NODE
        return finished

    async def _run(self, kind: str, work: Callable):
        """``work(folder)`` in a thread once a slot is free, in a scratch folder of the job."""
        async with self.gate.slot():
            submitted = time.time()

            def run():
                started = time.time()
                with scratch.task_folder(self.job_id, kind) as folder:
                    result = work(folder)
                self.spans.append(Span(kind, NODE, submitted, started, time.time()))
                return result
            return await asyncio.to_thread(run)
