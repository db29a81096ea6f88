"""What a finished job leaves beside its video: sidecars, edit timelines and the manifest,
which lists every part the video was made from and every file in the folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from vidgen_ray.config import RenderSettings
from vidgen_ray.images import portraits
from vidgen_ray.pipeline import finishing, manifest
from vidgen_ray.pipeline.pictures import PicturePlan
from vidgen_ray.pipeline.soundtrack import Soundtrack
from vidgen_ray.storage import LocalStore
from vidgen_ray.storyboard import Storyboard
from vidgen_ray.timeline import Timeline, motion_notes


@dataclass
class Made:
    """Everything a job made, as the manifest reports it."""

    video: Path
    timeline: Timeline
    voices: dict[str, str]
    backends: dict[str, str]
    speech_keys: list[str]
    pictures: PicturePlan
    chunk_keys: dict[tuple[int, int], list[str]]
    soundtrack: Soundtrack
    info: dict  # what the video check found
    renditions: dict[str, dict]  # file name -> its check, for each extra size
    preview: dict | None = None  # preview.m3u8: its segments, seconds to the first one
    preview_files: list[str] = field(default_factory=list)  # the playlist and its segments
    motion_keys: list[str] = field(default_factory=list)  # generated, fitted, talking clips
    bed_keys: list[str] = field(default_factory=list)  # generated music and ambience beds
    shot_keys: list[str] = field(default_factory=list)  # the talking clip of each shot


def write_manifest(out_dir: Path, job_id: str, store: LocalStore, storyboard: Storyboard,
                   settings: RenderSettings, made: Made, timings: dict[str, float]) -> None:
    """Sidecars, edit timelines and manifest.json; then whatever else is in the folder is
    moved to parts/old/ (finishing.sweep_stale), so the folder is what the manifest lists."""
    timeline, pictures, exports = made.timeline, made.pictures, made.soundtrack.exports
    board, shown = finishing.shown_media(storyboard, settings, store.root, out_dir)
    sidecars = finishing.write_sidecars(out_dir, timeline, board, shown)
    sidecars += finishing.write_edit_timelines(
        out_dir, storyboard, timeline, settings,
        [store.path(k) for k in pictures.image_keys],
        [store.path(k) for k in made.speech_keys], exports,
        [store.path(k) for k in made.shot_keys])
    keys = [*made.speech_keys, *pictures.portrait_keys.values(),
            *(k for ks in pictures.shape_keys.values() for k in ks),
            *(k for ks in made.chunk_keys.values() for k in ks), *made.motion_keys, *made.bed_keys,
            *made.soundtrack.keys]
    info = {**made.info, "scenes": len(timeline.clips), "lines": len(timeline.cues)}
    data = manifest.build_manifest(
        version=finishing.package_version(), storyboard=board,
        settings=shown, backends=made.backends, voices=made.voices, video=info,
        timings=timings,
        artifacts=[made.video, *(out_dir / name for name in made.renditions), *sidecars],
        parts={k: store.path(k) for k in keys}, loudness=made.soundtrack.loudness,
        notes=motion_notes(storyboard, settings.video_model))
    data["job"] = job_id
    data["subtitles"] = finishing.subtitle_report(timeline, settings)
    if exports:
        data["sound"] = finishing.sound_exports(out_dir, exports)
    data["pictures"] = portraits.pictures_manifest(
        [store.get(k) for k in pictures.image_keys], pictures.portrait_keys)
    data["renditions"] = made.renditions
    if made.preview is not None:
        data["preview"] = made.preview
    data["outputs"] = sorted({*data["artifacts"], *exports, *finishing.ALWAYS,
                              *made.preview_files})
    manifest.write_json(out_dir / "manifest.json", data)
    finishing.sweep_stale(out_dir, data["outputs"])
