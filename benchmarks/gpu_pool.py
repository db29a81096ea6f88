"""SDXL and Bark through the farm's pools, warm: what gpu_images.py and gpu_speech.py measure in
process, measured as a farm serves it. One resident worker per model, both on one GPU through
fractional shares (a WorkerPool each, the actors the Farm starts), called the way jobs call
them; on the CPU (``--tiny`` or no CUDA) the tiny models on one logical GPU.

    .venv/bin/python benchmarks/gpu_models.py --images --speech --pool [--tiny]

Both pools start together (actors placed, models loaded: ``start_s``); then per model and
batch size one warm-up
call and the best of two timed calls: seconds a call, per request, and the worker's peak
memory (torch's on a GPU, RSS on the CPU). SDXL: 1024x1024, 30 steps, batch 1 and 4, as in
process. Bark: one line and 12 lines in a call (random full-size weights stop each line at a
budget proportional to its text: vidgen_ray/testing/full_size.py).
"""

from __future__ import annotations

import asyncio
import io
import tempfile
import time
import wave
from pathlib import Path

IMAGE_BATCHES = (1, 4)
SPEECH_LINES = (1, 12)
TIMED_CALLS = 2
TEXT = ("The old lighthouse keeper climbed the stairs one last time, counting every step "
        "as he had for forty years.")


def run(images: bool, speech: bool, tiny: bool) -> dict:
    import os

    import torch
    from common import start_ray

    cuda = torch.cuda.is_available() and not tiny
    start_ray(os.cpu_count() or 2, 1)
    try:
        return asyncio.run(_measure(images, speech, cuda))
    finally:
        import ray

        ray.shutdown()


async def _measure(images: bool, speech: bool, cuda: bool) -> dict:
    import e2e_models

    from vidgen_ray.config import RenderSettings

    folder = Path(tempfile.mkdtemp(prefix="vidgen_pool_"))
    base = {"image_model": "sdxl", "tts_model": "bark", "offline": True,
            "image_safety_checker": False, "image_workers": 1, "speech_workers": 1,
            "image_batch_size": max(IMAGE_BATCHES), "speech_batch_size": max(SPEECH_LINES),
            "image_resolution": "1024x1024", "image_inference_steps": 30,
            "image_gpu_gb": e2e_models.IMAGE_GPU_GB, "speech_gpu_gb": e2e_models.SPEECH_GPU_GB,
            "gpu_memory_gb": 80.0}
    models = e2e_models.choose("gpu" if cuda else "tiny", folder / "models", base)
    settings = RenderSettings(**{**base, **models.settings})
    print(f"pools: {models.note}")
    cases: dict[str, dict[str, list]] = {}
    if images:
        side = 1024 if cuda else 64
        cases["image"] = {f"batch {b}": _pictures(b, side) for b in IMAGE_BATCHES}
    if speech:
        voice = "v2/en_speaker_6" if models.kind == "real" else "v2/en_speaker_0"
        cases["speech"] = {f"{n} line{'s' * (n > 1)}": _lines(n, voice) for n in SPEECH_LINES}
    pools, started = await _start(cases, settings, models)
    out: dict = {"models": models.kind, "note": models.note, "start_s": started}
    try:
        for kind, pool in pools.items():  # both resident, side by side on the GPU
            out["images" if kind == "image" else "speech"] = await _rows(pool, cases[kind])
    finally:
        await asyncio.gather(*[pool.shutdown() for pool in pools.values()])
    return out


async def _start(cases: dict, settings, models) -> tuple[dict, float]:
    """Both pools started together, as a job's are; seconds until both are ready."""
    from vidgen_ray.farm.actors.pool import WorkerPool

    pools = {kind: WorkerPool(kind, settings, size=1, factory=models.factories.get(kind))
             for kind in cases}
    started = time.perf_counter()
    await asyncio.gather(*[pool.start() for pool in pools.values()])
    return pools, round(time.perf_counter() - started, 2)


async def _rows(pool, cases: dict[str, list]) -> dict:
    kind = pool.kind
    rows: dict = {"gpu_share": pool.options.get("num_gpus", 0.0),
                  "gpu_ids": pool.ready_info[0].get("gpu_ids"), "cases": {}}
    for name, requests in cases.items():
        await pool.call(requests)  # warm-up: kernels, graphs, allocator
        times, results = [], []
        for _ in range(TIMED_CALLS):
            begun = time.perf_counter()
            results = await pool.call(requests)
            times.append(time.perf_counter() - begun)
        best = min(times)
        row = {"requests": len(requests), "call_s": [round(t, 3) for t in times],
               "per_request_s": round(best / len(requests), 3)}
        if kind == "speech":
            audio = sum(_wav_seconds(w) for w in results)
            row |= {"audio_s": round(audio, 2), "rtf": round(audio / best, 2)}
        rows["cases"][name] = row
        print(f"  {kind} via pool, {name}: {best:.3f} s a call, "
              f"{row['per_request_s']:.3f} s a request")
    (stats,) = await pool.stats()
    rows["gpu_peak_gib"] = _gib(stats.get("gpu_peak_allocated_bytes"))
    rows["rss_peak_gib"] = _gib(stats.get("peak_rss_bytes"))
    return rows


def _pictures(batch: int, side: int) -> list:
    from vidgen_ray.images.base import ImageRequest

    return [ImageRequest(scene_number=n + 1, title="", description="a lighthouse on a cliff "
                         f"at dusk, waves breaking, scene {n + 1}", characters=(), mood="calm",
                         width=side, height=side, seed=n) for n in range(batch)]


def _lines(count: int, voice: str) -> list:
    from vidgen_ray.speech.base import SpeechRequest

    return [SpeechRequest(text=TEXT, voice=voice, language="en") for _ in range(count)]


def _wav_seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as audio:
        return audio.getnframes() / audio.getframerate()


def _gib(value: int | None) -> float | None:
    return round(value / 2**30, 2) if value is not None else None
