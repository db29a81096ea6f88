"""The recipe for one job: which parts a video needs, made in an order that streams.

Speech and pictures go to the workers together. Speech lengths fix the timeline; then
each chunk of the video is encoded as soon as the pictures it shows exist, and the
soundtrack is mixed beside them. Every part is stored as soon as it exists, under a key that
hashes everything that determines it (each kind's key lives with the code that makes it:
speech_parts, pictures, chunks, soundtrack), so a failed, cancelled or edited job redoes
only what is missing. The Farm decides when a job runs and hands it an ``Executor`` (Ray's,
or in_process.py's) to run its work; this module decides what it does, in which order.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

from vidgen_ray import audio
from vidgen_ray.config import RenderSettings
from vidgen_ray.errors import RenderError, VidgenError, client_message
from vidgen_ray.pipeline import bed_parts, finishing, outputs, pictures, soundtrack, talking_parts
from vidgen_ray.pipeline.executor import Executor, Kind
from vidgen_ray.pipeline.job_record import JobRecord, SceneParts, SceneStatus
from vidgen_ray.pipeline.motion_stage import MotionStage
from vidgen_ray.pipeline.progress import Changed, ThrottledReporter
from vidgen_ray.pipeline.slots import Span
from vidgen_ray.pipeline.speech_parts import LineLengths, cast_voices, scene_of_line, speech_parts
from vidgen_ray.pipeline.stage_errors import StageGuard, first_failure
from vidgen_ray.pipeline.talking_stage import TalkingStage
from vidgen_ray.pipeline.video_stage import VideoStage
from vidgen_ray.storage import LocalStore
from vidgen_ray.storyboard import Storyboard
from vidgen_ray.timeline import Timeline

PART_SUFFIXES = {"speech": ".wav", "image": ".png", "portrait": ".png", "chunk": ".mp4",
                 "soundtrack": ".wav", "loudness": ".json", "motion": ".mp4",
                 "motion-fit": ".mp4", talking_parts.TALKING_KIND: ".mp4",
                 bed_parts.BED_KIND: ".wav"}


@dataclass
class RenderResult:
    out_dir: Path
    video: Path
    storyboard: Storyboard
    duration: float
    timings: dict[str, float] = field(default_factory=dict)
    placement: dict[str, list[str]] = field(default_factory=dict)  # part kind -> node ids
    spans: list[Span] = field(default_factory=list)  # each FFmpeg task: node and times
    first_preview: float | None = None  # seconds from the start to the preview's first segment


class JobRun:
    """Makes one job's video. ``changed(record, state_changed)`` hears the record move:
    status changes at once, progress counts throttled (progress.py)."""

    def __init__(self, record: JobRecord, storyboard: Storyboard, settings: RenderSettings,
                 out_dir: Path, store: LocalStore, executor: Executor, changed: Changed):
        self.record, self.storyboard, self.settings = record, storyboard, settings
        self.out_dir, self.store, self.executor = out_dir, store, executor
        self.reporter = ThrottledReporter(changed)
        self.timings: dict[str, float] = {}
        self.placement: dict[str, list[str]] = {"chunk": [], "mix": [], "finish": []}
        self.stage = "setup"
        self.guard = StageGuard(record, self.reporter)  # each stage run: its failure named
        self.plan_of_pictures: pictures.PicturePlan | None = None
        self._pictures: dict[int, asyncio.Event] = {}
        self.pictures_task: asyncio.Future | None = None
        self.speech_keys: list[str] = []
        self.lengths = LineLengths(store)
        self.speech_changed = asyncio.Event()
        self.video: VideoStage | None = None  # its chunks and preview, from the run's start
        self.motion: MotionStage | None = None  # its generated clips (video_model)
        self.talking: TalkingStage | None = None  # its talking shots (shots talking)
        self.portraits_ready = asyncio.Event()  # the cast's portraits are stored (or none)
        self.lines_ready: dict[int, asyncio.Event] = {}  # line (script order) -> stored
        self.beds = bed_parts.BedPlan()  # its generated beds, once the timeline is final

    async def run(self) -> RenderResult:
        self.video = VideoStage(self)
        self.motion = MotionStage(self)
        self.talking = TalkingStage(self)
        try:
            return await self._run()
        finally:
            self.reporter.flush()  # the last counts passed on; no timer outlives the job

    async def _run(self) -> RenderResult:
        # One encoder for every chunk of the job, resolved where chunks run, before any
        # chunk is keyed; the resolved name is what the settings (and the manifest) say.
        encoder = await self.executor.resolve_encoder(self.settings.encoder)
        self.settings = self.settings.model_copy(update={"encoder": encoder})
        voices = cast_voices(self.storyboard, self.settings, self.out_dir)
        self.record.scene_parts = []  # this run's keys and times, noted as they are known
        for scene, status in enumerate(self.record.scenes):
            if status != SceneStatus.done:  # done: a retry that only remakes the outputs
                self._set_scene(scene, SceneStatus.running)
        versions = {"speech": self.executor.version("speech"),
                    "images": self.executor.version("image")}
        pictures_made = asyncio.ensure_future(self._timed(
            "images", self.guard.run("images", self._make_pictures(versions["images"])),
            beside=True))
        self.pictures_task = pictures_made
        children: list[asyncio.Future] = [pictures_made]
        if self.motion.scenes:  # clips from each picture, beside everything else
            versions["motion"] = self.executor.version("motion")
            self.motion.start(versions["motion"])
            self.motion.task = asyncio.ensure_future(self._timed(
                "clips", self.guard.run("clips", self.motion.make()), beside=True))
            children.append(self.motion.task)
        if self.talking.lines:  # close-ups from each line's speech, beside everything else
            versions["talking"] = self.executor.version("talking")
            self.talking.start(versions["talking"])
            self.talking.task = asyncio.ensure_future(self._timed(
                "talking", self.guard.run("talking", self.talking.make()), beside=True))
            children.append(self.talking.task)
        clips = [t for t in (self.motion.task, self.talking.task) if t]
        if bed_parts.uses_beds(self.storyboard, self.settings):  # its workers' version now:
            versions["beds"] = self.executor.version("beds")  # a missing model fails early
        requests, self.speech_keys = speech_parts(self.storyboard, self.settings, voices,
                                                   versions["speech"])
        self.lines_ready = {i: asyncio.Event() for i in range(len(self.speech_keys))}
        self._note_parts()
        early = asyncio.ensure_future(self.video.stream_early())
        children.append(early)
        speech = asyncio.ensure_future(self._timed("speech", self.guard.run("speech", self._make(
            "speech", self.speech_keys, requests, scene_of_line(self.storyboard),
            self.lines_ready))))
        children.append(speech)
        try:  # a failure of pictures stops the job now, not when speech is done
            await first_failure(speech, pictures_made, *clips, wait_for=[speech])
            early.cancel()  # the full timeline takes over; chunks already started go on
            timeline = self.video.plan(self.storyboard, self.speech_keys)
            beds = [asyncio.ensure_future(self._timed("beds", self.guard.run(
                "beds", self._make_beds(timeline, versions["beds"])), beside=True))
                    ] if "beds" in versions else []
            children += beds
            mix = asyncio.ensure_future(self.guard.run("audio", self._mix(timeline, *beds)))
            video = asyncio.ensure_future(self._timed("video", self.guard.run(
                "video", self.video.make(timeline))))
            children += [mix, video]
            chunk_keys, sound, *_ = await first_failure(video, mix, pictures_made, *clips,
                                                        *beds)
        except GeneratorExit:  # the process is going (SIGTERM): nothing may be awaited now,
            raise  # and the job is not failed: its record stays running and resumes
        except BaseException:  # cancelled, or a stage failed: what is in flight stops now
            self.stage = self.guard.stage or self.stage
            for child in self._in_flight(children):  # (the parts stored so far are kept)
                child.cancel()
            await asyncio.gather(*self._in_flight(children), return_exceptions=True)
            raise
        finished = await self._timed("mux", self.guard.run(
            "mux", self._finish(timeline, chunk_keys, sound)))
        main, *renditions = finished
        # Timed apart: not counted twice.
        self.timings["mux"] -= self.timings["check"] + finished[main].qc_seconds
        self.report("mux", 1, 1)
        for scene in range(len(self.storyboard.scenes)):
            self._set_scene(scene, SceneStatus.done)
        made = outputs.Made(
            video=self.out_dir / main, timeline=timeline, voices=voices,
            backends={"analysis": "local", **versions, "audio": audio.AUDIO_VERSION,
                      "ffmpeg": finished[main].ffmpeg},
            speech_keys=self.speech_keys, pictures=self.plan_of_pictures,
            motion_keys=self.motion.keys + self.talking.keys, bed_keys=self.beds.keys,
            shot_keys=list(self.talking.shown(timeline, range(len(timeline.shots))).values()),
            chunk_keys=chunk_keys, soundtrack=sound, info=finished[main].info,
            renditions={name: finished[name].info for name in renditions})
        self.video.preview.end()  # the playlist is whole: players stop asking for more
        made.preview, made.preview_files = self.video.preview.report(), self.video.preview.files()
        outputs.write_manifest(self.out_dir, self.record.id, self.store, self.storyboard,
                               self.settings, made, self.timings)
        self.stage, self.timings["qc"] = "qc", finished[main].qc_seconds  # measured there
        finishing.keep_qc(self.out_dir, finished[main], self.settings)
        return RenderResult(self.out_dir, made.video, self.storyboard, timeline.duration,
                            self.timings, self.placement, list(self.executor.spans),
                            self.video.preview.first_seconds)

    def _in_flight(self, children: list[asyncio.Future]) -> list[asyncio.Future]:
        return [*children, *self.video.in_flight()]

    async def _timed(self, stage: str, work, beside: bool = False):
        """Time a stage; ``beside`` work runs next to the current stage without becoming it
        (so errors still name the stage that was running). Its last counts are passed on
        when it ends."""
        started = time.perf_counter()
        if not beside:
            self.stage = stage
        try:
            return await work
        finally:
            self.timings[stage] = time.perf_counter() - started
            self.reporter.flush()

    # ---- parts -----------------------------------------------------------------------------

    async def _make_pictures(self, version: str) -> None:
        """Each scene's picture for every shape the outputs have (main size first)."""
        plan = pictures.plan_pictures(self.storyboard, self.settings, version)
        self.plan_of_pictures = plan
        self.pictures = {i: asyncio.Event() for i in range(len(plan.requests))}
        self._note_parts()
        await pictures.store_own_stills(plan, self.store)
        requests = plan.requests
        if plan.looks:
            try:  # they come before every scene: no scene is named
                drawn = await pictures.make_portraits(plan, self.executor, self.store)
            except VidgenError as exc:
                raise RenderError(f"the characters' portraits: {exc}", public="the characters' "
                                  f"portraits: {client_message(exc)}") from exc
            if self.settings.ip_adapter:
                requests = pictures.drawn_from(requests, drawn)
        self.portraits_ready.set()
        count = len(self.storyboard.scenes)
        await self._make("images", plan.keys, requests,
                         [i % count for i in range(len(requests))], self.pictures)

    async def _make(self, stage: str, keys: list[str], requests: list, scene_of: list[int],
                    ready: dict[int, asyncio.Event] | None = None) -> None:
        """Send what the store lacks to the workers; store each result as it arrives."""
        kind: Kind = "speech" if stage == "speech" else "image"
        missing = [i for i, key in enumerate(keys) if not self.store.has(key)]
        done = len(keys) - len(missing)
        for i in set(range(len(keys))) - set(missing):
            if ready is not None:
                ready[i].set()
            self._part_ready(stage, i)
        self.report(stage, done, len(keys))
        try:
            async for n, data in self.executor.map(kind, [requests[i] for i in missing]):
                done = self._store(stage, keys, missing[n], data, ready, done)
        except VidgenError:
            # A batch fails whole: ask again one by one, keep every good part, name the bad.
            failures = []
            for index in [i for i in missing if not self.store.has(keys[i])]:
                try:
                    data = [d async for _, d in self.executor.map(kind, [requests[index]])][0]
                except VidgenError as exc:
                    failures.append((index, exc))
                    continue
                done = self._store(stage, keys, index, data, ready, done)
            if failures:  # none: alone every request worked (a flaky batch), the job goes on
                index, exc = failures[0]
                scene, what = scene_of[index], f"scene {scene_of[index] + 1}"
                raise RenderError(f"{what}: {exc}", stage=stage, scene=scene,
                                  public=f"{what}: {client_message(exc)}") from exc

    def _store(self, stage: str, keys: list[str], index: int, data: bytes,
               ready: dict[int, asyncio.Event] | None, done: int) -> int:
        self.store.put(keys[index], data)
        if ready is not None:
            ready[index].set()
        if stage == "speech":
            self.lengths.note(keys[index], data)  # the line's length comes with it
            self.speech_changed.set()
        self._part_ready(stage, index)
        self.report(stage, done + 1, len(keys))
        return done + 1

    async def _make_beds(self, timeline: Timeline, version: str) -> None:
        """The scenes' generated beds (bed_parts.py), as long as the timeline says."""
        self.beds = bed_parts.plan_beds(self.storyboard, self.settings, timeline, version)
        await bed_parts.make_beds(self.executor, self.store, self.beds,
                                  lambda done, total: self.report("beds", done, total))

    async def _mix(self, timeline: Timeline, beds: asyncio.Future | None = None
                   ) -> soundtrack.Soundtrack:
        if beds is not None:  # the generated beds first: the mix plays them
            try:
                await beds
            except BaseException:  # the beds stage's own failure is the job's error
                raise self.guard.stopped("audio") from None
        sound = await soundtrack.make_soundtrack(
            self.executor, self.store, self.lengths, self.speech_keys, self.storyboard,
            self.settings, timeline, self.out_dir, self.beds.by_scene() or None)
        self.timings["audio"] = sound.seconds  # it ran beside the video, not after it
        if sound.node is not None:
            self.placement["mix"].append(sound.node)
        return sound

    # ---- finishing -------------------------------------------------------------------------

    async def _finish(self, timeline: Timeline, chunk_keys: dict[tuple[int, int], list[str]],
                      sound: soundtrack.Soundtrack) -> dict[str, finishing.Finished]:
        """Every size joined, muxed with the soundtrack and checked by the executor (the main
        one's QC measured there too); each video's file name, main first, and its result.
        The check and QC are timed apart from the mux."""
        self.report("mux", 0, 1)
        ranges = timeline.chunks(self.settings.chunk_seconds)
        listings = {size: [(key, (b - a) / timeline.fps)
                           for key, (a, b) in zip(chunk_keys[size], ranges, strict=True)]
                    for size in self.video.sizes}
        qc = finishing.qc_inputs(self.out_dir, timeline, self.settings, sound.exports)
        finished = await finishing.finish_videos(
            self.executor, self.out_dir, self.record.id, listings, self.store, sound.keys[0],
            self.storyboard.title, self.settings, timeline.total_frames, qc)
        self.placement["finish"] += [f.node for f in finished.values()]
        self.timings["check"] = max(f.check_seconds for f in finished.values())
        return finished

    # ---- bookkeeping -----------------------------------------------------------------------

    def report(self, stage: str, done: int, total: int) -> None:
        self.record.report(stage, done, total)
        self.reporter.progress(self.record)

    def _note_parts(self) -> None:
        """Put each scene's part keys in the record (the web monitor serves a scene's
        picture and speech by them), keeping the ready times this run has noted."""
        old, parts, at = self.record.scene_parts, [], 0
        plan = self.plan_of_pictures
        for i, scene in enumerate(self.storyboard.scenes):
            lines = self.speech_keys[at:at + len(scene.lines)]
            at += len(scene.lines)
            image = plan.image_keys[i] if plan else None
            prev = old[i] if i < len(old) else SceneParts()
            parts.append(SceneParts(
                image=image, speech=lines,
                image_ready=prev.image_ready if prev.image == image else None,
                speech_ready=prev.speech_ready if prev.speech == lines else None))
        self.record.scene_parts = parts

    def _part_ready(self, stage: str, index: int) -> None:
        """Note when a scene's picture, or the last of its lines, was stored."""
        parts = list(self.record.scene_parts)
        if stage == "images" and index < len(parts):
            parts[index] = parts[index].model_copy(update={"image_ready": time.time()})
        elif stage == "speech" and parts:
            scene = scene_of_line(self.storyboard)[index]
            if all(self.store.has(k) for k in parts[scene].speech):
                parts[scene] = parts[scene].model_copy(update={"speech_ready": time.time()})
        self.record.scene_parts = parts

    def _set_scene(self, index: int, status: SceneStatus) -> None:
        if self.record.scenes[index] != status:
            self.record.set_scene(index, status)
            self.reporter.state(self.record)
