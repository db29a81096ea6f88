"""vidgen qc on real files: a tiny render (which must pass, and prints its QC summary) and
files broken on purpose with FFmpeg (too loud, a black gap, a silent stretch inside a cue,
a 0.3 s cue), each of which must be reported as exactly that violation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.ffmpeg

SCRIPT = """# Tiny

## Harbour

Waves broke on the harbour wall under a grey sky.

MARA: The boats are late tonight.
"""
# A 440 Hz tone of this amplitude measures about -16 LUFS (the podcast target).
TONE = 0.245
CUE = "1\n00:00:01,000 --> 00:00:03,500\nThe boats are late tonight.\n"


def vidgen(*args, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vidgen_ray", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


def make_video(path: Path, *, amplitude: float = TONE, picture: str = "",
               sound: str = "") -> Path:
    """6 s of moving test pattern and a tone, encoded as a render is (H.264 yuv420p tagged
    BT.709, AAC 48 kHz); ``picture``/``sound`` add filters that break something."""
    video = "[0:v]null" + (f",{picture}" if picture else "") + "[v]"
    audio = "[1:a]anull" + (f",{sound}" if sound else "") + "[a]"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=320x180:r=30:d=6",
         "-f", "lavfi", "-i", f"aevalsrc={amplitude}*sin(2*PI*440*t):s=48000:d=6",
         "-filter_complex", f"{video};{audio}", "-map", "[v]", "-map", "[a]",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
         "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709",
         "-c:a", "aac", "-ar", "48000", str(path)], check=True, timeout=120)
    return path


def qc(video: Path, *args) -> tuple[subprocess.CompletedProcess, dict]:
    out = video.with_suffix(".qc.json")
    done = vidgen("qc", video, "--strict", "-o", out, *args, timeout=120)
    assert "Traceback" not in done.stderr, done.stderr
    return done, json.loads(out.read_text()) if out.is_file() else {}


def checks(report: dict) -> list[str]:
    return sorted({v["check"] for v in report["violations"]})


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    return make_video(tmp_path_factory.mktemp("qc") / "clean.mp4")


def test_a_clean_file_passes_strict(clean):
    done, report = qc(clean)
    assert done.returncode == 0, done.stderr
    assert report["passed"] and abs(report["loudness"]["integrated"] + 16) <= 1
    assert "QC passed" in done.stderr


def test_too_loud(tmp_path):
    done, report = qc(make_video(tmp_path / "loud.mp4", amplitude=0.99))
    assert done.returncode == 1
    assert checks(report) == ["loudness"]
    messages = " ".join(v["message"] for v in report["violations"])
    assert "from the target -16 LUFS" in messages and "true peak" in messages
    done, report = qc(tmp_path / "loud.mp4", "--target", "broadcast")
    assert report["target"] == {"name": "broadcast", "lufs": -23.0, "tolerance": 1.0,
                                "max_true_peak": -1.0}


def test_a_black_gap(tmp_path):
    video = make_video(tmp_path / "black.mp4",
                       picture="drawbox=c=black:t=fill:enable='between(t,2,4)'")
    done, report = qc(video)
    assert done.returncode == 1 and checks(report) == ["black"]
    (black,) = report["black"]
    assert abs(black["start"] - 2) < 0.1 and abs(black["end"] - 4) < 0.1


def test_silence_while_a_cue_is_shown(tmp_path, clean):
    video = make_video(tmp_path / "gap.mp4", sound="volume=0:enable='between(t,1.2,3.4)'")
    srt = tmp_path / "gap.srt"
    srt.write_text(CUE, encoding="utf-8")
    done, report = qc(video, "--subtitles", srt)
    assert done.returncode == 1 and checks(report) == ["silence"]
    assert report["silence_in_speech"][0]["duration"] >= 2
    assert qc(clean, "--subtitles", srt)[0].returncode == 0  # sound under the same cue


def test_a_cue_of_a_third_of_a_second(tmp_path, clean):
    srt = tmp_path / "short.srt"
    srt.write_text(CUE + "\n2\n00:00:04,000 --> 00:00:04,300\nCold wind.\n", encoding="utf-8")
    done, report = qc(clean, "--subtitles", srt)
    assert done.returncode == 1 and checks(report) == ["subtitles"]
    issues = report["subtitles"]["issues"]  # too short, and so also read too fast
    assert {i["cue"] for i in issues} == {2} and "min_duration" in {i["rule"] for i in issues}


def test_not_a_video_and_a_missing_file_are_input_errors(tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    for path in (text, tmp_path / "missing.mp4"):
        done = vidgen("qc", path, timeout=60)
        assert done.returncode == 2 and "Traceback" not in done.stderr
    missing = vidgen("qc", tmp_path / "missing.mp4", timeout=60).stderr
    assert "does not exist" in " ".join(missing.split())  # the terminal may wrap the line


@pytest.mark.ray
@pytest.mark.slow
def test_a_render_writes_qc_json_prints_it_and_passes_vidgen_qc(tmp_path):
    script = tmp_path / "tiny.md"
    script.write_text(SCRIPT, encoding="utf-8")
    out = tmp_path / "out"
    done = vidgen("render", script, "-o", out, "--qc-strict")
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((out / "qc.json").read_text())
    assert report["passed"], report["violations"]
    assert report["subtitles"]["cues"] >= 1 and report["format"]["video"]["codec_name"] == "h264"
    assert "QC passed (target podcast -16 LUFS)" in " ".join(done.stderr.split())
    again, _ = qc(out / "video.mp4", "--subtitles", out / "subtitles.srt")
    assert again.returncode == 0, again.stderr
    # Again from the same parts, with a reading speed no spoken line meets: the job fails.
    strict = vidgen("render", script, "-o", out, "--qc-strict", "--subtitle-max-cps", "5")
    assert strict.returncode == 1
    assert "QC report (qc.json) found" in " ".join(strict.stderr.split())
    assert not json.loads((out / "qc.json").read_text())["passed"]
