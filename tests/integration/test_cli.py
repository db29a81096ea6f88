"""The command line as a user runs it: help, analyze, schema, and clear errors (exit 2 for bad
input, 1 for a missing program), all before any Ray starts."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "lighthouse.md"


def vidgen(*args, env=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "vidgen_ray", *map(str, args)],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


@pytest.mark.parametrize("command", [[], ["render"], ["analyze"], ["schema"]])
def test_every_command_has_help(command):
    done = vidgen(*command, "--help")
    assert done.returncode == 0
    assert "Usage:" in done.stdout


def test_render_help_lists_every_option():
    text = vidgen("render", "--help", env={**os.environ, "COLUMNS": "160"}).stdout
    for option in ("--out", "--resolution", "--aspect", "--fps", "--voice", "--speed",
                   "--seed", "--loudness", "--stems", "--address"):
        assert option in text
    assert "720p|1080p|1440p|2160p" in text


def test_version():
    assert vidgen("--version").stdout.startswith("vidgen-ray ")


def test_analyze_prints_a_storyboard_that_validates():
    from vidgen_ray.storyboard import Storyboard

    done = vidgen("analyze", EXAMPLE)
    assert done.returncode == 0, done.stderr
    board = Storyboard.model_validate_json(done.stdout)
    assert board.title == "The Last Keeper" and len(board.scenes) == 4
    assert [c.name for c in board.characters] == ["MARA", "ELIAS"]


def test_analyze_to_file(tmp_path):
    target = tmp_path / "board.json"
    assert vidgen("analyze", EXAMPLE, "-o", target).returncode == 0
    assert json.loads(target.read_text())["source_format"] == "markdown"


def test_schema_is_the_storyboards():
    schema = json.loads(vidgen("schema").stdout)
    assert schema["title"] == "Storyboard" and "scenes" in schema["properties"]


def _error(done):
    return " ".join(done.stderr.split())


@pytest.mark.parametrize(("setup", "expected"), [
    (lambda d: d / "missing.md", "script not found"),
    (lambda d: d, "is a folder"),
    (lambda d: _write(d / "empty.md", "  \n\n"), "the script is empty"),
    (lambda d: _write(d / "bin.txt", "abc\0def"), "binary"),
    (lambda d: _write(d / "only.fountain", "Title: Nothing\n\n[[just a note]]\n"),
     "nothing to speak"),
    (lambda d: _write(d / "bad.json", '{"scenes": [{"lines": [{"speaker": "BOB", '
                                      '"text": "hi"}]}]}'), "not in the character list"),
])
def test_bad_scripts_are_named_with_the_fix(tmp_path, setup, expected):
    done = vidgen("render", setup(tmp_path), "-o", tmp_path / "out")
    assert done.returncode == 2
    assert expected in _error(done)
    assert "Traceback" not in done.stderr


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_unknown_resolution_and_voice(tmp_path):
    done = vidgen("render", EXAMPLE, "--resolution", "4k", "-o", tmp_path)
    assert done.returncode == 2 and "4k" in done.stderr
    done = vidgen("render", EXAMPLE, "--voice", "xx+nobody", "-o", tmp_path)
    assert done.returncode == 2
    assert "unknown espeak-ng voice 'xx+nobody'" in _error(done)
    assert "espeak-ng --voices" in _error(done)
    done = vidgen("render", EXAMPLE, "--fps", "500", "-o", tmp_path)
    assert done.returncode == 2 and "fps=500" in _error(done)


def test_output_folder_that_cannot_be_written(tmp_path):
    blocker = _write(tmp_path / "a-file", "x")
    done = vidgen("render", EXAMPLE, "-o", blocker / "out")
    assert done.returncode == 1
    assert "cannot write to the output folder" in _error(done)
    assert "choose another folder with -o" in _error(done)


@pytest.mark.parametrize("program", ["ffmpeg", "espeak-ng"])
def test_missing_program_says_how_to_install_it(tmp_path, program):
    # A PATH with every program this render needs except one.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for needed in ("ffmpeg", "ffprobe", "espeak-ng"):
        if needed != program and not (program == "ffmpeg" and needed == "ffprobe"):
            found = subprocess.run(["which", needed], capture_output=True, text=True).stdout
            (bin_dir / needed).symlink_to(found.strip())
    env = {**os.environ, "PATH": str(bin_dir)}
    done = vidgen("render", EXAMPLE, "-o", tmp_path / "out", env=env)
    assert done.returncode == 1
    assert f"{program} is not installed" in _error(done)
    assert "install" in _error(done).split("is not installed", 1)[1]


def test_plan_shows_the_work_and_where_it_runs():
    done = vidgen("plan", EXAMPLE, "--json")
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    assert plan["graph"]["scenes"] == 4 and plan["graph"]["speech_requests"] == 10
    assert plan["graph"]["chunks"] >= 1
    text = vidgen("plan", EXAMPLE, env={**os.environ, "COLUMNS": "160"}).stdout
    for heading in ("Task graph", "Placement", "Estimate"):
        assert heading in text


def test_picture_options_are_listed_and_a_bad_rendition_is_named(tmp_path):
    text = vidgen("render", "--help", env={**os.environ, "COLUMNS": "200"}).stdout
    for option in ("--transition", "--burn-subtitles", "--subtitle-font", "--subtitle-size",
                   "--subtitle-outline", "--subtitle-position", "--subtitle-box",
                   "--subtitle-fonts-dir", "--subtitle-max-cps", "--subtitle-speakers",
                   "--rendition"):
        assert option in text
    done = vidgen("render", EXAMPLE, "-o", tmp_path, "--rendition", "1080p")
    assert done.returncode == 2
    assert "'1080p' is not WIDTHxHEIGHT" in done.stderr and "1080x1920" in done.stderr
