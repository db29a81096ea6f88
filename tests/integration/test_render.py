"""A real render on a local Ray: ffmpeg, espeak-ng, cards; checked with ffprobe and ebur128."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from vidgen_ray.config import RenderSettings
from vidgen_ray.errors import RenderError
from vidgen_ray.farm.connect import render
from vidgen_ray.pipeline import assembly
from vidgen_ray.pipeline.manifest import file_digest

pytestmark = [pytest.mark.ray, pytest.mark.ffmpeg, pytest.mark.slow]

SCRIPT = """# Three scenes

## Harbour

Waves broke on the harbour wall under a grey sky.

MARA: The boats are late tonight.

## The storm

Rain hammered the windows. Thunder rolled over the hills.

ELIAS: We should light the lamp.

## Morning

The sun rose over a calm sea, and the gulls came back.
"""
SETTINGS = RenderSettings(chunk_seconds=3.0)


def _ffprobe(path: Path, *args: str) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", *args, str(path)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def _frame_hashes(path: Path) -> list[str]:
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:v",
                          "-f", "framemd5", "-"], capture_output=True, text=True,
                         check=True).stdout
    return [line.split()[-1] for line in out.splitlines() if not line.startswith("#")]


@pytest.fixture(scope="module")
def rendered(ray_local, tmp_path_factory):
    script = tmp_path_factory.mktemp("script") / "three.md"
    script.write_text(SCRIPT, encoding="utf-8")
    out = tmp_path_factory.mktemp("render")
    return script, render(script, out, SETTINGS)


def test_outputs_are_all_there(rendered):
    _, result = rendered
    names = {p.name for p in result.out_dir.iterdir()}
    assert {"video.mp4", "subtitles.srt", "subtitles.vtt", "storyboard.json",
            "manifest.json", "parts"} <= names
    assert "soundtrack.wav" not in names and "chunks.ffconcat" not in names


def test_video_matches_the_timeline(rendered):
    _, result = rendered
    info = _ffprobe(result.video, "-count_frames", "-show_streams", "-show_format")
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
    manifest = json.loads((result.out_dir / "manifest.json").read_text())
    frames = manifest["video"]["frames"]
    assert int(video["nb_read_frames"]) == frames
    assert abs(float(info["format"]["duration"]) - frames / 30) <= 1 / 30
    assert abs(result.duration - frames / 30) < 1e-9
    assert (video["codec_name"], video["pix_fmt"], video["r_frame_rate"]) == (
        "h264", "yuv420p", "30/1")
    assert (video["width"], video["height"]) == (1280, 720)
    assert (audio["codec_name"], audio["sample_rate"], audio["channels"]) == ("aac", "48000", 2)


def test_video_decodes_without_errors_and_starts_with_moov(rendered):
    _, result = rendered
    decoded = subprocess.run(["ffmpeg", "-v", "error", "-i", str(result.video), "-f", "null",
                              "-"], capture_output=True, text=True)
    assert decoded.returncode == 0 and decoded.stderr == ""
    head = result.video.read_bytes()[:200_000]
    assert head.index(b"moov") < head.index(b"mdat")  # +faststart: playable while loading


def test_check_catches_a_truncated_file_and_a_wrong_format(rendered, tmp_path):
    _, result = rendered
    frames = json.loads((result.out_dir / "manifest.json").read_text())["video"]["frames"]
    assert assembly.check_video(result.video, SETTINGS, frames)["frames"] == frames
    with pytest.raises(RenderError, match="frame rate is 30/1, not 24"):
        assembly.check_video(result.video, RenderSettings(fps=24), frames * 24 // 30)
    cut = tmp_path / "cut.mp4"
    data = result.video.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(RenderError, match="failed its check"):
        assembly.check_video(cut, SETTINGS, frames)


def test_one_subtitle_cue_per_spoken_line(rendered):
    _, result = rendered
    lines = sum(len(s.lines) for s in result.storyboard.scenes)
    assert lines == 5
    srt = (result.out_dir / "subtitles.srt").read_text()
    vtt = (result.out_dir / "subtitles.vtt").read_text()
    assert srt.count(" --> ") == lines and vtt.count(" --> ") == lines
    assert "The boats are late tonight." in srt
    last_end = re.findall(r"--> (\d\d):(\d\d):(\d\d),(\d\d\d)", srt)[-1]
    h, m, s, ms = map(int, last_end)
    assert h * 3600 + m * 60 + s + ms / 1000 < result.duration


def test_loudness_is_on_target(rendered):
    _, result = rendered
    out = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-i", str(result.video),
                          "-map", "0:a", "-af", "ebur128", "-f", "null", "-"],
                         capture_output=True, text=True, check=True).stderr
    integrated = float(re.findall(r"I:\s+(-?[\d.]+) LUFS", out)[-1])
    assert abs(integrated - SETTINGS.loudness) <= 1.0


def test_manifest_records_backends_seeds_timings_and_hashes(rendered):
    _, result = rendered
    manifest = json.loads((result.out_dir / "manifest.json").read_text())
    assert manifest["backends"]["speech"].startswith("espeak-ng")
    assert manifest["backends"]["images"].startswith("cards")
    assert manifest["backends"]["ffmpeg"].startswith("ffmpeg version")
    assert set(manifest["seeds"]["characters"]) == {"MARA", "ELIAS"}
    assert len(manifest["seeds"]["scenes"]) == 3
    assert {"speech", "video", "audio", "mux", "check"} <= set(manifest["timings"])
    assert manifest["settings"]["resolution"] == "720p"
    for name in ("video.mp4", "subtitles.srt", "storyboard.json"):
        assert manifest["artifacts"][name]["sha256"] == file_digest(result.out_dir / name)
    assert len([k for k in manifest["parts"] if k.startswith("chunk/")]) >= 3
    for key, digest in manifest["parts"].items():
        kind, name = key.split("/")
        assert digest == file_digest(next((result.out_dir / "parts" / kind).glob(name + "*")))


def test_same_script_twice_gives_the_same_storyboard_and_frames(rendered, tmp_path):
    script, first = rendered
    second = render(script, tmp_path / "again", SETTINGS)
    assert (first.out_dir / "storyboard.json").read_text() == (
        second.out_dir / "storyboard.json").read_text()
    assert _frame_hashes(first.video) == _frame_hashes(second.video)


def test_edited_storyboard_renders_as_written(rendered, tmp_path):
    _, first = rendered
    board = json.loads((first.out_dir / "storyboard.json").read_text())
    board["scenes"] = board["scenes"][:1]
    board["scenes"][0]["lines"][0]["text"] = "An edited line, spoken as written."
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(board), encoding="utf-8")
    result = render(edited, tmp_path / "edited", SETTINGS)
    assert len(result.storyboard.scenes) == 1
    assert "An edited line, spoken as written." in (result.out_dir / "subtitles.srt").read_text()


def test_a_failed_render_keeps_its_parts_and_resumes(rendered, tmp_path):
    script, first = rendered
    out = tmp_path / "resume"
    shutil.copytree(first.out_dir / "parts", out / "parts")
    # Damage one picture: the chunks that show it fail, everything else is kept.
    broken = sorted((out / "parts" / "image").iterdir())[0]
    broken.write_bytes(b"not a png")
    for chunk in (out / "parts" / "chunk").iterdir():
        chunk.unlink()
    speech_before = {p: p.stat().st_mtime_ns for p in (out / "parts" / "speech").iterdir()}
    with pytest.raises(RenderError, match="^video: scene ") as info:
        render(script, out, SETTINGS)
    assert "run the same command again to resume" in str(info.value)
    assert info.value.stage == "video"
    assert any((out / "parts" / "chunk").iterdir())  # chunks not showing it were kept
    broken.unlink()
    result = render(script, out, SETTINGS)
    assert _frame_hashes(result.video) == _frame_hashes(first.video)
    assert {p: p.stat().st_mtime_ns for p in (out / "parts" / "speech").iterdir()} == (
        speech_before)


def test_stems_on_request_beside_the_video_and_in_the_manifest(rendered, tmp_path):
    _, first = rendered
    assert not (first.out_dir / "stems").exists()  # none unless asked for
    board = json.loads((first.out_dir / "storyboard.json").read_text())
    board["scenes"] = board["scenes"][:1]
    board["scenes"][0]["sfx"] = [{"name": "door", "line": 0}]
    edited = tmp_path / "sfx.json"
    edited.write_text(json.dumps(board), encoding="utf-8")
    settings = SETTINGS.model_copy(update={"stems": "flac"})
    result = render(edited, tmp_path / "stems", settings)
    names = ["mix.flac", *(f"stems/{bus}.flac" for bus in ("speech", "music", "ambience",
                                                           "effects"))]
    manifest = json.loads((result.out_dir / "manifest.json").read_text())
    assert sorted(manifest["sound"]) == sorted(names)
    for name in names:
        assert manifest["sound"][name]["sha256"] == file_digest(result.out_dir / name)
        stream = _ffprobe(result.out_dir / name, "-show_streams")["streams"][0]
        assert (stream["codec_name"], stream["channels"]) == ("flac", 2)
    assert manifest["settings"]["stems"] == "flac"
    # Without stems the stored soundtrack is used again: no second mix.
    (soundtrack,) = (result.out_dir / "parts" / "soundtrack").iterdir()
    mixed_at = soundtrack.stat().st_mtime_ns
    again = render(edited, tmp_path / "stems", SETTINGS)
    assert again.timings["audio"] == 0.0 and soundtrack.stat().st_mtime_ns == mixed_at
