"""The clips stage of one job run (issue 21, ``video_model``): each scene with motion
``clip`` animated by the motion workers and fitted to its frames, for the chunks to show.

Per scene, in order: once its picture exists, its first clip (needed whatever the scene's
length); once a timeline fixes the scene's frames (an early one while later scenes are
voiced, or the full one), the rest of its clips (motion_parts.plan_fit), then the fitted
clip, an FFmpeg task where chunks run. Every clip and fitted clip is a stored part under
its content key (motion_parts.py): a resumed job makes only what is missing. A chunk that
shows the scene waits for its fitted clip (``fitted``).

It works for a ``flow.JobRun`` and reads the run's state (settings, store, executor, the
pictures and their plan); the run decides when it starts and what a failure means.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from vidgen_ray.errors import RenderError, VidgenError, client_message
from vidgen_ray.pipeline import motion_parts
from vidgen_ray.pipeline.stage_errors import settle
from vidgen_ray.timeline import Timeline

if TYPE_CHECKING:
    from vidgen_ray.pipeline.flow import JobRun


class MotionStage:
    def __init__(self, run: JobRun):
        self.run = run
        self.scenes = motion_parts.clip_scenes(run.storyboard, run.settings)
        self.version = ""  # the motion workers' (make sets it): part of every clip's key
        self.made: dict[int, motion_parts.SceneClips] = {}  # scene -> its keys, once planned
        self.task: asyncio.Future | None = None
        self._frames: dict[int, int] = {}  # scene -> its frames, once a timeline says
        self._timed = {s: asyncio.Event() for s in self.scenes}  # set with _frames[s]
        self._fitted: dict[int, asyncio.Event] = {s: asyncio.Event() for s in self.scenes}
        self._first: dict[int, str] = {}  # scene -> its first clip's key, once its picture is
        self._stored: set[str] = set()  # clips known to be in the store (no store call each report)

    @property
    def keys(self) -> list[str]:
        """Every clip and fitted clip planned so far (the manifest lists them)."""
        return [k for s in sorted(self.made)
                for k in (*self.made[s].clip_keys, self.made[s].fitted_key)]

    def start(self, version: str) -> None:
        """Before any chunk is keyed: the motion workers' version, and the clip fitting
        checked once (a crossfade too long for the clips fails the job now)."""
        self.version = version
        motion_parts.plan_fit(self.run.settings, 1)

    async def make(self) -> None:
        """Every clip scene's clips and fitted clip."""
        self._report()
        await settle(*[asyncio.ensure_future(self._scene(s)) for s in self.scenes])

    def note(self, timeline: Timeline) -> None:
        """A timeline was planned: the frames of every clip scene it holds are final."""
        for scene, frames in motion_parts.scene_frames(timeline).items():
            if scene in self._timed and scene not in self._frames:
                self._frames[scene] = frames
                self._timed[scene].set()

    def fitted_key(self, scene: int, timeline: Timeline) -> str:
        """The key of the scene's fitted clip, for the frames ``timeline`` gives it (pure:
        chunks are keyed before anything is made)."""
        run = self.run
        return motion_parts.scene_clips(
            run.storyboard, run.settings, scene, timeline.clips[scene].frames,
            run.plan_of_pictures.image_keys[scene], self.version).fitted_key

    def shown(self, scenes: list[int], timeline: Timeline) -> dict[int, str]:
        """The fitted clip's key of each of ``scenes`` a video model animates."""
        return {s: self.fitted_key(s, timeline) for s in scenes if s in self._fitted}

    async def fitted(self, scene: int) -> None:
        """Wait for the scene's fitted clip; give up if the clips stage ended without it."""
        await self.run.guard.ready(self._fitted[scene], self.task,
                                   f"scene {scene + 1} has no motion clip", scene)

    # ---- one scene -----------------------------------------------------------------------

    async def _scene(self, scene: int) -> None:
        run = self.run
        await run.video.picture(scene, run.settings.size)  # the main shape's picture
        picture_key = run.plan_of_pictures.image_keys[scene]
        first = motion_parts.clip_key(run.storyboard, run.settings, scene, 0, picture_key,
                                      self.version)
        self._first[scene] = first
        await self._make(scene, picture_key, [first])  # before the scene's length is known
        await self._timed[scene].wait()
        frames = self._frames[scene]
        made = self.made[scene] = motion_parts.scene_clips(
            run.storyboard, run.settings, scene, frames, picture_key, self.version)
        self._report()
        await self._make(scene, picture_key, list(made.clip_keys))
        if not run.store.has(made.fitted_key):
            try:
                mp4 = await run.executor.fit_clip(
                    made.plan, list(made.clip_keys), run.store, run.settings.fps,
                    motion_parts.fit_size(run.settings))
            except VidgenError as exc:
                raise _failed(scene, "fitting its clips", exc) from exc
            run.store.put(made.fitted_key, mp4)
        self._fitted[scene].set()

    async def _make(self, scene: int, picture_key: str, keys: list[str]) -> None:
        """The scene's clips ``keys`` (clip i is keys[i]) the store lacks, made and stored."""
        run = self.run
        missing = [i for i, key in enumerate(keys) if key not in self._stored
                   and not run.store.has(key)]
        self._stored.update(key for i, key in enumerate(keys) if i not in missing)
        if not missing:
            self._report()
            return
        picture = run.store.get(picture_key)
        requests = [motion_parts.clip_request(run.storyboard, run.settings, scene, i, picture)
                    for i in missing]
        try:
            async for n, mp4 in run.executor.map("motion", requests):
                run.store.put(keys[missing[n]], mp4)
                self._stored.add(keys[missing[n]])
                self._report()
        except VidgenError as exc:
            raise _failed(scene, "its motion clip", exc) from exc

    def _report(self) -> None:
        """Clips stored of those planned (one per scene until its length is known)."""
        planned = {s: self.made[s].clip_keys if s in self.made else
                   tuple(k for k in [self._first.get(s)] if k) for s in self.scenes}
        total = sum(len(keys) or 1 for keys in planned.values())
        done = sum(k in self._stored for keys in planned.values() for k in keys)
        self.run.report("clips", done, total)


def _failed(scene: int, what: str, exc: VidgenError) -> RenderError:
    where = f"scene {scene + 1}"
    return RenderError(f"{where}: {what}: {exc}", stage="clips", scene=scene,
                       public=f"{where}: {what}: {client_message(exc)}")
