"""The video stage of one job run: chunks of every output size, each encoded as soon as the
pictures it shows exist, some while speech is still being voiced, and the live preview cut
from the main size's chunks as they are stored (with the speech heard in each).

It works for a ``flow.JobRun`` and reads the run's state (settings, store, the plan of
pictures, the speech keys); the run decides when it starts and what a failure means.
"""

from __future__ import annotations

import asyncio
import functools
import time
from typing import TYPE_CHECKING

from vidgen_ray.pipeline import assembly, chunks, soundtrack
from vidgen_ray.pipeline.preview import Preview
from vidgen_ray.pipeline.stage_errors import settle
from vidgen_ray.pipeline.talking_parts import talking_lines
from vidgen_ray.storyboard import Storyboard
from vidgen_ray.timeline import Timeline, plan_timeline

if TYPE_CHECKING:
    from vidgen_ray.pipeline.flow import JobRun

Size = tuple[int, int]


class VideoStage:
    def __init__(self, run: JobRun):
        self.run = run
        # The main size first, then each rendition: chunks are encoded for every one.
        self.sizes: list[Size] = [run.settings.size, *run.settings.rendition_sizes]
        self.preview = Preview(run.out_dir, run.settings.fps, run.settings.chunk_seconds,
                               time.perf_counter())
        self._tasks: dict[tuple[Size, int, int], asyncio.Future | None] = {}
        self._previews: list[asyncio.Future] = []  # stored chunks being cut into segments
        self._done = 0
        # A line is heard in every chunk it overlaps: read once for them all, not once each
        # (chunks finish roughly in order, so a few dozen recent lines cover those in flight).
        self._speech = functools.lru_cache(maxsize=64)(run.store.get)

    def plan(self, board: Storyboard, keys: list[str]) -> Timeline:
        """The timeline of ``board`` from its lines' lengths (``keys``: its lines' parts)."""
        run, seconds, at = self.run, [], 0
        for scene in board.scenes:
            seconds.append([run.lengths.duration(k) for k in keys[at:at + len(scene.lines)]])
            at += len(scene.lines)
        timeline = plan_timeline(board, seconds, chunks.pacing(run.settings),
                                 seed=run.settings.seed,
                                 generated=run.settings.video_model != "none",
                                 talking=talking_lines(board, run.settings))
        run.motion.note(timeline)  # its clip scenes' lengths are final: their clips go on
        return timeline

    def in_flight(self) -> list[asyncio.Future]:
        return [*(t for t in self._tasks.values() if t is not None), *self._previews]

    async def stream_early(self) -> None:
        """Start chunks while speech is still being made. A scene's place in the timeline
        depends only on the scenes before it, so once the first k scenes are voiced, every
        chunk ending a dissolve's length before scene k-1 ends is final (and not the short
        last one, which joins its neighbour)."""
        run = self.run
        scenes, prefix = run.storyboard.scenes, 0
        size = max(1, round(run.settings.chunk_seconds * run.settings.fps))
        fade = round(run.settings.crossfade * run.settings.fps)
        while prefix < len(scenes):
            run.speech_changed.clear()
            voiced = self._voiced_scenes()
            if voiced > prefix:
                prefix = voiced
                board = run.storyboard.model_copy(update={"scenes": scenes[:prefix]})
                lines = sum(len(s.lines) for s in scenes[:prefix])
                timeline = self.plan(board, run.speech_keys[:lines])
                safe_end = timeline.total_frames - fade
                for a in range(0, safe_end, size):
                    if safe_end - (a + size) >= size / 2:
                        self._launch(timeline, a, a + size)
            await run.speech_changed.wait()

    async def make(self, timeline: Timeline) -> dict[Size, list[str]]:
        """Every size's chunk keys, in order."""
        ranges = timeline.chunks(self.run.settings.chunk_seconds)
        for a, b in ranges:
            self._launch(timeline, a, b)
        self._done += sum(task is None for task in self._tasks.values())
        self.run.report("video", self._done, len(ranges) * len(self.sizes))
        # Early chunks are always among the final ones (see stream_early); all of them are
        # awaited, so none is left running.
        await settle(*self.in_flight())
        return {size: [self._chunk_key(timeline, a, b, size) for a, b in ranges]
                for size in self.sizes}

    def _voiced_scenes(self) -> int:
        """How many scenes from the start have all their lines voiced."""
        run, at = self.run, 0
        for count, scene in enumerate(run.storyboard.scenes):
            if not all(run.store.has(k) for k in run.speech_keys[at:at + len(scene.lines)]):
                return count
            at += len(scene.lines)
        return len(run.storyboard.scenes)

    def _launch(self, timeline: Timeline, a: int, b: int) -> None:
        """Encode frames [a, b) at every size unless stored or already on their way."""
        for size in self.sizes:
            if (size, a, b) in self._tasks:
                continue
            key = self._chunk_key(timeline, a, b, size)
            stored = self.run.store.has(key)
            self._tasks[(size, a, b)] = (
                None if stored else asyncio.ensure_future(self._encode(timeline, a, b, size, key)))
            if stored and size == self.sizes[0]:
                self._previews.append(asyncio.ensure_future(self._preview(timeline, a, b, key)))

    async def _encode(self, timeline: Timeline, a: int, b: int, size: Size, key: str) -> None:
        run = self.run
        scenes = assembly.scenes_in(timeline, a, b)
        for scene in scenes:  # stream: start as soon as this chunk's pictures exist
            await self.picture(scene, size)
        generated = run.motion.shown(scenes, timeline)
        for scene in generated:  # and the fitted clips of the scenes a video model animates
            await run.motion.fitted(scene)
        talking = run.talking.shown(timeline, assembly.shots_in(timeline, a, b))
        for shot in talking:  # and the talking clips of the shots it cuts to
            await run.talking.clip(timeline, shot)
        stills = {s: self._keys_for(size)[s] for s in scenes}
        mp4, node = await chunks.encode(run.executor, timeline, a, b, size, stills,
                                        run.store, run.storyboard, run.settings, generated,
                                        talking)
        run.store.put(key, mp4)
        run.placement["chunk"].append(node)
        self._done += 1
        run.report("video", self._done, max(self._done, len(self._tasks)))
        if size == self.sizes[0]:
            await self._preview(timeline, a, b, key)

    async def _preview(self, timeline: Timeline, a: int, b: int, key: str) -> None:
        """The stored chunk of frames [a, b) into the preview, with the speech heard in it
        (every line it overlaps is voiced: its scenes are in ``timeline``)."""
        speech = await asyncio.to_thread(self._speech_in, timeline, a / timeline.fps,
                                         b / timeline.fps)
        await self.preview.add(a, b, self.run.store.path(key), speech)

    def _speech_in(self, timeline: Timeline, start: float, end: float) -> bytes | None:
        """The lines heard from ``start`` to ``end`` s, laid out as a WAV of that length."""
        heard = [i for i, cue in enumerate(timeline.cues) if cue.start < end and cue.end > start]
        if not heard:
            return None
        return soundtrack.speech_track(
            [self._speech(self.run.speech_keys[i]) for i in heard],
            [timeline.cues[i].start for i in heard], end - start, origin=start)

    def _keys_for(self, size: Size) -> list[str]:
        """The picture keys an output size is made from: those drawn for its shape."""
        run = self.run
        return run.plan_of_pictures.shape_keys[run.settings.picture_sizes[size]]

    async def picture(self, scene: int, size: Size) -> None:
        """Wait for a scene's picture; give up if picture-making ended without it."""
        run = self.run
        shapes = list(run.plan_of_pictures.shape_keys)
        shape = shapes.index(run.settings.picture_sizes[size])
        await run.guard.ready(run.pictures[shape * len(run.storyboard.scenes) + scene],
                              run.pictures_task, f"scene {scene + 1} has no picture", scene)

    def _chunk_key(self, timeline: Timeline, start: int, end: int, size: Size) -> str:
        run = self.run
        return chunks.chunk_key(
            timeline, start, end, size, self._keys_for(size), run.storyboard, run.settings,
            run.motion.shown(assembly.scenes_in(timeline, start, end), timeline),
            run.talking.shown(timeline, assembly.shots_in(timeline, start, end)))
