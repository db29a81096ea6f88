"""The small things a user meets first: Ctrl-C during a render (a real subprocess and a real
SIGINT to its process group, as a terminal sends it), help that reads as sentences with
plain placeholders, and job answers printed as text, UTF-8 as is."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vidgen_ray.cli import jobs as cli_jobs
from vidgen_ray.testing.signals import heed_ctrl_c

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "lighthouse.md"
COMMANDS = [[], ["render"], ["write"], ["analyze"], ["plan"], ["portraits"], ["cast"],
            ["schema"], ["submit"], ["status"], ["jobs"], ["cancel"], ["fetch"], ["cleanup"],
            ["qc"], ["farm"],
            ["farm", "status"], ["farm", "start"], ["farm", "stop"], ["models"],
            ["models", "download"]]


def vidgen(*args, **kwargs):
    env = {**os.environ, "COLUMNS": "100", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "vidgen_ray", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=300, **kwargs)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "vidgen")
def test_help_has_plain_placeholders_and_whole_sentences(command):
    from typer.testing import CliRunner

    from vidgen_ray.cli.app import app

    done = CliRunner().invoke(app, [*command, "--help"], terminal_width=100)
    assert done.exit_code == 0, done.output
    text = done.stdout
    assert not re.search(r"\{\w+\}|<bool>|<str>|<int>|<float>|<path>|<list\[", text), text
    usage = text.split("Usage:", 1)[1].splitlines()[0]
    placeholders = usage.split("[OPTIONS]", 1)[1].split()
    assert all(p == p.upper() for p in placeholders), usage  # SCRIPT, [SCRIPT], COMMAND

def test_the_command_list_keeps_each_summary_in_one_paragraph():
    text = vidgen("--help").stdout
    rows = [line.strip("│ ").rstrip() for line in text.splitlines() if line.startswith("│")]
    render = next(i for i, row in enumerate(rows) if row.startswith("render "))
    # "storyboard.json and" / "manifest.json." was broken after "and" by the docstring
    joined = " ".join(row.strip() for row in rows[render:render + 3])
    assert "storyboard.json and manifest.json" in " ".join(joined.split())


def test_job_answers_are_text_for_people_and_utf8_json_for_machines(capsys):
    job = {"id": "j1", "status": "failed", "title": "Le phare de l'île", "priority": 0,
           "created": 1.7e9, "started": 1.7e9, "finished": None, "scenes": ["done", "failed"],
           "progress": {"speech": {"done": 2, "total": 2}},
           "error": "images : scène 2 : la scène a échoué", "failed_scene": 1,
           "stage_errors": {"images": "images : scène 2 : la scène a échoué",
                            "video": "stopped: images failed at scene 2",
                            "finishing": "stopped: images failed at scene 2"},
           "timings": {}, "links": {}}
    cli_jobs.print_job(job)
    text = capsys.readouterr().out
    assert text.startswith("job j1: failed\n") and "Le phare de l'île" in text
    assert "scenes    1/2 done" in text and "error     images : scène 2 : la scène" in text
    assert "stopped   video, finishing\n" in text
    cli_jobs.print_json(job)
    raw = capsys.readouterr().out
    assert "\\u00e8" not in raw and "échoué" in raw and json.loads(raw) == job


@pytest.mark.ray
@pytest.mark.ffmpeg
@pytest.mark.slow
def test_ctrl_c_during_a_render_is_one_line_exit_130_and_the_same_command_resumes(tmp_path):
    out = tmp_path / "out"
    # --preview: a 360p 15 fps draft; the rendition and stems asked for are left out.
    command = [sys.executable, "-m", "vidgen_ray", "render", str(EXAMPLE), "-o", str(out),
               "--preview", "--rendition", "1080x1920", "--stems", "wav"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    running = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env, start_new_session=True,
                               preexec_fn=heed_ctrl_c)
    parts = out / "parts"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and running.poll() is None:
        if parts.is_dir() and any(parts.rglob("*.wav")):  # the render is under way
            break
        time.sleep(0.1)
    assert running.poll() is None, running.communicate()[1][-3000:]
    os.killpg(running.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    stdout, stderr = running.communicate(timeout=120)
    assert running.returncode == 130, stderr[-3000:]
    assert stdout == ""
    assert f"interrupted; finished parts kept in {parts}; run the same command to resume" in (
        stderr)
    assert "Traceback" not in stderr and "never retrieved" not in stderr, stderr[-3000:]
    kept = sorted(p.name for p in parts.rglob("*") if p.is_file())
    assert kept
    again = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stdout.strip() == str(out / "video.mp4")
    probe = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", str(out /
         "video.mp4")], capture_output=True, text=True, check=True).stdout)
    video = next(s for s in probe["streams"] if s["codec_type"] == "video")
    assert (video["width"], video["height"], video["r_frame_rate"]) == (640, 360, "15/1")
    assert not (out / "video-1080x1920.mp4").exists() and not (out / "stems").exists()
    settings = json.loads((out / "manifest.json").read_text())["settings"]
    assert settings["preview"] and settings["x264_preset"] == "ultrafast"


def test_preview_is_small_fast_and_keeps_what_is_given():
    from vidgen_ray.config import load_settings

    draft = load_settings(preview=True, renditions=["1080x1920"], stems="flac")
    assert (draft.size, draft.fps, draft.x264_preset) == ((640, 360), 15, "ultrafast")
    assert (draft.renditions, draft.stems) == ([], None)
    kept = load_settings(preview=True, resolution="480p", aspect="9:16", fps=24)
    assert (kept.size, kept.fps) == ((480, 854), 24)
    assert load_settings(resolution="480p").size == (854, 480)
    assert load_settings(resolution="360p", aspect="1:1").size == (360, 360)


@pytest.mark.parametrize("resolution", ["360p", "480p"])
@pytest.mark.parametrize("aspect", ["16:9", "9:16", "1:1"])
def test_small_sizes_keep_every_card_text_inside_the_frame(resolution, aspect):
    """360p and 480p scale the 720p layout down (sizes follow the short side): a card with a
    long title, description and several names still has all its text inside the frame."""
    from vidgen_ray.config import load_settings
    from vidgen_ray.images.base import ImageRequest
    from vidgen_ray.images.cards import render_text_layer

    width, height = load_settings(resolution=resolution, aspect=aspect).size
    request = ImageRequest(12, "The lighthouse kitchen at the end of the long winter night",
                           "Kitchen, night. Wind rattles the shutters while Mara lights the old "
                           "lamp and Elias waits by the door with the harbour keys.",
                           ("MARA", "ELIAS", "THE HARBOUR MASTER"), "tense", width, height, 1)
    layer = render_text_layer(request)
    assert layer.size == (width, height)
    left, top, right, bottom = layer.getchannel("A").getbbox()
    margin = min(width, height) // 100  # text never touches an edge, where it would be cut
    assert left >= margin and top >= margin, (left, top)
    assert right <= width - margin and bottom <= height - margin, (right, bottom, width, height)
