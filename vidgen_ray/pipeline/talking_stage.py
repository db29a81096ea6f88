"""The talking stage of one job run (issue 21, ``shots: talking``): each character's line
animated by the talking workers from its speaker's cast portrait and its own speech, for the
chunks to cut to (timeline.Shot).

A line's clip is asked for as soon as its speech is stored and the portraits are made (the
pictures stage makes them first), so close-ups are made while other lines are still voiced.
Every clip is a stored part under its content key (talking_parts.py): a resumed job makes
only what is missing. A chunk showing a shot waits for its clip (``clip``).

It works for a ``flow.JobRun`` and reads the run's state (settings, store, executor, the
plan of pictures, the speech keys); the run decides when it starts and what a failure means.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from vidgen_ray.errors import RenderError, VidgenError, client_message
from vidgen_ray.motion.talking import TalkingRequest
from vidgen_ray.pipeline import talking_parts
from vidgen_ray.pipeline.stage_errors import settle
from vidgen_ray.timeline import Timeline

if TYPE_CHECKING:
    from vidgen_ray.pipeline.flow import JobRun

Line = talking_parts.Line


class TalkingStage:
    def __init__(self, run: JobRun):
        self.run = run
        self.lines = sorted(talking_parts.talking_lines(run.storyboard, run.settings))
        self.version = ""  # the talking workers' (start sets it): part of every clip's key
        self.task: asyncio.Future | None = None
        self._ready = {line: asyncio.Event() for line in self.lines}
        self._done = 0

    def start(self, version: str) -> None:
        """Before any chunk is keyed: the talking workers' version."""
        self.version = version

    def key(self, scene: int, line: int) -> str:
        """The line's clip key (pure: chunks are keyed before anything is made)."""
        run = self.run
        speaker = run.storyboard.scenes[scene].lines[line].speaker
        speech = run.speech_keys[talking_parts.line_index(run.storyboard, scene, line)]
        return talking_parts.talking_key(run.storyboard, run.settings, scene, line,
                                         run.plan_of_pictures.portrait_keys[speaker], speech,
                                         self.version)

    @property
    def keys(self) -> list[str]:
        """Every talking clip of the job (the manifest lists them)."""
        return [self.key(*line) for line in self.lines] if self.version else []

    def shown(self, timeline: Timeline, shots: list[int]) -> dict[int, str]:
        """The clip key of each of ``shots`` (indices into ``timeline.shots``)."""
        return {i: self.key(timeline.shots[i].scene, timeline.shots[i].line) for i in shots}

    async def make(self) -> None:
        """Every talking line's clip, each as soon as its inputs exist."""
        self.run.report("talking", 0, len(self.lines))
        await settle(*[asyncio.ensure_future(self._line(*line)) for line in self.lines])

    async def clip(self, timeline: Timeline, shot: int) -> None:
        """Wait for a shot's clip; give up if the talking stage ended without it."""
        found = timeline.shots[shot]
        await self.run.guard.ready(
            self._ready[(found.scene, found.line)], self.task,
            f"scene {found.scene + 1}, line {found.line + 1} has no talking clip", found.scene)

    # ---- one line --------------------------------------------------------------------------

    async def _line(self, scene: int, line: int) -> None:
        run = self.run
        await run.portraits_ready.wait()
        index = talking_parts.line_index(run.storyboard, scene, line)
        await run.lines_ready[index].wait()
        key = self.key(scene, line)
        if not run.store.has(key):
            speaker = run.storyboard.scenes[scene].lines[line].speaker
            request = TalkingRequest(
                portrait=run.store.get(run.plan_of_pictures.portrait_keys[speaker]),
                speech=run.store.get(run.speech_keys[index]),
                **talking_parts.talking_fields(run.storyboard, run.settings, scene, line))
            try:
                async for _, mp4 in run.executor.map("talking", [request]):
                    run.store.put(key, mp4)
            except VidgenError as exc:
                where = f"scene {scene + 1}, line {line + 1}"
                raise RenderError(f"{where}: its talking shot: {exc}", stage="talking",
                                  scene=scene, public=f"{where}: its talking shot: "
                                  f"{client_message(exc)}") from exc
        self._ready[(scene, line)].set()
        self._done += 1
        run.report("talking", self._done, len(self.lines))
