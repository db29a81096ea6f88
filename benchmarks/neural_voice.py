"""Kokoro speech, warm: real-time factor on this machine's CPU (and on a GPU when one is
visible), for the demo's lines.

    .venv/bin/python benchmarks/neural_voice.py [--threads N] [--lines N]

The model is the full-size Kokoro-82M architecture (the published config.json: ALBERT 12 x
768, 3 prosody layers, the iSTFTNet decoder) with random weights, written in the hub's
layout to a temporary folder and loaded through ``KokoroBackend`` (the same code path as the
real weights). Its duration head is set to three frames (75 ms) per phoneme, a natural
speaking rate, so each line is as long as real speech of it would be; the compute per
second of audio is then that of the real model. Each line goes through the whole backend:
espeak-ng phonemes, the model, and FFmpeg's resampling to 48 kHz.

RTF = seconds of audio / seconds of wall-clock compute (above 1: faster than real time).
The load average is printed beside it: on a shared machine RTF is a lower bound. "Audio s
per CPU s" divides by the CPU time the work used (this process's threads plus espeak-ng and
FFmpeg), which other jobs on the machine barely change: with N free cores kept busy, RTF is
about N times it. Writes
benchmarks/results/neural_voice.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from machine import machine  # noqa: E402

ROOT = Path(__file__).parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "neural_voice.json"


def demo_lines(count: int) -> list[str]:
    from vidgen_ray.analysis.local import analyze_markdown

    board = analyze_markdown((ROOT / "examples" / "lighthouse.md").read_text("utf-8"))
    lines = [line.text for scene in board.scenes for line in scene.lines]
    return (lines * (count // len(lines) + 1))[:count]


def measure(folder: Path, device: str, lines: list[str]) -> dict:
    import torch

    from vidgen_ray.speech.base import SpeechRequest
    from vidgen_ray.speech.kokoro import KokoroBackend, KokoroOptions

    backend = KokoroBackend(KokoroOptions(model=str(folder), offline=True, device=device))
    start = time.perf_counter()
    backend.load()
    load_s = time.perf_counter() - start
    requests = [SpeechRequest(text, "af_heart", "en") for text in lines]
    backend.synthesize(requests[:1])  # warm: first-call allocations, kernels
    if device == "cuda":
        torch.cuda.synchronize()
    start, cpu = time.perf_counter(), _cpu_seconds()
    speeches = backend.synthesize(requests)
    if device == "cuda":
        torch.cuda.synchronize()
    compute, cpu = time.perf_counter() - start, _cpu_seconds() - cpu
    audio = sum(s.duration for s in speeches)
    return {"device": device, "threads": torch.get_num_threads(), "lines": len(lines),
            "audio_s": round(audio, 2), "compute_s": round(compute, 2),
            "rtf": round(audio / compute, 2), "cpu_s": round(cpu, 2),
            "audio_per_cpu_s": round(audio / cpu, 2), "load_s": round(load_s, 2)}


def _cpu_seconds() -> float:
    """CPU time of this process (all its threads) and its finished children (espeak-ng,
    FFmpeg): what the work costs, whatever else the machine is running."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--lines", type=int, default=8, help="lines spoken (demo lines)")
    args = parser.parse_args(argv)
    import torch

    from vidgen_ray.testing.tiny_kokoro import build_kokoro, full_config

    if args.threads:
        torch.set_num_threads(args.threads)
    lines = demo_lines(args.lines)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = build_kokoro(Path(tmp) / "kokoro", config=full_config(), voices=("af_heart",))
        params = sum(t.numel() for part in torch.load(folder / "kokoro-v1_0.pth").values()
                     for t in part.values())
        results.append(measure(folder, "cpu", lines))
        if torch.cuda.is_available():
            results.append(measure(folder, "cuda", lines))
    load = os.getloadavg()
    report = {"benchmark": "neural_voice", "machine": machine(), "model": "Kokoro-82M "
              f"architecture, random weights ({params / 1e6:.1f} M parameters)",
              "load_average": [round(x, 2) for x in load], "results": results,
              "gpu": "measured" if torch.cuda.is_available() else "not measured (no GPU)"}
    print(f"{report['machine']}\n{report['model']}; load average {load[0]:.1f} "
          f"(shared machine: other jobs running, so these are lower bounds)")
    print(f"{'device':<7}{'threads':>8}{'lines':>6}{'audio s':>9}{'compute s':>11}{'RTF':>7}"
          f"{'CPU s':>8}{'audio s per CPU s':>19}")
    for r in results:
        print(f"{r['device']:<7}{r['threads']:>8}{r['lines']:>6}{r['audio_s']:>9}"
              f"{r['compute_s']:>11}{r['rtf']:>7}{r['cpu_s']:>8}{r['audio_per_cpu_s']:>19}")
    if not torch.cuda.is_available():
        print("GPU: not measured (none visible)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
