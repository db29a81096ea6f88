"""The driver, first version: one render's work as Ray tasks, streamed stage to stage.

Speech and pictures start together. Speech lengths fix the timeline; then every chunk of
the video is encoded as soon as the pictures it shows exist, while the soundtrack is mixed
beside them. Finished parts are kept (content-addressed, under OUTDIR/parts), so a failed
or interrupted render resumes where it stopped when run again.

The full farm (resident model workers, pools, backpressure, jobs) replaces the tasks here.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import ray

from vidgen_ray import assembly, audio, manifest, subtitles
from vidgen_ray.config import RenderSettings, ray_runtime_env
from vidgen_ray.errors import OutputError, RenderError, VidgenError
from vidgen_ray.ffmpeg import ffmpeg, ffmpeg_version
from vidgen_ray.images import create_image_backend
from vidgen_ray.images.base import ImageRequest
from vidgen_ray.source import load_storyboard, require_speech
from vidgen_ray.speech import create_speech_backend
from vidgen_ray.speech.base import Speech, SpeechRequest
from vidgen_ray.storage import LocalStore, content_key
from vidgen_ray.storyboard import Storyboard
from vidgen_ray.timeline import Pacing, Timeline, plan_timeline
from vidgen_ray.tools import find_tool

SPEECH_BATCH = 8  # lines per task: amortises process start-up without starving the pool
IMAGE_BATCH = 4
PART_SUFFIXES = {"speech": ".wav", "image": ".png", "chunk": ".mp4"}
Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass
class RenderResult:
    out_dir: Path
    video: Path
    storyboard: Storyboard
    duration: float
    timings: dict[str, float] = field(default_factory=dict)


# ---- Ray at the edge -----------------------------------------------------------------------

def connect(address: str | None) -> None:
    """Join the cluster at ``address``, or start a Ray on this machine, on loopback only."""
    if ray.is_initialized():
        return
    os.environ.update(ray_runtime_env())  # workers inherit the driver's environment
    if address:
        ray.init(address=address, logging_level="WARNING", log_to_driver=False)
        return
    os.environ.pop("RAY_ADDRESS", None)  # a stale address makes a local start hang
    ray.init(address="local", include_dashboard=False, logging_level="WARNING",
             log_to_driver=False, _node_ip_address="127.0.0.1",
             object_store_memory=_object_store_bytes())


def _object_store_bytes() -> int:
    """Ray's default (30 % of memory) overflows a small /dev/shm (containers) and then warns;
    a render's parts are small, so 2 GiB or less is plenty for one machine."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return int(min(2 * 1024**3, 0.3 * memory))


@ray.remote(max_retries=2)
def _speak(settings: RenderSettings, requests: list[SpeechRequest]) -> list[bytes]:
    backend = create_speech_backend(settings.tts_model, settings)
    return [speech.to_wav() for speech in backend.synthesize(requests)]


@ray.remote(max_retries=2)
def _draw(settings: RenderSettings, requests: list[ImageRequest]) -> list[bytes]:
    pngs = create_image_backend(settings.image_model, settings).generate(requests)
    return pngs[0] if len(pngs) == 1 else pngs  # one return value per request


@ray.remote(max_retries=2)
def _encode_chunk(timeline: Timeline, start: int, end: int, scenes: list[int],
                  settings: RenderSettings, *stills: bytes) -> bytes:
    return assembly.render_chunk(timeline, start, end, dict(zip(scenes, stills, strict=True)),
                                 settings)


@ray.remote(max_retries=2)
def _mix(speech_wav: bytes, storyboard: Storyboard, timeline: Timeline,
         settings: RenderSettings) -> tuple[bytes, dict, float]:
    import tempfile

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="vidgen-mix-") as tmp:
        work = Path(tmp)
        (work / "speech.wav").write_bytes(speech_wav)
        measured = audio.render_soundtrack(work / "speech.wav", storyboard, timeline,
                                           settings.seed, settings.loudness, work,
                                           work / "soundtrack.wav")
        return (work / "soundtrack.wav").read_bytes(), measured, time.perf_counter() - started


# ---- one render ----------------------------------------------------------------------------

class _Stages:
    """Wall-clock seconds per stage, and which stage is running (named in errors)."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self.current = "setup"

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self.current, started = name, time.perf_counter()
        yield
        self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - started


def render(source: str | Path | Storyboard, out_dir: Path, settings: RenderSettings,
           progress: Progress | None = None) -> RenderResult:
    stages = _Stages()
    with stages.stage("analyze"):
        storyboard = load_storyboard(source)
        require_speech(storyboard)
    out_dir = _prepare_output(out_dir)
    store = LocalStore(out_dir / "parts", PART_SUFFIXES)
    report = progress or (lambda stage, done, total: None)
    try:
        return _render(storyboard, out_dir, settings, store, stages, report)
    except RenderError as exc:
        raise RenderError(f"the {stages.current} stage failed: {exc}\nFinished parts are "
                          f"kept in {store.root}: run the same command again to resume.",
                          stage=stages.current) from exc


def _render(storyboard: Storyboard, out_dir: Path, settings: RenderSettings, store: LocalStore,
            stages: _Stages, report: Progress) -> RenderResult:
    for program in ("ffmpeg", "ffprobe"):  # fail before any work, not after it
        find_tool(program)
    speech_backend = create_speech_backend(settings.tts_model, settings)
    image_backend = create_image_backend(settings.image_model, settings)
    voices = speech_backend.cast(storyboard, settings.tts_voice)
    with stages.stage("start ray"):
        connect(settings.ray_address)
    with stages.stage("speech"):
        # Pictures are requested first and collected later: they run while speech is made.
        image_refs = _image_parts(storyboard, image_backend.version(), settings, store)
        speech_keys = _speech_parts(storyboard, voices, speech_backend.version(), settings,
                                    store, report)
        speeches = [Speech.from_wav(store.get(k)) for k in speech_keys]
    with stages.stage("timeline"):
        timeline = _plan(storyboard, speeches, settings)
        track = _speech_track(timeline, speeches)
        mix_ref = _mix.remote(track.to_wav(), storyboard, timeline, settings)
    with stages.stage("video"):
        chunks = _chunk_parts(timeline, image_refs, settings, store, report)
    soundtrack, loudness, stages.timings["audio"] = _get(mix_ref)  # it ran beside the video
    (out_dir / "soundtrack.wav").write_bytes(soundtrack)
    with stages.stage("mux"):
        video = out_dir / "video.mp4"
        listing = [(store.path(key), (b - a) / timeline.fps) for key, (a, b)
                   in zip(chunks.keys, timeline.chunks(settings.chunk_seconds), strict=True)]
        _mux(listing, out_dir / "soundtrack.wav", storyboard.title, video)
        (out_dir / "soundtrack.wav").unlink()
    with stages.stage("check"):
        info = assembly.check_video(video, settings, timeline.total_frames)
        info |= {"scenes": len(timeline.clips), "lines": len(timeline.cues)}
    artifacts = _write_sidecars(out_dir, storyboard, timeline)
    parts = {k: store.path(k) for k in [*speech_keys, *image_refs.keys, *chunks.keys]}
    backends = {"analysis": "local", "speech": speech_backend.version(),
                "images": image_backend.version(), "ffmpeg": ffmpeg_version()}
    data = manifest.build_manifest(
        version=_version(), storyboard=storyboard, settings=settings, backends=backends,
        voices=voices, video=info, timings=stages.timings, artifacts=[video, *artifacts],
        parts=parts, loudness=loudness)
    manifest.write_json(out_dir / "manifest.json", data)
    return RenderResult(out_dir, video, storyboard, timeline.duration, stages.timings)


# ---- stages --------------------------------------------------------------------------------

STALL_SECONDS = 600  # no task finishing for this long means the cluster cannot run them


@dataclass
class _Parts:
    """Finished or pending parts of one kind: their content keys and object refs by index."""

    keys: list[str]
    refs: dict[int, ray.ObjectRef] = field(default_factory=dict)


def _collect(pending: dict[ray.ObjectRef, Callable[[object], None]]) -> None:
    """Wait for every ref, handing each result to its callback as soon as it is ready. A
    failure is raised after the rest have finished and been stored: work already running is
    kept for the next attempt instead of thrown away."""
    waiting, failure = list(pending), None
    while waiting:
        ready, waiting = ray.wait(waiting, num_returns=1, timeout=STALL_SECONDS)
        if not ready:
            raise RenderError(f"no work finished for {STALL_SECONDS} s: the cluster may have "
                              "no free CPUs; check 'ray status'")
        try:
            pending[ready[0]](_get(ready[0]))
        except VidgenError as exc:
            failure = failure or exc
    if failure:
        raise failure


def _get(ref: ray.ObjectRef):
    try:
        return ray.get(ref, timeout=STALL_SECONDS)
    except ray.exceptions.RayTaskError as exc:
        if isinstance(exc.cause, VidgenError):
            raise exc.cause from None
        raise RenderError(f"{type(exc.cause).__name__}: {exc.cause}") from None
    except ray.exceptions.GetTimeoutError:
        raise RenderError(f"a task did not finish within {STALL_SECONDS} s") from None


def _batches(indices: list[int], size: int) -> Iterator[list[int]]:
    for at in range(0, len(indices), size):
        yield indices[at:at + size]


def _speech_parts(storyboard: Storyboard, voices: dict[str, str], version: str,
                  settings: RenderSettings, store: LocalStore, report: Progress) -> list[str]:
    requests = [
        SpeechRequest(text=line.text, voice=voices[line.speaker],
                      language=line.language or storyboard.language, speed=settings.tts_speed)
        for scene in storyboard.scenes for line in scene.lines]
    keys = [content_key("speech", backend=settings.tts_model, version=version, request=r)
            for r in requests]
    missing = [i for i, k in enumerate(keys) if not store.has(k)]
    done = len(keys) - len(missing)
    report("speech", done, len(keys))
    pending = {}
    for batch in _batches(missing, SPEECH_BATCH):
        def store_batch(wavs, batch=batch):
            nonlocal done
            for i, wav in zip(batch, wavs, strict=True):
                store.put(keys[i], wav)
            done += len(batch)
            report("speech", done, len(keys))
        pending[_speak.remote(settings, [requests[i] for i in batch])] = store_batch
    _collect(pending)
    return keys


def _image_parts(storyboard: Storyboard, version: str, settings: RenderSettings,
                 store: LocalStore) -> _Parts:
    width, height = settings.size
    requests = [
        ImageRequest(scene_number=i + 1, title=s.title, description=s.description,
                     characters=tuple(s.characters), mood=s.mood, width=width, height=height,
                     seed=storyboard.scene_seed(i))
        for i, s in enumerate(storyboard.scenes)]
    parts = _Parts([content_key("image", backend=settings.image_model, version=version,
                                request=r) for r in requests])
    missing = []
    for i, key in enumerate(parts.keys):
        if store.has(key):
            parts.refs[i] = ray.put(store.get(key))
        else:
            missing.append(i)
    for batch in _batches(missing, IMAGE_BATCH):
        refs = _draw.options(num_returns=len(batch)).remote(settings, [requests[i]
                                                                       for i in batch])
        parts.refs.update(zip(batch, refs if len(batch) > 1 else [refs], strict=True))
    return parts


def _plan(storyboard: Storyboard, speeches: list[Speech], settings: RenderSettings) -> Timeline:
    seconds, at = [], 0
    for scene in storyboard.scenes:
        seconds.append([s.duration for s in speeches[at:at + len(scene.lines)]])
        at += len(scene.lines)
    pacing = Pacing(fps=settings.fps, crossfade=settings.crossfade)
    return plan_timeline(storyboard, seconds, pacing, seed=settings.seed)


def _speech_track(timeline: Timeline, speeches: list[Speech]) -> Speech:
    rates = {s.sample_rate for s in speeches}
    if len(rates) != 1:
        raise RenderError(f"speech came at several sample rates {sorted(rates)}: the parts "
                          "folder mixes backends; delete OUT/parts/speech and render again")
    rate = rates.pop()
    samples = audio.place_speech([c.start for c in timeline.cues],
                                 [s.samples for s in speeches], rate, timeline.duration)
    return Speech(samples, rate)


def _chunk_parts(timeline: Timeline, images: _Parts, settings: RenderSettings,
                 store: LocalStore, report: Progress) -> _Parts:
    """Encode every chunk not already stored; store pictures and chunks as they finish."""
    ranges = timeline.chunks(settings.chunk_seconds)
    parts = _Parts([_chunk_key(timeline, a, b, images.keys, settings) for a, b in ranges])
    done = sum(store.has(k) for k in parts.keys)
    report("video", done, len(ranges))
    pending: dict[ray.ObjectRef, Callable[[object], None]] = {}
    for scene, ref in images.refs.items():
        if not store.has(images.keys[scene]):
            pending[ref] = lambda png, scene=scene: store.put(images.keys[scene], png)
    for (a, b), key in zip(ranges, parts.keys, strict=True):
        if store.has(key):
            continue
        scenes = assembly.scenes_in(timeline, a, b)
        ref = _encode_chunk.options(num_cpus=settings.ffmpeg_threads).remote(
            timeline, a, b, scenes, settings, *[images.refs[s] for s in scenes])

        def store_chunk(mp4, key=key):
            nonlocal done
            store.put(key, mp4)
            done += 1
            report("video", done, len(ranges))
        pending[ref] = store_chunk
    _collect(pending)
    return parts


def _chunk_key(timeline: Timeline, start: int, end: int, image_keys: list[str],
               settings: RenderSettings) -> str:
    scenes = assembly.scenes_in(timeline, start, end)
    return content_key(
        "chunk", assembly=assembly.ASSEMBLY_VERSION, start=start, end=end,
        segments=timeline.segments(start, end),
        clips=[timeline.clips[s] for s in scenes], images=[image_keys[s] for s in scenes],
        size=settings.size, fps=timeline.fps, encoder=assembly.encoder_args(settings))


def _mux(listing: list[tuple[Path, float]], soundtrack: Path, title: str, video: Path) -> None:
    concat = video.with_name("chunks.ffconcat")
    concat.write_text(assembly.concat_list(listing), encoding="utf-8")
    ffmpeg(assembly.mux_args(concat, soundtrack, video, title))
    concat.unlink()


def _write_sidecars(out_dir: Path, storyboard: Storyboard, timeline: Timeline) -> list[Path]:
    files = {
        "subtitles.srt": subtitles.format_srt(timeline.cues),
        "subtitles.vtt": subtitles.format_vtt(timeline.cues),
        "storyboard.json": storyboard.model_dump_json(indent=2) + "\n",
    }
    for name, text in files.items():
        (out_dir / name).write_text(text, encoding="utf-8")
    return [out_dir / name for name in files]


def _prepare_output(out_dir: Path) -> Path:
    out_dir = Path(out_dir).expanduser().resolve()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe_file = out_dir / ".vidgen-write-test"
        probe_file.write_bytes(b"")
        probe_file.unlink()
    except OSError as exc:
        raise OutputError(f"cannot write to the output folder {out_dir}: {exc.strerror}: "
                          "choose another folder with -o") from exc
    return out_dir


def _version() -> str:
    from vidgen_ray import __version__

    return __version__
