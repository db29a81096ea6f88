"""SDXL pictures, warm: latency per image, images/s and peak VRAM at 1024x1024, 30 steps,
batch 1 and 4, with fp16+SDPA and with torch.compile of the UNet. Called by gpu_models.py.

On CUDA it loads real SDXL weights if they are in the Hugging Face cache (never downloads);
without them it builds the full-size SDXL architecture from the published configs with
random weights, directly in fp16 on the GPU: the timings are then valid for the
architecture (the same kernels and shapes), not for the picture. Without CUDA (or with
``tiny``) it runs the tiny random-weight model on the CPU at 64x64 and says so.
Everything goes through SdxlBackend.generate, the code renders use.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository's vidgen_ray

from vidgen_ray.images.base import ImageRequest, Sampling  # noqa: E402
from vidgen_ray.images.sdxl import SdxlBackend  # noqa: E402
from vidgen_ray.images.sdxl_options import SdxlOptions  # noqa: E402

REAL_MODEL = "stabilityai/stable-diffusion-xl-base-1.0"
STEPS = 30
BATCHES = (1, 4)
TIMED_CALLS = 2  # per batch size, after one warm-up call
COMPILE_DEADLINE_S = 170  # past this, compile's batch-4 run (a recompile) is skipped


def full_size_pipeline(device: str = "cuda"):
    """SDXL base with random fp16 weights (vidgen_ray/testing/full_size.py)."""
    from vidgen_ray.testing.full_size import full_size_sdxl

    return full_size_sdxl(device)


def _requests(batch: int, size: tuple[int, int]) -> list[ImageRequest]:
    return [ImageRequest(scene_number=n + 1, title="", description=f"a lighthouse on a cliff "
                         f"at dusk, waves breaking, scene {n + 1}", characters=(), mood="calm",
                         width=size[0], height=size[1], seed=n,
                         sampling=Sampling(*size, steps=STEPS, guidance_scale=7.5, style="none"))
            for n in range(batch)]


def _measure(backend: SdxlBackend, size: tuple[int, int], label: str, started: float,
             compiled: bool) -> list[dict]:
    import torch

    cuda = torch.cuda.is_available() and backend.plan.device == "cuda"
    rows = []
    for batch in BATCHES:
        if compiled and batch > 1 and time.perf_counter() - started > COMPILE_DEADLINE_S:
            print(f"  {label}: batch {batch} skipped (compile time budget used)")
            continue
        requests = _requests(batch, size)
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        warm_start = time.perf_counter()
        backend.generate(requests)  # warm-up: kernels chosen, compiled, cached
        warm_up = time.perf_counter() - warm_start
        times = []
        for _ in range(TIMED_CALLS):
            if cuda:
                torch.cuda.synchronize()
            start = time.perf_counter()
            backend.generate(requests)
            if cuda:
                torch.cuda.synchronize()
            times.append(time.perf_counter() - start)
        best = min(times)
        rows.append({"config": label, "batch": batch, "size": f"{size[0]}x{size[1]}",
                     "steps": STEPS, "warm_up_s": round(warm_up, 2),
                     "call_s": [round(t, 3) for t in times],
                     "latency_per_image_s": round(best / batch, 3),
                     "images_per_s": round(batch / best, 3),
                     "peak_vram_gb": (round(torch.cuda.max_memory_allocated() / 2**30, 2)
                                      if cuda else None)})
        print(f"  {label:<14} batch {batch}: {best / batch:7.3f} s/image  "
              f"{batch / best:6.2f} images/s  warm-up {warm_up:6.1f} s"
              + (f"  peak {rows[-1]['peak_vram_gb']} GB" if cuda else ""))
    return rows


def _options(model: str, compile_unet: bool) -> SdxlOptions:
    # The size and steps travel with each request (_requests).
    return SdxlOptions(model=model, safety_checker=False, compile=compile_unet, offline=True,
                       batch_size=max(BATCHES))


def run(tiny: bool = False) -> dict:
    import torch

    started = time.perf_counter()
    if tiny or not torch.cuda.is_available():
        return _run_tiny(started)
    torch.backends.cuda.matmul.allow_tf32 = True
    size = (1024, 1024)
    results: dict = {"card": torch.cuda.get_device_name(0), "torch": torch.__version__}
    try:
        backend = SdxlBackend(_options(REAL_MODEL, False))
        results["weights"] = f"real ({REAL_MODEL} from the Hugging Face cache)"
        pipe = backend.pipe
    except Exception as exc:  # noqa: BLE001 - any reason the real weights are not here
        print(f"  real weights not available ({type(exc).__name__}): building the full-size "
              "SDXL architecture with random fp16 weights; timings are valid for the "
              "architecture, not the picture")
        pipe = full_size_pipeline()
        pipe.set_progress_bar_config(disable=True)
        backend = SdxlBackend(_options(REAL_MODEL, False), pipeline=pipe)
        results["weights"] = ("random, full-size SDXL architecture in fp16: timings valid for "
                              "the architecture, not the picture")
    print(f"SDXL {size[0]}x{size[1]}, {STEPS} steps on {results['card']} "
          f"({results['weights']})")
    rows = _measure(backend, size, "fp16+SDPA", started, compiled=False)
    try:
        compiled = SdxlBackend(_options(REAL_MODEL, True), pipeline=pipe)
        rows += _measure(compiled, size, "fp16+compile", time.perf_counter(), compiled=True)
    except Exception as exc:  # noqa: BLE001 - report what ran; a compiler failure is a result
        print(f"  fp16+compile failed: {type(exc).__name__}: {str(exc)[:300]}")
        results["compile_error"] = f"{type(exc).__name__}: {str(exc)[:1000]}"
    results["rows"] = rows
    results["target"] = "<= 1.5 s per 1024x1024 30-step image, warm, on one H100"
    return results


def _run_tiny(started: float) -> dict:
    import torch

    from vidgen_ray.testing.tiny_sdxl import build_sdxl

    note = ("no CUDA: tiny random-weight SDXL on the CPU at 64x64 (timings say nothing "
            "about a GPU; compile needs CUDA and is not run)")
    print(f"SDXL: {note}")
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as folder:
        model = str(build_sdxl(Path(folder) / "sdxl"))
        backend = SdxlBackend(_options(model, False))
        rows = _measure(backend, (64, 64), "fp32 (tiny)", started, compiled=False)
    return {"card": "CPU", "weights": note, "rows": rows}
