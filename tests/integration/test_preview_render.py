"""The live preview of a real render (cards, espeak-ng, FFmpeg, the job flow in process):
preview.m3u8 in the job's folder, each segment readable by ffprobe, the whole playlist as
long as the video, the time to its first segment in the manifest; a retry starts it afresh."""

import asyncio
import json
import shutil
import subprocess
import time

import pytest

from vidgen_ray.config import PREVIEW, RenderSettings
from vidgen_ray.pipeline import flow
from vidgen_ray.pipeline.in_process import InProcessExecutor
from vidgen_ray.pipeline.job_record import JobRecord
from vidgen_ray.pipeline.preview import Preview
from vidgen_ray.pipeline.source import load_storyboard
from vidgen_ray.storage import LocalStore

pytestmark = [pytest.mark.ffmpeg,
              pytest.mark.skipif(not (shutil.which("ffmpeg") and shutil.which("espeak-ng")),
                                 reason="needs ffmpeg and espeak-ng")]

SCRIPT = """# Preview

## Harbour

Waves broke on the harbour wall, and the boats came home late.

## Morning

The sun rose over a calm sea. MARA: The nets are dry.

## Night

The lamps went out one by one.
"""


def _render(tmp_path, settings):
    board = load_storyboard(SCRIPT, settings)
    record = JobRecord(out_dir=str(tmp_path / "out"), scenes=["queued"] * len(board.scenes))
    record.start()
    run = flow.JobRun(record, board, settings, tmp_path / "out", LocalStore(tmp_path / "store"),
                      InProcessExecutor(settings, record.id), lambda r, state: None)
    return asyncio.run(run.run())


def _ffprobe(*args) -> dict:
    return json.loads(subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", *args],
                                     capture_output=True, text=True, check=True).stdout)


def test_a_render_leaves_a_whole_preview_as_long_as_its_video(tmp_path):
    settings = RenderSettings(chunk_seconds=1.0, **PREVIEW)
    result = _render(tmp_path, settings)
    out = tmp_path / "out"
    lines = (out / "preview.m3u8").read_text().splitlines()
    assert lines[:2] == ["#EXTM3U", "#EXT-X-VERSION:3"] and "#EXT-X-PLAYLIST-TYPE:EVENT" in lines
    assert lines[-1] == "#EXT-X-ENDLIST"
    segments = [line for line in lines if not line.startswith("#")]
    listed = sum(float(line[8:-1]) for line in lines if line.startswith("#EXTINF:"))
    assert len(segments) >= 3 and segments[0] == "preview/00000.ts"
    video = float(_ffprobe("-show_format", str(result.video))["format"]["duration"])
    assert listed == pytest.approx(result.duration, abs=1e-3)
    assert video == pytest.approx(listed, abs=0.1)
    start = 0.0
    for name in segments:  # each segment: H.264 and AAC, continuing where the last ended
        probed = _ffprobe("-show_format", "-show_streams", str(out / name))
        assert sorted((s["codec_type"], s["codec_name"]) for s in probed["streams"]) == [
            ("audio", "aac"), ("video", "h264")]
        streams = {s["codec_type"]: s for s in probed["streams"]}
        # All late by AAC's priming (1024 samples), whose packets come before the sound.
        assert float(streams["video"]["start_time"]) == pytest.approx(start + 1024 / 48000,
                                                                       abs=0.002)
        assert float(streams["audio"]["start_time"]) == pytest.approx(start, abs=0.002)
        start += float(streams["video"]["duration"])
    assert start == pytest.approx(video, abs=0.1)
    # FFmpeg's own HLS reader plays the playlist through, without a decode error.
    whole = _ffprobe("-show_format", str(out / "preview.m3u8"))["format"]
    assert float(whole["duration"]) == pytest.approx(video, abs=0.15)
    errors = subprocess.run(["ffmpeg", "-v", "error", "-xerror", "-i", str(out / "preview.m3u8"),
                             "-map", "0:v", "-f", "null", "-"], capture_output=True, text=True)
    assert errors.returncode == 0 and errors.stderr == ""
    # Each segment's AAC is encoded alone: its priming overlaps the segment before (a player
    # drops the overlap, as hls.js does), so the sound is checked segment by segment.
    for name in segments:
        errors = subprocess.run(["ffmpeg", "-v", "error", "-xerror", "-i", str(out / name),
                                 "-map", "0:a", "-f", "null", "-"], capture_output=True, text=True)
        assert errors.returncode == 0 and errors.stderr == ""
    # The speech is heard where the lines are, and only there.
    assert _loudest(out / "preview.m3u8", 0.0, 0.35) < -60  # before the first line's lead-in
    assert _loudest(out / "preview.m3u8", 0.6, result.duration - 1.0) > -30
    manifest = json.loads((out / "manifest.json").read_text())
    first = manifest["preview"]["first_segment_seconds"]
    assert manifest["preview"]["segments"] == len(segments)
    assert {"preview.m3u8", *segments} <= set(manifest["outputs"])  # the folder is what it lists
    assert 0 < first < sum(result.timings.values()) and first == round(result.first_preview, 3)

    # Rendered again into the same folder: every chunk is stored, the preview is whole again.
    (out / "preview" / "stale.ts").write_bytes(b"old")
    again = _render(tmp_path, settings)
    assert (out / "preview.m3u8").read_text().splitlines() == lines
    assert not (out / "preview" / "stale.ts").exists() and again.first_preview is not None


def _loudest(media, start: float, seconds: float) -> float:
    """The highest sample level (dBFS) of ``media``'s sound in [start, start + seconds)."""
    run = subprocess.run(["ffmpeg", "-v", "info", "-ss", str(start), "-t", str(seconds), "-i",
                          str(media), "-vn", "-af", "volumedetect", "-f", "null", "-"],
                         capture_output=True, text=True, check=True)
    level = [line for line in run.stderr.splitlines() if "max_volume:" in line][0]
    return float(level.split("max_volume:")[1].split()[0])


def _chunk(path, seconds: float) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc=size=160x90:rate=12:duration={seconds}", "-c:v", "libx264",
                    "-preset", "ultrafast", "-g", "12", str(path)], check=True)


def test_chunks_finishing_out_of_order_are_listed_in_order_as_one_stream(tmp_path, caplog):
    for n in range(3):
        _chunk(tmp_path / f"c{n}.mp4", 1.0)
    preview = Preview(tmp_path / "job", fps=12, chunk_seconds=1.0, started=time.perf_counter())
    playlist = tmp_path / "job" / "preview.m3u8"
    asyncio.run(preview.add(24, 36, tmp_path / "c2.mp4"))
    assert not playlist.exists() and preview.first_seconds is None  # the start is missing
    asyncio.run(preview.add(0, 12, tmp_path / "c0.mp4"))
    assert [line for line in playlist.read_text().splitlines() if not line.startswith("#")] \
        == ["preview/00000.ts"]
    asyncio.run(preview.add(12, 24, tmp_path / "c1.mp4"))
    preview.end()
    assert preview.files() == ["preview.m3u8", "preview/00000.ts", "preview/00001.ts",
                               "preview/00002.ts"]
    errors = subprocess.run(["ffmpeg", "-v", "error", "-xerror", "-i", str(playlist), "-map",
                             "0:v", "-f", "null", "-"], capture_output=True, text=True)
    assert errors.returncode == 0 and errors.stderr == ""  # continuity counters go on
    frames = _ffprobe("-count_frames", "-show_streams", str(playlist))["streams"][0]
    assert int(frames["nb_read_frames"]) == 36

    # A chunk that cannot be cut stops the preview there, not the job.
    (tmp_path / "bad.mp4").write_bytes(b"not a video")
    again = Preview(tmp_path / "job", fps=12, chunk_seconds=1.0, started=time.perf_counter())
    asyncio.run(again.add(0, 12, tmp_path / "bad.mp4"))
    assert "no preview segment for frames 0-12" in caplog.text
    assert not playlist.exists() and again.files() == ["preview.m3u8"]
