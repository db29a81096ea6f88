"""What does the richer soundtrack cost? The mix stage (render_soundtrack: mix, measure,
normalise) on examples/lighthouse.md, voiced by espeak-ng: the default (no stems), with WAV
stems, and, with ``--baseline``, the recipe before the sound work (the single-file
vidgen_ray/audio.py of commit BEFORE_SOUND, read from git history, its one moved import
pointed at programs.py) on the same timeline. ``--runs`` rounds, each running every recipe
once in an order rotated each round; median (min-max) of wall and FFmpeg CPU seconds (the
figure to compare on a shared machine). Prints the command and a table and writes
benchmarks/results/soundtrack_mix.json.

    .venv/bin/python benchmarks/soundtrack_mix.py [--runs 3] [--baseline]
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import types
from functools import partial
from pathlib import Path

from common import (  # benchmarks/common.py (a script's folder is on sys.path)
    alternate,
    command,
    rotations,
    spread,
    spread_text,
    timed,
    write_results,
)
from machine import machine

from vidgen_ray import audio
from vidgen_ray.pipeline.source import load_storyboard
from vidgen_ray.speech.base import Speech, SpeechRequest
from vidgen_ray.speech.espeak import EspeakBackend
from vidgen_ray.timeline import Pacing, plan_timeline

EXAMPLE = Path("examples/lighthouse.md")
BEFORE_SOUND = "0044c7d"  # the commit before b92a73d (the audio package): the old recipe


def voiced(folder: Path):
    board = load_storyboard(EXAMPLE)
    backend = EspeakBackend()
    voices = backend.cast(board, None)
    lines = [line for scene in board.scenes for line in scene.lines]
    speeches = backend.synthesize([SpeechRequest(line.text, voices[line.speaker],
                                                 board.language) for line in lines])
    seconds, at = [], 0
    for scene in board.scenes:
        seconds.append([s.duration for s in speeches[at:at + len(scene.lines)]])
        at += len(scene.lines)
    timeline = plan_timeline(board, seconds, Pacing())
    rate = speeches[0].sample_rate
    track = audio.place_speech([c.start for c in timeline.cues],
                               [s.samples for s in speeches], rate, timeline.duration)
    wav = folder / "speech.wav"
    wav.write_bytes(Speech(track, rate).to_wav())
    return board, timeline, wav


def old_audio() -> types.ModuleType:
    """vidgen_ray/audio.py as it was at BEFORE_SOUND (ffmpeg.py has since become programs.py)."""
    root = Path(__file__).resolve().parents[1]
    source = subprocess.run(["git", "show", f"{BEFORE_SOUND}:vidgen_ray/audio.py"], cwd=root,
                            check=True, capture_output=True, text=True).stdout
    source = source.replace("from vidgen_ray.ffmpeg import ffmpeg",
                            "from vidgen_ray.programs import ffmpeg")
    module = types.ModuleType("audio_before_sound")
    exec(compile(source, f"{BEFORE_SOUND}:vidgen_ray/audio.py", "exec"), module.__dict__)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", action="store_true",
                        help=f"also the recipe before the sound work (git {BEFORE_SOUND})")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"Command: {command()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        board, timeline, wav = voiced(folder)

        def now(stems):
            return lambda: audio.render_soundtrack(wav, board, timeline, 0, -16.0, folder,
                                                   folder / "out.wav", stems=stems)

        recipes = {"default": now(None), "stems_wav": now("wav")}
        if args.baseline:
            old = old_audio()
            recipes = {"before": lambda: old.render_soundtrack(
                wav, board, timeline, 0, -16.0, folder, folder / "old.wav"), **recipes}
        runs = alternate({name: partial(timed, work) for name, work in recipes.items()},
                         args.runs)
    order = rotations(list(recipes), args.runs)
    loads = [r["load_start"] for series in runs.values() for r in series]
    row = {"command": command(), "machine": machine(), "audio_s": round(timeline.duration, 2),
           "scenes": len(board.scenes), "sfx": sum(len(s.sfx) for s in board.scenes),
           "runs": args.runs, "order": order, "load_average_1min": spread(loads),
           "each": runs}
    for name, series in runs.items():  # before_s, default_cpu_s, ...: medians, as before
        row[f"{name}_s"] = spread([r["wall_s"] for r in series], 3)["median"]
        row[f"{name}_cpu_s"] = spread([r["cpu_s"] for r in series], 3)["median"]
    print(f"machine: {row['machine']}; {row['audio_s']} s of audio, {row['scenes']} scenes, "
          f"{row['sfx']} effects; {args.runs} rounds, rotated; median (min-max); 1-min load "
          f"average {min(loads)}-{max(loads)}")
    print(f"{'':<8}" + "".join(f"{name:>22}" for name in runs))
    for unit in ("wall_s", "cpu_s"):
        print(f"{unit:<8}" + "".join(f"{spread_text([r[unit] for r in series]):>22}"
                                     for series in runs.values()))
    print(f"written {write_results('soundtrack_mix', row)}")


if __name__ == "__main__":
    main()
