"""A job's last step: its videos joined, muxed, checked and measured for QC where FFmpeg runs
(``finish_video``: the executor runs it, on a CPU node on a cluster), then put in place
with their sidecars and manifest. Pure of scheduling: the job flow (flow.py) calls these
with its parts."""

from __future__ import annotations

import asyncio
import fnmatch
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vidgen_ray.config import RenderSettings
from vidgen_ray.errors import RenderError, VidgenError
from vidgen_ray.pipeline import assembly, manifest, media, subtitle_rules, subtitles
from vidgen_ray.pipeline.qc import measure
from vidgen_ray.programs import ffmpeg, ffmpeg_version
from vidgen_ray.storyboard import Storyboard
from vidgen_ray.timeline import Timeline

if TYPE_CHECKING:
    from vidgen_ray.pipeline.executor import Executor, Parts

Size = tuple[int, int]
Listing = list[tuple[Path, float]]  # chunk file, seconds


def video_names(sizes: list[Size]) -> dict[Size, str]:
    """The main size is video.mp4; each rendition video-WIDTHxHEIGHT.mp4."""
    return {size: "video.mp4" if n == 0 else f"video-{size[0]}x{size[1]}.mp4"
            for n, size in enumerate(sizes)}


@dataclass(frozen=True)
class QcInputs:
    """What the main video's QC measures besides the video: its subtitles (SRT text), the
    scene cuts, and the speech stem (file name and bytes) when --stems exported one."""

    srt: str
    scene_cuts: tuple[float, ...]
    speech: tuple[str, bytes] | None = None


@dataclass
class Finished:
    """One video as finishing made it, wherever that ran (an FFmpeg task on a CPU node)."""

    video: bytes
    info: dict  # what the check found
    mux_seconds: float
    check_seconds: float
    ffmpeg: str  # the FFmpeg that muxed it (the manifest names it)
    qc: dict | None = None  # qc.json's report: the main video only
    qc_error: VidgenError | None = None  # raised by the flow once the manifest is written
    qc_seconds: float = 0.0
    node: str = ""


def qc_inputs(out_dir: Path, timeline: Timeline, settings: RenderSettings,
              exports: list[str]) -> QcInputs:
    """The QC's inputs, from this run's sidecar text and exported speech stem."""
    shown = subtitles.timeline_captions(timeline, settings)
    speech = next((n for n in sorted(exports) if n.startswith("stems/speech.")), None)
    return QcInputs(subtitles.format_srt(shown), tuple(subtitles.scene_cuts(timeline)),
                    (speech, (out_dir / speech).read_bytes()) if speech else None)


def finish_video(work: Path, chunks: list[tuple[bytes, float]], soundtrack: bytes, title: str,
                 settings: RenderSettings, frames: int, size: Size,
                 qc: QcInputs | None = None) -> Finished:
    """Join ``chunks`` (MP4 bytes, seconds) without re-encoding, mux the soundtrack, check
    the video is what the timeline promised, and measure its QC when ``qc`` is given; all in
    ``work``, so it runs on any node with FFmpeg."""
    listing = []
    for n, (data, seconds) in enumerate(chunks):
        path = work / f"chunk-{n:05d}.mp4"
        path.write_bytes(data)
        listing.append((path, seconds))
    video = work / "video.mp4"  # QC reports the file by this name
    started = time.perf_counter()
    mux(work, listing, soundtrack, video, title)
    muxed = time.perf_counter()
    info = assembly.check_video(video, settings, frames, size)
    checked = time.perf_counter()
    finished = Finished(video.read_bytes(), info, muxed - started, checked - muxed,
                        ffmpeg_version())
    if qc is not None:
        try:
            finished.qc = measure_qc(work, video, qc, settings)
        except VidgenError as exc:  # the job fails in "qc", after its manifest is written
            finished.qc_error = exc
        finished.qc_seconds = time.perf_counter() - checked
    return finished


def mux(work: Path, listing: Listing, soundtrack: bytes, video: Path, title: str) -> None:
    wav, concat = work / "soundtrack.wav", work / "chunks.ffconcat"
    wav.write_bytes(soundtrack)
    # Absolute: the list is read relative to its own folder, which is not the parts'.
    listing = [(Path(path).absolute(), seconds) for path, seconds in listing]
    concat.write_text(assembly.concat_list(listing), encoding="utf-8")
    ffmpeg(assembly.mux_args(concat, wav, video, title))


def measure_qc(work: Path, video: Path, qc: QcInputs, settings: RenderSettings) -> dict:
    """qc.json's report of ``video``, judged against the render's own loudness target."""
    srt = work / "subtitles.srt"
    srt.write_text(qc.srt, encoding="utf-8")
    speech = None
    if qc.speech is not None:
        speech = work / qc.speech[0]
        speech.parent.mkdir(parents=True, exist_ok=True)
        speech.write_bytes(qc.speech[1])
    return measure.run_qc(video, subtitles=srt, target=settings.loudness,
                          scene_cuts=qc.scene_cuts, speech=speech,
                          max_cps=settings.subtitle_max_cps)


async def finish_videos(executor: Executor, out_dir: Path, job_id: str,
                        listings: dict[Size, list[tuple[str, float]]], parts: Parts,
                        soundtrack: str, title: str, settings: RenderSettings, frames: int,
                        qc: QcInputs) -> dict[str, Finished]:
    """Every size finished by the executor (``listings``: each size's chunk keys and
    seconds, main size first; ``soundtrack``: its part key; ``qc``: the main video's), each
    written under a run-private name, then renamed: a failed or cancelled job never leaves a
    half-made or stale video, and two jobs never share a file. Each file name's result."""
    names = video_names(list(listings))
    main = next(iter(listings))
    done = await asyncio.gather(*(executor.finish(
        listing, parts, soundtrack, title, settings, frames, size, qc if size == main else None)
        for size, listing in listings.items()))
    # Private to this run, not only this job: a cancelled run's writer thread can outlive it
    # and must not touch the files of the job's retry.
    run = f"{job_id}.{secrets.token_hex(4)}"
    drafts = {size: out_dir / f".{run}.{name}" for size, name in names.items()}
    try:
        for draft, finished in zip(drafts.values(), done, strict=True):
            await asyncio.to_thread(draft.write_bytes, finished.video)
        for size, draft in drafts.items():
            draft.replace(out_dir / names[size])
    finally:
        for draft in drafts.values():
            draft.unlink(missing_ok=True)
    return {names[size]: finished for size, finished in zip(listings, done, strict=True)}


def shown_media(storyboard: Storyboard, settings: RenderSettings, parts: Path,
                out_dir: Path) -> tuple[Storyboard, RenderSettings]:
    """The storyboard and settings as the output files show them: media kept in the parts
    folder (a service job's uploads) are named relative to the output folder, so no file
    names a server folder and storyboard.json still renders from where it lies."""
    def shown(path: str) -> str:
        if os.path.isabs(path) and Path(path).is_relative_to(parts):
            return os.path.relpath(path, out_dir)
        return path

    music = settings.music
    if music and os.path.isabs(music):
        settings = settings.model_copy(update={"music": shown(music)})
    return media.resolve(storyboard, shown), settings


def write_sidecars(out_dir: Path, timeline: Timeline, storyboard: Storyboard,
                   settings: RenderSettings) -> list[Path]:
    """subtitles.srt, subtitles.vtt and storyboard.json beside the video."""
    shown = subtitles.timeline_captions(timeline, settings)
    files = {"subtitles.srt": subtitles.format_srt(shown),
             "subtitles.vtt": subtitles.format_vtt(shown),
             "storyboard.json": storyboard.model_dump_json(indent=2) + "\n"}
    for name, text in files.items():
        (out_dir / name).write_text(text, encoding="utf-8")
    return [out_dir / name for name in files]


def keep_qc(out_dir: Path, finished: Finished, settings: RenderSettings) -> dict:
    """qc.json beside the video, from what finishing measured; with qc_strict a violation
    fails the job (as does a QC that could not measure)."""
    if finished.qc_error is not None:
        raise finished.qc_error
    found = finished.qc
    measure.write_report(found, out_dir / "qc.json")
    if settings.qc_strict and not found["passed"]:
        problems = [f"{v['check']}: {v['message']}" for v in found["violations"]]
        raise RenderError(f"the QC report (qc.json) found {len(problems)} problem(s): "
                          + "; ".join(problems[:3]), stage="qc")
    return found


def write_edit_timelines(out_dir: Path, storyboard: Storyboard, timeline: Timeline,
                         settings: RenderSettings, stills: list[Path], speech: list[Path],
                         exports: list[str], shots: list[Path] = ()) -> list[Path]:
    """timeline.otio (and .fcpxml, .edl) beside the video, as settings.timeline_formats asks,
    referencing the stills, speech files, talking clips and stems (``exports``) from the
    output folder."""
    if not settings.timeline_formats:
        return []
    from vidgen_ray.pipeline import edit_timeline  # OpenTimelineIO: loaded only to write one

    stems = {Path(name).stem: name for name in exports if name.startswith("stems/")}
    return edit_timeline.write(
        out_dir, storyboard, timeline, settings.timeline_formats,
        stills=[edit_timeline.relative(p, out_dir) for p in stills],
        speech=[edit_timeline.relative(p, out_dir) for p in speech], stems=stems,
        shots=[edit_timeline.relative(p, out_dir) for p in shots])


def subtitle_report(timeline: Timeline, settings: RenderSettings) -> dict:
    """For manifest.json: how many cues the subtitles have, and every rule one still breaks."""
    shown = subtitles.timeline_captions(timeline, settings)
    issues = subtitle_rules.check_cues(shown, fps=timeline.fps,
                                       max_cps=settings.subtitle_max_cps,
                                       scene_cuts=subtitles.scene_cuts(timeline))
    return {"cues": len(shown), "max_cps": settings.subtitle_max_cps,
            "issues": [{"cue": i.index + 1, "rule": i.rule, "message": i.message}
                       for i in issues]}


def sound_exports(out_dir: Path, names: list[str]) -> dict[str, dict]:
    """Digest and size of each sound file written beside the video (--stems)."""
    return {name: {"sha256": manifest.file_digest(out_dir / name),
                   "bytes": (out_dir / name).stat().st_size} for name in names}


# Files a render always writes beside the video but that manifest.json cannot hash: itself,
# and the QC report, which measures the finished video after the manifest is written.
ALWAYS = ("manifest.json", "qc.json", "cast.json")
# Every name a render can write beside the video. Only these are ever moved: the folder may
# also hold a person's own files (the script, its pictures), which are left alone.
RENDER_NAMES = ("video.mp4", "video-*x*.mp4", "subtitles.srt", "subtitles.vtt",
                "storyboard.json", "timeline.otio", "timeline.fcpxml", "timeline.edl",
                "mix.*", "stems/*.*", *ALWAYS)


def sweep_stale(out_dir: Path, made: list[str]) -> list[str]:
    """Move every file in ``out_dir`` that a render writes but this one did not make
    (``made``: names relative to it) to parts/old/, so the folder's render outputs are what
    manifest.json lists. Moved, not deleted; returns the names moved."""
    keep = set(made) | set(ALWAYS)
    old = out_dir / "parts" / "old"
    moved = []
    for path in sorted(out_dir.rglob("*")):
        name = path.relative_to(out_dir).as_posix()
        if (name.split("/")[0] == "parts" or not path.is_file() or name in keep
                or not any(fnmatch.fnmatchcase(name, p) for p in RENDER_NAMES)):
            continue
        target = old / name
        target.parent.mkdir(parents=True, exist_ok=True)
        path.replace(target)
        moved.append(name)
    stems = out_dir / "stems"
    if stems.is_dir() and not any(stems.iterdir()):
        stems.rmdir()  # emptied by the sweep
    return moved


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("vidgen-ray")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"
