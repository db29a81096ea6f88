"""Which models the e2e render runs, and the settings and pool factories for them.

- ``tiny``: the tiny random-weight SDXL and Bark (vidgen_ray/testing), loaded from folders
  by the real loaders, on the CPU: the same path as a GPU render, at toy sizes.
- ``real``: SDXL base and suno/bark from the Hugging Face cache (never downloaded).
- ``random``: where they are not cached, the full-size architectures with random fp16 weights
  built on the GPU (vidgen_ray/testing/full_size.py); Bark lines stop at a token budget
  proportional to their text. Timings hold for the architectures, not the pictures or voices.
- ``projection``: fakes that sleep for measured per-call latencies (a card's, from an earlier
  e2e JSON or BENCHMARKS.md) on logical GPUs; FFmpeg stays real, on this machine's CPUs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from vidgen_ray.config import RenderSettings, hf_hub_cache
from vidgen_ray.models.registry import models_for
from vidgen_ray.models.status import model_status
from vidgen_ray.testing import full_size
from vidgen_ray.testing.measured import MeasuredImageBackend, MeasuredSpeechBackend

# Measured on one card (BENCHMARKS.md: SDXL 1024x1024 fp16+SDPA on an H200, 30 steps, batch 1
# 1.826 s and batch 4 5.444 s a call; Bark fast decoding on an H100, 5 s lines, batch 1 1.40 s
# and batch 16 2.77 s a call), as a call's fixed part plus a part per request.
# SDXL's per-step cost is scaled to the render's steps.
BENCHMARKS_LATENCY = {"image": {"fixed_s": 0.620, "per_request_s": 1.206, "steps": 30},
                      "speech": {"fixed_s": 1.309, "per_request_s": 0.091}}
# Peak GPU memory a worker needs at its batch (BENCHMARKS.md): SDXL batch 4, Bark batch 16.
IMAGE_GPU_GB, SPEECH_GPU_GB = 26.0, 6.0
TINY_STEPS = 4


@dataclass
class Models:
    kind: str  # tiny, real, random, projection
    note: str  # said in the table and the JSON
    settings: dict = field(default_factory=dict)  # RenderSettings fields
    factories: dict = field(default_factory=dict)  # kind -> pool-worker backend factory
    latency: dict | None = None  # projection: the latencies the fakes sleep


def real_weights_cached() -> bool:
    """Whether SDXL base, Bark and its voices are complete in the Hugging Face cache."""
    specs = {s.name: s for s in models_for(RenderSettings())}
    cache = Path(hf_hub_cache())
    return all(model_status(cache, specs[name]).state == "complete"
               for name in ("sdxl", "bark", "bark-voices"))


def choose(mode: str, folder: Path, base: dict) -> Models:
    """The models for ``mode`` (tiny, gpu or projection); ``base``: the render's settings,
    to which the model fields are added. ``folder`` holds the tiny models when built."""
    if mode == "tiny":
        tiny = _tiny_folders(folder)
        return Models("tiny", "tiny random-weight SDXL and Bark on the CPU: the GPU path at toy "
                      "sizes; the seconds say nothing about a GPU",
                      {"sdxl_model": str(tiny["sdxl"]), "bark_model": str(tiny["bark"]),
                       "image_resolution": "64x64", "image_inference_steps": TINY_STEPS,
                       # the fast path's LoRA, for --fast (read only when it is on)
                       "image_fast_lora": str(tiny["fast_lora"])})
    if mode == "gpu" and real_weights_cached():
        return Models("real", "real weights (SDXL base 1.0, suno/bark) from the cache")
    tiny = _tiny_folders(folder)  # casting reads voice presets of the real shape from here
    settings = {"bark_model": str(tiny["bark"])}
    if mode == "gpu":
        return Models("random", "full-size SDXL base and Bark architectures with RANDOM fp16 "
                      "weights (no real weights cached): timings hold for the architectures, "
                      "not the pictures or voices; Bark lines capped at a token budget "
                      "proportional to their text", settings,
                      {"image": partial(full_size.sdxl_backend, _settings(base, settings)),
                       "speech": partial(full_size.bark_backend, _settings(base, settings))})
    raise ValueError(f"unknown mode {mode!r}")


def projection(folder: Path, source: Path | None, steps: int) -> Models:
    """Fakes sleeping for measured latencies: from ``source`` (an earlier e2e JSON with
    per-call timings from a GPU) when given, else BENCHMARKS.md's numbers."""
    latency = fitted_latency(json.loads(source.read_text())) if source else {
        "image": _per_step(BENCHMARKS_LATENCY["image"], steps),
        "speech": dict(BENCHMARKS_LATENCY["speech"])}
    origin = str(source) if source else "BENCHMARKS.md's GPU numbers"
    tiny = _tiny_folders(folder)
    return Models(
        "projection", f"PROJECTION: model calls sleep for latencies measured on a GPU "
        f"({origin}); FFmpeg runs for real on this machine's CPUs",
        {"bark_model": str(tiny["bark"])},
        {"image": partial(MeasuredImageBackend, **latency["image"]),
         "speech": partial(MeasuredSpeechBackend, **latency["speech"])}, latency)


def motion_settings(mode: str, folder: Path) -> tuple[dict, str]:
    """``--motion clip``'s settings and what they are: the tiny LTX-Video for ``tiny``
    (clips of 9 frames at 8 fps, two steps, one per scene at most), else LTX-Video from the
    Hugging Face cache (offline, its default clips); a full-size random-weight LTX-Video is
    not built yet, so a GPU run without the real weights fails at its loader, naming it."""
    if mode == "tiny":
        from vidgen_ray.testing.tiny_ltx import build_ltx

        if not (folder / "ltx" / "model_index.json").exists():
            build_ltx(folder / "ltx")
        return ({"video_model": "ltx", "ltx_model": str(folder / "ltx"), "ltx_steps": 2,
                 "ltx_frames": 9, "ltx_fps": 8, "ltx_clip_side": 96, "clip_crossfade": 0.25,
                 "max_clips_per_scene": 1},
                "every scene a clip of the tiny random-weight LTX-Video")
    if mode == "gpu":
        return {"video_model": "ltx"}, "every scene a clip of LTX-Video (cached weights)"
    raise ValueError("--motion clip runs with --tiny or on a GPU, not as a projection")


def _per_step(measured: dict, steps: int) -> dict:
    scale = steps / measured["steps"]
    return {"fixed_s": round(measured["fixed_s"] * scale, 3),
            "per_request_s": round(measured["per_request_s"] * scale, 3)}


def fitted_latency(report: dict) -> dict:
    """Fixed and per-request seconds of each kind's calls, fitted by least squares to the
    calls an earlier e2e run recorded (its measured render, every worker)."""
    out = {}
    for kind in ("image", "speech"):
        calls = [(c["requests"], c["end"] - c["start"]) for run in report["runs"]
                 for w in run["workers"] if w["kind"] == kind for c in w["calls"]]
        if not calls:
            raise ValueError(f"{kind}: the JSON holds no timed calls to project from")
        out[kind] = fit_line(calls)
    return out


def fit_line(points: list[tuple[int, float]]) -> dict:
    """seconds = fixed + per_request * requests, by least squares (one batch size: all of
    it per request)."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    if spread == 0:
        return {"fixed_s": 0.0, "per_request_s": round(mean_y / mean_x, 4)}
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread
    slope = max(slope, 0.0)
    return {"fixed_s": round(max(mean_y - slope * mean_x, 0.0), 4),
            "per_request_s": round(slope, 4)}


def _tiny_folders(folder: Path) -> dict[str, Path]:
    from vidgen_ray.testing.tiny_bark import build_bark
    from vidgen_ray.testing.tiny_sdxl import build_lora, build_sdxl

    folders = {"sdxl": folder / "sdxl", "bark": folder / "bark",
               "fast_lora": folder / "fast_lora"}
    if not (folders["sdxl"] / "model_index.json").exists():
        build_sdxl(folders["sdxl"])
    if not folders["fast_lora"].exists():
        build_lora(folders["fast_lora"])
    if not (folders["bark"] / "config.json").exists():
        build_bark(folders["bark"])
    return folders


def _settings(base: dict, extra: dict) -> RenderSettings:
    return RenderSettings(**base, **extra)
