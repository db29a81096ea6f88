"""The recipe for one job: which parts a video needs, made in an order that streams.

Speech and pictures go to the worker pools together. Speech lengths fix the timeline; then
each chunk of the video is encoded as soon as the pictures it shows exist, and the
soundtrack is mixed beside them. Every part is stored as soon as it exists, under a key that
hashes everything that determines it, so a failed, cancelled or edited job redoes only what
is missing. The Farm (farm.py) decides when a job runs; this module decides what it does.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from vidgen_ray import audio
from vidgen_ray.config import RenderSettings
from vidgen_ray.errors import RenderError, SettingsError, VidgenError, client_message
from vidgen_ray.farm.actors import ffmpeg_tasks
from vidgen_ray.farm.actors.pool import WorkerPool
from vidgen_ray.farm.jobs import JobRecord, SceneParts, SceneStatus
from vidgen_ray.images import card_text, portraits, wants_portraits
from vidgen_ray.images.base import CharacterLook, ImageRequest
from vidgen_ray.pipeline import assembly, finishing, manifest, media, subtitles
from vidgen_ray.programs import ffmpeg_version
from vidgen_ray.speech import create_speech_backend
from vidgen_ray.speech.base import Speech, SpeechRequest
from vidgen_ray.speech.voice_casting import apply_cast, write_cast
from vidgen_ray.storage import LocalStore, content_key
from vidgen_ray.storyboard import Storyboard
from vidgen_ray.timeline import OVERLAPPING, Pacing, Timeline, plan_timeline, transition_after

PART_SUFFIXES = {"speech": ".wav", "image": ".png", "portrait": ".png", "chunk": ".mp4",
                 "soundtrack": ".wav", "loudness": ".json"}


@dataclass
class RenderResult:
    out_dir: Path
    video: Path
    storyboard: Storyboard
    duration: float
    timings: dict[str, float] = field(default_factory=dict)
    placement: dict[str, list[str]] = field(default_factory=dict)  # part kind -> node ids


@dataclass
class Pools:
    image: WorkerPool
    speech: WorkerPool
    cluster: dict[str, float]


class JobRun:
    """Makes one job's video. ``changed`` is called whenever the record's state moves."""

    def __init__(self, record: JobRecord, storyboard: Storyboard, settings: RenderSettings,
                 out_dir: Path, store: LocalStore, pools: Pools,
                 changed: Callable[[JobRecord], None]):
        self.record, self.storyboard, self.settings = record, storyboard, settings
        self.out_dir, self.store, self.pools, self.changed = out_dir, store, pools, changed
        self.timings: dict[str, float] = {}
        self.placement: dict[str, list[str]] = {"chunk": [], "mix": []}
        self.stage = "setup"
        self.info: dict = {}  # what the video check found
        self.renditions: dict[str, dict] = {}  # file name -> its check, for each extra size
        # The main size first, then each rendition: chunks are encoded for every one.
        self._sizes = [settings.size, *settings.rendition_sizes]
        self._pictures: dict[int, asyncio.Event] = {}
        self._pictures_task: asyncio.Future | None = None
        self._image_keys: list[str] = []  # the main size's pictures
        # Each picture size (one per shape, see RenderSettings.picture_sizes), its keys.
        self._shape_keys: dict[tuple[int, int], list[str]] = {}
        self._portrait_keys: dict[str, str] = {}
        self._speech_keys: list[str] = []
        self._speech_changed = asyncio.Event()
        self._chunk_tasks: dict[tuple[tuple[int, int], int, int], asyncio.Future | None] = {}
        self._chunks_done = 0
        self._durations: dict[str, float] = {}
        self._exports: list[str] = []  # sound files written beside the video
        self._soundtrack_keys: list[str] = []

    async def run(self) -> RenderResult:
        voices = self._cast()
        self.record.scene_parts = []  # this run's keys and times, noted as they are known
        for scene, status in enumerate(self.record.scenes):
            if status != SceneStatus.done:  # done: a retry that only remakes the outputs
                self._set_scene(scene, SceneStatus.running)
        # Keys name the version the workers run, which may differ from this process's.
        versions = {"speech": _worker_version(self.pools.speech),
                    "images": _worker_version(self.pools.image)}
        pictures = asyncio.ensure_future(self._timed(
            "images", self._make_pictures(versions["images"]), beside=True))
        self._pictures_task = pictures
        children: list[asyncio.Future] = [pictures]
        speech_requests, speech_keys = self._speech_parts(voices, versions["speech"])
        self._speech_keys = speech_keys
        self._note_parts()
        early = asyncio.ensure_future(self._stream_early_chunks())
        children.append(early)
        try:
            await self._timed("speech", self._make(
                "speech", speech_keys, speech_requests, self.pools.speech,
                self._scene_of_line()))
            early.cancel()  # the full timeline takes over; chunks already started go on
            speeches = [Speech.from_wav(self.store.get(k)) for k in speech_keys]
            timeline = self._plan(self.storyboard, [s.duration for s in speeches])
            mix = asyncio.ensure_future(self._mix(timeline, speeches))
            chunks = asyncio.ensure_future(self._timed("video", self._make_video(timeline)))
            children += [mix, chunks]
            chunk_keys, (soundtrack, loudness), _ = await self._settle(chunks, mix, pictures)
        except asyncio.CancelledError:
            for child in self._in_flight(children):
                child.cancel()
            await asyncio.gather(*self._in_flight(children), return_exceptions=True)
            raise
        except GeneratorExit:  # the process is going (SIGTERM): nothing may be awaited now,
            raise  # and the job is not failed: its record stays running and resumes
        except BaseException:  # let the other parts in flight finish and be kept
            early.cancel()
            await asyncio.gather(*self._in_flight(children), return_exceptions=True)
            raise
        video = await self._timed("mux", self._finish(timeline, chunk_keys, soundtrack))
        self.timings["mux"] -= self.timings["check"]  # timed apart: not counted twice
        self._report("mux", 1, 1)
        for scene in range(len(self.storyboard.scenes)):
            self._set_scene(scene, SceneStatus.done)
        self._write_manifest(video, timeline, voices, speech_keys, chunk_keys, loudness,
                             {"analysis": "local", **versions, "audio": audio.AUDIO_VERSION,
                              "ffmpeg": ffmpeg_version()})
        await self._timed("qc", asyncio.to_thread(
            finishing.write_qc, self.out_dir, video, timeline, self.settings))
        return RenderResult(self.out_dir, video, self.storyboard, timeline.duration,
                            self.timings, self.placement)

    def _cast(self) -> dict[str, str]:
        """Every speaker's voice: the cast file's pins, then the backend's casting; written
        to cast.json at once, so a later job can pass it back with --cast."""
        settings = self.settings
        board, narrator = apply_cast(self.storyboard, {"voices": settings.cast},
                                     settings.tts_model, settings.tts_voice)
        backend = create_speech_backend(settings.tts_model, settings)
        try:
            voices = backend.cast(board, narrator)
        except SettingsError as exc:
            if settings.cast:  # say where a pinned voice came from
                raise SettingsError(f"{exc.message} (voices pinned by --cast are checked "
                                    "too: fix or delete that entry)", field="cast") from None
            raise
        self.out_dir.mkdir(parents=True, exist_ok=True)
        write_cast(self.out_dir / "cast.json", settings.tts_model, voices)
        return voices

    def _in_flight(self, children: list[asyncio.Future]) -> list[asyncio.Future]:
        return [*children, *(t for t in self._chunk_tasks.values() if t is not None)]

    async def _settle(self, *tasks: asyncio.Future) -> list:
        """Let every task finish (each stores what it makes), then raise a failure: the
        pictures' own first, since chunks waiting for a missing picture fail because of it."""
        results = await asyncio.gather(*tasks, return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            raise next((f for f in failures if getattr(f, "stage", None) == "images"),
                       failures[0])
        return results

    async def _timed(self, stage: str, work, beside: bool = False):
        """Time a stage; ``beside`` work runs next to the current stage without becoming it
        (so errors still name the stage that was running)."""
        started = time.perf_counter()
        if not beside:
            self.stage = stage
        try:
            return await work
        finally:
            self.timings[stage] = time.perf_counter() - started

    # ---- parts -----------------------------------------------------------------------------

    def _speech_parts(self, voices: dict[str, str], version: str
                      ) -> tuple[list[SpeechRequest], list[str]]:
        board, settings = self.storyboard, self.settings
        requests = [SpeechRequest(text=line.text, voice=voices[line.speaker],
                                  language=line.language or board.language,
                                  speed=settings.tts_speed)
                    for scene in board.scenes for line in scene.lines]
        keys = [content_key("speech", backend=settings.tts_model, version=version, request=r)
                for r in requests]
        return requests, keys

    async def _make_pictures(self, version: str) -> None:
        """Each scene's picture for every shape the outputs have (main size first)."""
        settings = self.settings
        shapes = list(dict.fromkeys(settings.picture_sizes.values()))
        looks = portraits.character_looks(self.storyboard) if wants_portraits(settings) else {}
        side = portraits.portrait_side(settings.image_resolution)
        self._portrait_keys = {name: content_key("portrait", **portraits.portrait_key_fields(
            settings.image_model, version, look, side)) for name, look in looks.items()}
        narration = card_text.shows_narration(settings.card_text, settings.burn_subtitles)
        language = self.storyboard.language
        requests = [ImageRequest(scene_number=i + 1, title=s.title, description=s.description,
                                 characters=tuple(s.characters), mood=s.mood, width=width,
                                 height=height,
                                 seed=portraits.picture_seed(self.storyboard, i, looks),
                                 looks=tuple(looks[n] for n in s.characters if n in looks),
                                 language=language, caption=card_text.card_words(
                                     s.description, [line.text for line in s.lines], narration))
                    for width, height in shapes for i, s in enumerate(self.storyboard.scenes)]
        # Keys first (chunks streaming early look them up); portraits count by their keys.
        references = self._portrait_keys if settings.ip_adapter else {}
        keys = [content_key("image", backend=settings.image_model, version=version,
                            request=portraits.scene_key_fields(r, references)) for r in requests]
        count = len(self.storyboard.scenes)
        own = {i: s.media for i, s in enumerate(self.storyboard.scenes) if s.media}
        for i, shown in own.items():  # the user's own picture or clip: the still of every shape
            key = content_key("image", shown=shown.kind, own=self._own(
                i, media.digest_checked, shown.path))
            for shape in range(len(shapes)):
                keys[shape * count + i] = key
        self._shape_keys = {shape: keys[k * count:(k + 1) * count]
                            for k, shape in enumerate(shapes)}
        self._image_keys = keys[:count]
        self._pictures = {i: asyncio.Event() for i in range(len(requests))}
        self._note_parts()
        for i, shown in own.items():
            if not self.store.has(self._image_keys[i]):
                _, png = await asyncio.to_thread(self._own, i, media.own_still, shown.kind,
                                                 shown.path)
                self.store.put(self._image_keys[i], png)
        if looks:
            drawn = await self._portraits(looks, side)
            if settings.ip_adapter:
                requests = [replace(r, looks=tuple(replace(x, portrait=drawn[x.name])
                                                   for x in r.looks)) for r in requests]
        await self._make("images", keys, requests, self.pools.image,
                         [i % count for i in range(len(requests))], self._pictures)

    @staticmethod
    def _own(scene: int, read, *args):
        """``read(*args)`` on a scene's own media; a failure is the scene's pictures'."""
        try:
            return read(*args)
        except VidgenError as exc:
            raise RenderError(f"scene {scene + 1}: {exc}", stage="images", scene=scene,
                              public=f"scene {scene + 1}: {client_message(exc)}") from exc

    async def _portraits(self, looks: dict[str, CharacterLook], side: int) -> dict[str, bytes]:
        """Each character's reference portrait, made once through the image pool and kept
        under its content key, so later scenes and later jobs reuse it."""
        keys = self._portrait_keys
        missing = [name for name in looks if not self.store.has(keys[name])]
        requests = [portraits.portrait_request(looks[name], side) for name in missing]
        async for n, png in self.pools.image.map(requests):
            self.store.put(keys[missing[n]], png)
        return {name: self.store.get(keys[name]) for name in looks}

    async def _make(self, stage: str, keys: list[str], requests: list, pool: WorkerPool,
                    scene_of: list[int], ready: dict[int, asyncio.Event] | None = None) -> None:
        """Send what the store lacks to the pool; store each result as it arrives."""
        missing = [i for i, key in enumerate(keys) if not self.store.has(key)]
        done = len(keys) - len(missing)
        for i in set(range(len(keys))) - set(missing):
            if ready is not None:
                ready[i].set()
            self._part_ready(stage, i)
        self._report(stage, done, len(keys))
        try:
            async for n, data in pool.map([requests[i] for i in missing]):
                done = self._store(stage, keys, missing[n], data, ready, done)
        except VidgenError:
            # A batch fails whole: ask again one by one, keep every good part, name the bad.
            failures = []
            for index in [i for i in missing if not self.store.has(keys[i])]:
                try:
                    data = (await pool.call([requests[index]]))[0]
                except VidgenError as exc:
                    failures.append((index, exc))
                    continue
                done = self._store(stage, keys, index, data, ready, done)
            if failures:  # none: alone every request worked (a flaky batch), the job goes on
                index, exc = failures[0]
                scene, what = scene_of[index], f"scene {scene_of[index] + 1} failed in {stage}"
                self._set_scene(scene, SceneStatus.failed)
                raise RenderError(f"{what}: {exc}", stage=stage, scene=scene,
                                  public=f"{what}: {client_message(exc)}") from exc

    def _store(self, stage: str, keys: list[str], index: int, data: bytes,
               ready: dict[int, asyncio.Event] | None, done: int) -> int:
        self.store.put(keys[index], data)
        if ready is not None:
            ready[index].set()
        if stage == "speech":
            self._speech_changed.set()
        self._part_ready(stage, index)
        self._report(stage, done + 1, len(keys))
        return done + 1

    def _scene_of_line(self) -> list[int]:
        return [s for s, scene in enumerate(self.storyboard.scenes) for _ in scene.lines]

    def _plan(self, board: Storyboard, durations: list[float]) -> Timeline:
        seconds, at = [], 0
        for scene in board.scenes:
            seconds.append(durations[at:at + len(scene.lines)])
            at += len(scene.lines)
        return plan_timeline(board, seconds, self._pacing(), seed=self.settings.seed)

    def _pacing(self) -> Pacing:
        return Pacing(fps=self.settings.fps, crossfade=self.settings.crossfade,
                      transition=self.settings.transition)

    async def _stream_early_chunks(self) -> None:
        """Start chunks while speech is still being made. A scene's place in the timeline
        depends only on the scenes before it, so once the first k scenes are voiced, every
        chunk ending a dissolve's length before scene k-1 ends is final (and not the short
        last one, which joins its neighbour)."""
        scenes, prefix = self.storyboard.scenes, 0
        size = max(1, round(self.settings.chunk_seconds * self.settings.fps))
        fade = round(self.settings.crossfade * self.settings.fps)
        while prefix < len(scenes):
            self._speech_changed.clear()
            voiced = self._voiced_scenes()
            if voiced > prefix:
                prefix = voiced
                board = self.storyboard.model_copy(update={"scenes": scenes[:prefix]})
                lines = sum(len(s.lines) for s in scenes[:prefix])
                timeline = self._plan(board, [self._duration(k)
                                              for k in self._speech_keys[:lines]])
                safe_end = timeline.total_frames - fade
                for a in range(0, safe_end, size):
                    if safe_end - (a + size) >= size / 2:
                        self._launch(timeline, a, a + size)
            await self._speech_changed.wait()

    def _duration(self, key: str) -> float:
        if key not in self._durations:  # read each line once, not once per new scene
            self._durations[key] = Speech.from_wav(self.store.get(key)).duration
        return self._durations[key]

    def _voiced_scenes(self) -> int:
        """How many scenes from the start have all their lines voiced."""
        at = 0
        for count, scene in enumerate(self.storyboard.scenes):
            if not all(self.store.has(k) for k in self._speech_keys[at:at + len(scene.lines)]):
                return count
            at += len(scene.lines)
        return len(self.storyboard.scenes)

    def _launch(self, timeline: Timeline, a: int, b: int) -> None:
        """Encode frames [a, b) at every size unless stored or already on their way."""
        for size in self._sizes:
            if (size, a, b) in self._chunk_tasks:
                continue
            key = self._chunk_key(timeline, a, b, size)
            self._chunk_tasks[(size, a, b)] = (
                None if self.store.has(key) else
                asyncio.ensure_future(self._encode(timeline, a, b, size, key)))

    async def _encode(self, timeline: Timeline, a: int, b: int, size: tuple[int, int],
                      key: str) -> None:
        scenes = assembly.scenes_in(timeline, a, b)
        for scene in scenes:  # stream: start as soon as this chunk's pictures exist
            await self._picture(scene, size)
        stills = {s: self.store.get(self._keys_for(size)[s]) for s in scenes}
        shown = {s: self.storyboard.scenes[s].media for s in scenes}
        clips = {s: media.read_checked(m.path) for s, m in shown.items()
                 if m and m.kind == "video"}
        for s in clips:
            del stills[s]
        try:
            mp4, node = await ffmpeg_tasks.encode_chunk(
                self.record.id, timeline, a, b, stills, self.settings, self.pools.cluster,
                size, self._burned(timeline, a, b, size), clips or None)
        except VidgenError as exc:
            scene = _blame(stills)
            what = f"frames {a}-{b} at {size[0]}x{size[1]}"
            what = what if scene is None else f"scene {scene + 1} ({what})"
            raise RenderError(f"{what}: {exc}", stage="video", scene=scene,
                              public=f"{what}: {client_message(exc)}") from exc
        self.store.put(key, mp4)
        self.placement["chunk"].append(node)
        self._chunks_done += 1
        self._report("video", self._chunks_done, max(self._chunks_done, len(self._chunk_tasks)))

    def _burned(self, timeline: Timeline, a: int, b: int, size: tuple[int, int]) -> str | None:
        """The ASS script burned into frames [a, b), or None without burn-in."""
        if not self.settings.burn_subtitles:
            return None
        return subtitles.burn_script(timeline.cues, timeline.fps, a, b, self.settings, size,
                                     subtitles.scene_cuts(timeline, self._next_fade(timeline)))

    def _next_fade(self, timeline: Timeline) -> int | None:
        """Frames the transition after the timeline's last scene will overlap it, when the
        timeline stops short of the storyboard (chunks made while later scenes are voiced)."""
        last = len(timeline.clips) - 1
        if last + 1 >= len(self.storyboard.scenes):
            return None
        kind = transition_after(self.storyboard, last, self._pacing())
        return round(self.settings.crossfade * timeline.fps) if kind in OVERLAPPING else 0

    async def _make_video(self, timeline: Timeline) -> dict[tuple[int, int], list[str]]:
        """Every size's chunk keys, in order."""
        ranges = timeline.chunks(self.settings.chunk_seconds)
        for a, b in ranges:
            self._launch(timeline, a, b)
        stored = sum(task is None for task in self._chunk_tasks.values())
        self._chunks_done += stored
        self._report("video", self._chunks_done, len(ranges) * len(self._sizes))
        # Early chunks are always among the final ones (see _stream_early_chunks); all of
        # them are awaited, so none is left running.
        await self._settle(*(t for t in self._chunk_tasks.values() if t is not None))
        return {size: [self._chunk_key(timeline, a, b, size) for a, b in ranges]
                for size in self._sizes}

    def _keys_for(self, size: tuple[int, int]) -> list[str]:
        """The picture keys an output size is made from: those drawn for its shape."""
        return self._shape_keys[self.settings.picture_sizes[size]]

    async def _picture(self, scene: int, size: tuple[int, int]) -> None:
        """Wait for a scene's picture; give up if picture-making ended without it."""
        shape = list(self._shape_keys).index(self.settings.picture_sizes[size])
        ready = self._pictures[shape * len(self.storyboard.scenes) + scene]
        if ready.is_set():
            return
        waiter = asyncio.ensure_future(ready.wait())
        await asyncio.wait([waiter, self._pictures_task], return_when=asyncio.FIRST_COMPLETED)
        if not ready.is_set():
            waiter.cancel()
            raise RenderError(f"scene {scene + 1} has no picture", stage="video", scene=scene)

    def _chunk_key(self, timeline: Timeline, start: int, end: int,
                   size: tuple[int, int]) -> str:
        scenes = assembly.scenes_in(timeline, start, end)
        return content_key(
            "chunk", assembly=assembly.ASSEMBLY_VERSION, start=start, end=end,
            segments=timeline.segments(start, end), clips=[timeline.clips[s] for s in scenes],
            images=[self._keys_for(size)[s] for s in scenes], size=size,
            fps=timeline.fps, encoder=assembly.encoder_args(self.settings),
            subtitles=self._burned(timeline, start, end, size),
            fonts=self.settings.subtitle_fonts_dir if self.settings.burn_subtitles else None)

    async def _mix(self, timeline: Timeline, speeches: list[Speech]) -> tuple[bytes, dict]:
        key = self._soundtrack_key(timeline)
        report = content_key("loudness", soundtrack=key)
        self._soundtrack_keys = [key, report]
        if not self.settings.stems and self.store.has(key) and self.store.has(report):
            self.timings["audio"] = 0.0  # mixed before; stems are not kept, so they remix
            return self.store.get(key), json.loads(self.store.get(report))
        rates = {s.sample_rate for s in speeches}
        if len(rates) != 1:
            raise RenderError(f"speech came at several sample rates {sorted(rates)}: the "
                              "parts folder mixes backends; delete its speech folder and "
                              "render again", stage="audio")
        rate = rates.pop()
        track = audio.place_speech([c.start for c in timeline.cues],
                                   [s.samples for s in speeches], rate, timeline.duration)
        try:
            wav, loudness, exports, seconds, node = await ffmpeg_tasks.mix_soundtrack(
                self.record.id, Speech(track, rate).to_wav(), self.storyboard, timeline,
                self.settings, self.pools.cluster,
                {name: media.read_checked(name)
                 for name in media.music_files(self.storyboard, self.settings.music)})
        except VidgenError as exc:
            raise RenderError(f"soundtrack: {exc}", stage="audio",
                              public=f"soundtrack: {client_message(exc)}") from exc
        self.timings["audio"] = seconds  # it ran beside the video, not after it
        self.placement["mix"].append(node)
        for name, data in exports.items():  # mix.<ext> and stems/<bus>.<ext>, when asked for
            (self.out_dir / name).parent.mkdir(parents=True, exist_ok=True)
            (self.out_dir / name).write_bytes(data)
        self._exports = sorted(exports)
        self.store.put(key, wav)
        self.store.put(report, json.dumps(loudness).encode("utf-8"))
        return wav, loudness

    def _soundtrack_key(self, timeline: Timeline) -> str:
        board = self.storyboard
        return content_key(
            "soundtrack", audio=audio.AUDIO_VERSION, speech=self._speech_keys, fps=timeline.fps,
            clips=timeline.clips, cues=[(c.scene, c.line, c.start, c.end) for c in timeline.cues],
            scenes=[(s.mood, s.ambience, [c.model_dump() for c in s.sfx]) for s in board.scenes],
            seed=self.settings.seed, loudness=self.settings.loudness,
            music=[s.music for s in board.scenes], default_music=self.settings.music,
            volumes=(self.settings.music_volume, self.settings.ambience_volume),
            files={name: media.digest_checked(name)
                   for name in media.music_files(board, self.settings.music)})

    # ---- finishing -------------------------------------------------------------------------

    async def _finish(self, timeline: Timeline, chunk_keys: dict[tuple[int, int], list[str]],
                      soundtrack: bytes) -> Path:
        self._report("mux", 0, 1)
        started: list[float] = []

        def checking() -> None:
            self.stage = "check"
            started.append(time.perf_counter())

        listings = {size: self._listing(timeline, chunk_keys[size]) for size in self._sizes}
        checks = await finishing.mux_videos(self.out_dir, self.record.id, listings,
                                            soundtrack, self.storyboard.title, self.settings,
                                            timeline.total_frames, checking)
        self.timings["check"] = time.perf_counter() - started[0]
        main, *renditions = checks
        self.info = checks[main]
        self.renditions = {name: checks[name] for name in renditions}
        return self.out_dir / main

    def _listing(self, timeline: Timeline, keys: list[str]) -> list[tuple[Path, float]]:
        ranges = timeline.chunks(self.settings.chunk_seconds)
        return [(self.store.path(key), (b - a) / timeline.fps)
                for key, (a, b) in zip(keys, ranges, strict=True)]

    def _write_manifest(self, video: Path, timeline: Timeline, voices: dict[str, str],
                        speech_keys: list[str], chunk_keys: dict[tuple[int, int], list[str]],
                        loudness: dict, backends: dict[str, str]) -> None:
        board, settings = finishing.shown_media(self.storyboard, self.settings,
                                                self.store.root, self.out_dir)
        sidecars = finishing.write_sidecars(self.out_dir, timeline, board, settings)
        sidecars += finishing.write_edit_timelines(
            self.out_dir, self.storyboard, timeline, self.settings,
            [self.store.path(k) for k in self._image_keys],
            [self.store.path(k) for k in speech_keys], self._exports)
        keys = [*speech_keys, *self._portrait_keys.values(),
                *(k for ks in self._shape_keys.values() for k in ks),
                *(k for ks in chunk_keys.values() for k in ks), *self._soundtrack_keys]
        info = {**self.info, "scenes": len(timeline.clips), "lines": len(timeline.cues)}
        data = manifest.build_manifest(
            version=finishing.package_version(), storyboard=board,
            settings=settings, backends=backends, voices=voices, video=info,
            timings=self.timings,
            artifacts=[video, *(self.out_dir / name for name in self.renditions), *sidecars],
            parts={k: self.store.path(k) for k in keys}, loudness=loudness)
        data["job"] = self.record.id
        data["subtitles"] = finishing.subtitle_report(timeline, self.settings)
        if self._exports:
            data["sound"] = finishing.sound_exports(self.out_dir, self._exports)
        data["pictures"] = portraits.pictures_manifest(
            [self.store.get(k) for k in self._image_keys], self._portrait_keys)
        data["renditions"] = self.renditions
        # Everything this render leaves beside the video; anything else is moved to
        # parts/old/ (finishing.sweep_stale), so the folder is what this lists.
        data["outputs"] = sorted({*data["artifacts"], *self._exports, *finishing.ALWAYS})
        manifest.write_json(self.out_dir / "manifest.json", data)
        finishing.sweep_stale(self.out_dir, data["outputs"])

    # ---- bookkeeping -----------------------------------------------------------------------

    def _report(self, stage: str, done: int, total: int) -> None:
        self.record.report(stage, done, total)
        self.changed(self.record)

    def _note_parts(self) -> None:
        """Put each scene's part keys in the record (the web monitor serves a scene's
        picture and speech by them), keeping the ready times this run has noted."""
        old, parts, at = self.record.scene_parts, [], 0
        for i, scene in enumerate(self.storyboard.scenes):
            lines = self._speech_keys[at:at + len(scene.lines)]
            at += len(scene.lines)
            image = self._image_keys[i] if self._image_keys else None
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
            scene = self._scene_of_line()[index]
            if all(self.store.has(k) for k in parts[scene].speech):
                parts[scene] = parts[scene].model_copy(update={"speech_ready": time.time()})
        self.record.scene_parts = parts

    def _set_scene(self, index: int, status: SceneStatus) -> None:
        if self.record.scenes[index] != status:
            self.record.set_scene(index, status)
            self.changed(self.record)


def _blame(stills: dict[int, bytes]) -> int | None:
    """The scene a failed chunk fails for: the one whose picture does not decode, else the
    first it shows (a chunk showing two scenes fails for either)."""
    from PIL import Image, UnidentifiedImageError

    for scene, data in stills.items():
        try:
            with Image.open(io.BytesIO(data)) as image:
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            return scene
    return min(stills, default=None)


def _worker_version(pool: WorkerPool) -> str:
    versions = {info["backend"] for info in pool.ready_info}
    if len(versions) != 1:
        raise RenderError(f"the {pool.kind} workers run different backend versions "
                          f"{sorted(versions)}: install the same version on every node")
    return versions.pop()
