"""Bark speech, warm: real-time factor at batch 1, 8 and 16, and 60 s of narration in 12 lines.

    .venv/bin/python benchmarks/gpu_models.py --speech [--tiny]

Runs through ``BarkBackend.generate``: the processor, one batched generate (semantic,
coarse, fine, Encodec) and the trim of each output to its own length, once with
transformers' ``BarkModel.generate`` and once with our fast decoding (``bark_decode.py``:
static KV cache, CUDA graphs), side by side in one process; the speed-up column is the
ratio. The
per-line finish (FFmpeg atempo and resampling to 48 kHz, a few ms) is not included.

Which model:
- CUDA with ``suno/bark`` in the Hugging Face cache: the real weights, fp16, preset
  ``v2/en_speaker_6``.
- CUDA without cached weights (an offline benchmark machine): the full-size ``suno/bark``
  architecture (FULL_BARK in vidgen_ray/testing/full_size.py: 3 x 24 layers, hidden 1024,
  16 heads, the published vocabularies, Encodec 24 kHz) with random weights, fp16, a random
  voice prompt of real shape. Timings are valid for the architecture, not the voice.
- No CUDA, or ``--tiny``: the tiny test model on CPU; the numbers only show the script works.

Random weights (almost) never sample end-of-speech, so every line is fixed at exactly its
semantic token budget (49.9 tokens per second of speech; minimum = maximum new tokens):
lines of LINE_SECONDS each, so 12 lines give 60 s, with real weights too. Audio seconds are
measured from the trimmed outputs.

Reported per case: lines, seconds of audio, compute seconds, RTF (seconds of audio per
second of compute; above 1 is faster than real time) and peak VRAM. Prints a table; the
caller (gpu_models.py) writes benchmarks/results/gpu_models.json.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

LINE_SECONDS = 5.0  # per line on a GPU: 12 lines = 60 s of narration
TINY_LINE_SECONDS = 1.0  # per line with the tiny model on CPU
BATCHES = (1, 8, 16)
DECODINGS = ("transformers", "fast")  # the first is the baseline of the speed-up column
TEXT = ("The old lighthouse keeper climbed the stairs one last time, counting every step "
        "as he had for forty years.")


def full_size_random(device: str):
    """suno/bark's architecture with random fp16 weights (vidgen_ray/testing/full_size.py,
    FULL_BARK: 3 x 24 layers, hidden 1024, the published vocabularies, Encodec 24 kHz)."""
    from vidgen_ray.testing.full_size import full_size_bark

    return full_size_bark(device)


def _backend(tiny: bool):
    """(backend, voice, what the model is)."""
    import torch

    from vidgen_ray.speech.bark import BarkBackend, BarkOptions
    from vidgen_ray.testing.tiny_bark import build_bark, voice_prompt

    if tiny or not torch.cuda.is_available():
        torch.set_num_threads(1)
        folder = build_bark(Path(tempfile.mkdtemp(prefix="bark_tiny_")) / "bark")
        backend = BarkBackend(BarkOptions(model=str(folder), offline=True, device="cpu"))
        return backend, "v2/en_speaker_0", "tiny random-weight Bark on CPU (not a GPU number)"
    try:
        backend = BarkBackend(BarkOptions(model="suno/bark", offline=True))
        backend.model()
        return backend, "v2/en_speaker_6", "suno/bark, real weights, fp16"
    except Exception as exc:  # noqa: BLE001 - no cached weights: say so and build them
        print(f"suno/bark not cached ({type(exc).__name__}): full-size random weights")
    model, processor = full_size_random("cuda")
    prompt = Path(tempfile.mkdtemp(prefix="bark_voice_")) / "voice.npz"
    import numpy as np

    np.savez(prompt, **voice_prompt(seed=6, seconds=6.0))
    backend = BarkBackend.from_loaded(model, processor, BarkOptions(device="cuda"))
    return (backend, str(prompt),
            "suno/bark architecture, random fp16 weights (valid for timing, not for voice)")


def _case(backend, voice: str, lines: int, seconds: float) -> dict:
    import torch

    from vidgen_ray.speech.bark_text import semantic_tokens

    cuda = torch.cuda.is_available() and backend._device().startswith("cuda")
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    outputs = backend.generate([TEXT] * lines, voice, exact_tokens=semantic_tokens(seconds))
    if cuda:
        torch.cuda.synchronize()
    compute = time.perf_counter() - start
    audio = sum(len(o) for o in outputs) / backend.sample_rate()
    return {"lines": lines, "audio_s": round(audio, 2), "compute_s": round(compute, 3),
            "rtf": round(audio / compute, 2),
            "peak_vram_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if cuda
            else None}


def run(tiny: bool = False) -> dict:
    import dataclasses

    import torch
    import transformers

    transformers.logging.set_verbosity_error()
    backend, voice, model = _backend(tiny)
    seconds = TINY_LINE_SECONDS if "tiny" in model else LINE_SECONDS
    print(f"speech: {model}; dtype {next(backend.model().parameters()).dtype}; "
          f"{seconds:g} s per line")
    sizes = {**{f"batch {b}": b for b in BATCHES},
             # On a GPU: 60 s of narration in 12 lines (the target: <= 10 s warm on one H100).
             f"{12 * seconds:g} s in 12 lines": 12}
    cases: dict[str, dict] = {}
    for decoding in DECODINGS:  # side by side, same model, same process
        backend.options = dataclasses.replace(backend.options, decoding=decoding)
        started = time.perf_counter()
        for lines in sizes.values():  # warm-up: kernels, allocator, a graph per batch size
            _case(backend, voice, lines, min(seconds, 1.0))
        print(f"{decoding}: warm-up {time.perf_counter() - started:.1f} s")
        for name, lines in sizes.items():
            cases[f"{name}, {decoding}"] = {**_case(backend, voice, lines, seconds),
                                            "decoding": decoding}
    print(f"{'case':<34}{'lines':>6}{'audio s':>9}{'compute s':>11}{'RTF':>8}{'VRAM GiB':>10}"
          f"{'speed-up':>10}")
    for name, row in cases.items():
        vram = "-" if row["peak_vram_gib"] is None else f"{row['peak_vram_gib']:.2f}"
        base = cases[name.replace(row["decoding"], DECODINGS[0])]
        row["speedup"] = round(base["compute_s"] / row["compute_s"], 2)
        print(f"{name:<34}{row['lines']:>6}{row['audio_s']:>9.1f}{row['compute_s']:>11.2f}"
              f"{row['rtf']:>8.2f}{vram:>10}{row['speedup']:>9.2f}x")
    return {"model": model, "line_seconds": seconds, "voice": voice,
            "torch": torch.__version__, "transformers": transformers.__version__,
            "cases": cases}
