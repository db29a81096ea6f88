"""The job flow's executor on Ray: requests go to the farm's resident worker pools; chunk
encodes, the soundtrack mix and finishing to FFmpeg tasks on CPU nodes (ffmpeg_tasks.py).

FFmpeg tasks of every job on the farm share one gate (pipeline/slots.py) sized by the slots
the assembly nodes offer (backpressure.assembly_slots), read again from the live nodes at
most every SLOTS_REFRESH_SECONDS, so that nodes that join are used. Stills, chunks and the
soundtrack go into the object store once per job (the user's clips too) and travel by
reference (generated motion clips by their part keys, as stills are).
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass

import ray

from vidgen_ray.config import RenderSettings
from vidgen_ray.errors import RenderError
from vidgen_ray.farm.actors import ffmpeg_tasks
from vidgen_ray.farm.actors.pool import WorkerPool
from vidgen_ray.farm.backpressure import assembly_slots
from vidgen_ray.farm.placement import assembly_options
from vidgen_ray.pipeline import media
from vidgen_ray.pipeline.clip_fit import ClipPlan
from vidgen_ray.pipeline.executor import Kind, MixResult, Parts
from vidgen_ray.pipeline.finishing import Finished, QcInputs
from vidgen_ray.pipeline.slots import SlotGate, Span
from vidgen_ray.storyboard import Storyboard
from vidgen_ray.timeline import Timeline

SLOTS_REFRESH_SECONDS = 10.0
# One gate per event loop (the farm actor has one): every job's FFmpeg tasks share it.
_GATES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SlotGate] = \
    weakref.WeakKeyDictionary()


@dataclass
class Pools:
    image: WorkerPool
    speech: WorkerPool
    cluster: dict[str, float]
    motion: WorkerPool | None = None  # only for jobs with scenes a video model animates
    beds: WorkerPool | None = None  # only for jobs with beds a bed model makes
    talking: WorkerPool | None = None  # only for jobs with lines that cut to talking shots


def live_slots(threads: int) -> int:
    """The FFmpeg tasks the live nodes run at once (backpressure.assembly_slots)."""
    return assembly_slots([n["Resources"] for n in ray.nodes() if n["Alive"]], threads)


def farm_gate(threads: int) -> SlotGate:
    """The gate of this event loop, its size read from the nodes if it is stale."""
    loop = asyncio.get_running_loop()
    gate = _GATES.get(loop)
    if gate is None:
        gate = _GATES[loop] = SlotGate(live_slots(threads))
    elif time.monotonic() - gate.checked > SLOTS_REFRESH_SECONDS:
        gate.resize(live_slots(threads))
    return gate


class _UserMedia:
    """The user's own files, read as parts are (a clip is put in the object store once)."""

    @staticmethod
    def get(path: str) -> bytes:
        return media.read_checked(path)


class RayExecutor:
    """One job's work on the farm's pools; ``job_id`` names the scratch root its FFmpeg
    tasks work under. ``spans``: each FFmpeg task's node and times."""

    def __init__(self, pools: Pools, job_id: str):
        self.pools, self.job_id = pools, job_id
        self.spans: list[Span] = []
        self._refs: dict[str, ray.ObjectRef] = {}  # part key -> its copy in the object store

    def _pool(self, kind: Kind) -> WorkerPool:
        pool = getattr(self.pools, kind)
        if pool is None:
            raise RenderError(f"this job has no {kind} workers: the farm started none for it")
        return pool

    def version(self, kind: Kind) -> str:
        pool = self._pool(kind)
        versions = {info["backend"] for info in pool.ready_info}
        if len(versions) != 1:
            raise RenderError(f"the {pool.kind} workers run different backend versions "
                              f"{sorted(versions)}: install the same version on every node")
        return versions.pop()

    def map(self, kind: Kind, requests: list) -> AsyncIterator[tuple[int, bytes]]:
        return self._pool(kind).map(requests)

    def _ref(self, key: str, parts: Parts) -> ray.ObjectRef:
        """The part in the object store, put there the first time a task needs it."""
        if key not in self._refs:
            self._refs[key] = ray.put(parts.get(key))
        return self._refs[key]

    async def _run(self, kind: str, task, threads: int, *args) -> list:
        """What ``task`` returned (its span noted), run when the farm has a slot for it."""
        result, span = await ffmpeg_tasks.run(
            farm_gate(threads), kind, task, assembly_options(self.pools.cluster, threads),
            *args)
        self.spans.append(span)
        return [*result, span.node]

    async def resolve_encoder(self, asked: str) -> str:
        """Asked of a node where chunk tasks run (ffmpeg_tasks.resolve_encoder); chunks on
        another node check theirs and refuse."""
        if asked == "x264":
            return asked
        return await ffmpeg_tasks.resolve_encoder(self.pools.cluster, asked)

    async def encode_chunk(self, timeline: Timeline, start: int, end: int,
                           stills: dict[int, str], parts: Parts, settings: RenderSettings,
                           size: tuple[int, int], ass: str | None,
                           clips: dict[int, str] | None,
                           generated: dict[int, str] | None = None,
                           talking: dict[int, str] | None = None) -> tuple[bytes, str]:
        clips, generated, talking = clips or {}, generated or {}, talking or {}
        # The task sees a generated clip as it sees a user's: a scene's video, by reference.
        refs = [*(self._ref(key, parts) for key in stills.values()),
                *(self._ref(path, _UserMedia) for path in clips.values()),
                *(self._ref(key, parts) for key in generated.values()),
                *(self._ref(key, parts) for key in talking.values())]
        mp4, node = await self._run(
            "chunk", ffmpeg_tasks._encode_chunk, settings.ffmpeg_threads, self.job_id,
            timeline, start, end, list(stills), [*clips, *generated], settings, size, ass,
            list(talking), *refs)
        return mp4, node

    async def fit_clip(self, plan: ClipPlan, clips: list[str], parts: Parts, fps: int,
                       size: tuple[int, int]) -> bytes:
        refs = [self._ref(key, parts) for key in clips]
        mp4, _ = await self._run("fit", ffmpeg_tasks._fit_clip, 1, self.job_id, plan, fps,
                                 size, *refs)
        return mp4

    async def mix_soundtrack(self, speech: list[bytes], cue_starts: list[float],
                             storyboard: Storyboard, timeline: Timeline,
                             settings: RenderSettings, music: dict[str, bytes],
                             beds: dict[str, dict[int, str]] | None = None) -> MixResult:
        # Generated beds travel with the music files (a scene's WAV each, 96 kB a second).
        return tuple(await self._run("mix", ffmpeg_tasks._mix, 1, self.job_id, speech,
                                     cue_starts, storyboard, timeline, settings, music, beds))

    async def finish(self, chunks: list[tuple[str, float]], parts: Parts, soundtrack: str,
                     title: str, settings: RenderSettings, frames: int,
                     size: tuple[int, int], qc: QcInputs | None) -> Finished:
        # Every chunk is made: the stills are done with. Each chunk is sent once.
        self._refs = {k: ref for k, ref in self._refs.items() if k == soundtrack}
        sound = self._ref(soundtrack, parts)
        refs = [await asyncio.to_thread(lambda k=key: ray.put(parts.get(k)))
                for key, _ in chunks]
        finished, node = await self._run(
            "finish", ffmpeg_tasks._finish, settings.ffmpeg_threads, self.job_id,
            [seconds for _, seconds in chunks], title, settings, frames, size, qc, sound,
            *refs)
        finished.node = node
        return finished
