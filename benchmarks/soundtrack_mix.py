"""What does the richer soundtrack cost? The mix stage (render_soundtrack: mix, measure,
normalise) on examples/lighthouse.md, voiced by espeak-ng: the default (no stems), with WAV
stems, and, given ``--before PATH`` (the old single-file vidgen_ray/audio.py), the previous
recipe on the same timeline. Medians of ``--runs`` (wall and FFmpeg CPU seconds); prints
a table and writes benchmarks/results/soundtrack_mix.json.

    .venv/bin/python benchmarks/soundtrack_mix.py [--before ../main/vidgen_ray/audio.py]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import resource
import statistics
import tempfile
import time
from pathlib import Path

from vidgen_ray import audio
from vidgen_ray.pipeline.source import load_storyboard
from vidgen_ray.speech.base import Speech, SpeechRequest
from vidgen_ray.speech.espeak import EspeakBackend
from vidgen_ray.timeline import Pacing, plan_timeline

EXAMPLE = Path("examples/lighthouse.md")


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


def timed(runs: int, work) -> tuple[float, float]:
    """Median wall seconds and median CPU seconds of the FFmpeg processes. CPU time is the
    figure to compare on a shared machine, where wall time depends on the neighbours."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        work()
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return round(statistics.median(walls), 3), round(statistics.median(cpus), 3)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", type=Path, help="the previous audio.py, to compare")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        board, timeline, wav = voiced(folder)
        row = {"machine": _machine(), "audio_s": round(timeline.duration, 2),
               "scenes": len(board.scenes), "sfx": sum(len(s.sfx) for s in board.scenes),
               "runs": args.runs}

        def now(stems):
            return lambda: audio.render_soundtrack(wav, board, timeline, 0, -16.0, folder,
                                                   folder / "out.wav", stems=stems)

        row["default_s"], row["default_cpu_s"] = timed(args.runs, now(None))
        row["stems_wav_s"], row["stems_wav_cpu_s"] = timed(args.runs, now("wav"))
        if args.before:
            spec = importlib.util.spec_from_file_location("audio_before", args.before)
            before = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(before)
            row["before_s"], row["before_cpu_s"] = timed(args.runs, lambda: (
                before.render_soundtrack(wav, board, timeline, 0, -16.0, folder,
                                         folder / "old.wav")))
    print(f"machine: {row['machine']}; {row['audio_s']} s of audio, {row['scenes']} scenes, "
          f"{row['sfx']} effects; median of {row['runs']}")
    print(f"{'':>10}{'before':>9}{'default':>9}{'wav stems':>11}")
    for unit in ("s", "cpu_s"):
        print(f"{'wall s' if unit == 's' else 'cpu s':>10}"
              f"{row.get(f'before_{unit}', float('nan')):>9.2f}{row[f'default_{unit}']:>9.2f}"
              f"{row[f'stems_wav_{unit}']:>11.2f}")
    target = Path("benchmarks/results/soundtrack_mix.json")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(row, indent=2) + "\n")


def _machine() -> str:
    try:
        cpu = next((line.split(":", 1)[1].strip() for line in
                    Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), platform.processor())
    except OSError:
        cpu = platform.processor()
    return f"{cpu}, {os.cpu_count()} CPUs"


if __name__ == "__main__":
    main()
