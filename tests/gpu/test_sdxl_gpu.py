"""SDXL on a CUDA GPU: skipped without one. The tiny model checks the CUDA code path (fp16,
CPU offload, VAE tiling, compile); the real-weights test also needs SDXL in the Hugging Face
cache and records its latency and peak memory (timings proper are in benchmarks/)."""

from __future__ import annotations

import io
import time

import pytest

torch = pytest.importorskip("torch")
pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]

from PIL import Image  # noqa: E402

from vidgen_ray.errors import DependencyError  # noqa: E402
from vidgen_ray.images.base import ImageRequest, Sampling  # noqa: E402
from vidgen_ray.images.sdxl import SdxlBackend  # noqa: E402
from vidgen_ray.images.sdxl_options import SdxlOptions  # noqa: E402
from vidgen_ray.testing.tiny_sdxl import build_sdxl  # noqa: E402

REAL = "stabilityai/stable-diffusion-xl-base-1.0"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return str(build_sdxl(tmp_path_factory.mktemp("models") / "sdxl"))


def _request(width: int, height: int, seed: int = 1, draw=(64, 64), steps: int = 2
             ) -> ImageRequest:
    return ImageRequest(1, "Harbour", "boats in a harbour at dawn", (), "calm", width, height,
                        seed, sampling=Sampling(*draw, steps=steps, guidance_scale=7.5,
                                                style="none"))


def _size(png: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(png)).size


def test_tiny_sdxl_runs_in_fp16_on_the_gpu(tiny):
    backend = SdxlBackend(SdxlOptions(model=tiny, offline=True,
                                      safety_checker=False))
    assert backend.plan.dtype == "float16"
    assert backend.pipe.unet.dtype == torch.float16
    assert backend.pipe.unet.device.type == "cuda"
    first, second = backend.generate([_request(160, 90)]), backend.generate([_request(160, 90)])
    assert _size(first[0]) == (160, 90) and first == second


def test_tiny_sdxl_with_cpu_offload_bf16_and_vae_tiling(tiny):
    backend = SdxlBackend(SdxlOptions(model=tiny, offline=True, safety_checker=False,
                                      cpu_offload=True, half_dtype="bf16"))
    assert backend.pipe.unet.dtype == torch.bfloat16
    png = backend.generate([_request(2048, 64, draw=(2048, 64))])[0]
    assert _size(png) == (2048, 64)
    assert backend.pipe.vae.use_tiling  # drawings of 2K and above decode in tiles


def test_tiny_sdxl_compiled(tiny):
    backend = SdxlBackend(SdxlOptions(model=tiny, offline=True,
                                      safety_checker=False, compile=True))
    assert _size(backend.generate([_request(64, 64)])[0]) == (64, 64)


def test_real_sdxl_1024_fp16_latency_and_peak_memory(record_property):
    try:
        backend = SdxlBackend(SdxlOptions(model=REAL, offline=True, safety_checker=False))
    except DependencyError as exc:
        pytest.skip(f"real SDXL weights are not in the Hugging Face cache: {exc}")
    backend.generate([_request(1024, 1024, draw=(1024, 1024), steps=30)])  # warm
    torch.cuda.reset_peak_memory_stats()
    torch.cuda.synchronize()
    start = time.perf_counter()
    png = backend.generate([_request(1024, 1024, 2, draw=(1024, 1024), steps=30)])[0]
    torch.cuda.synchronize()
    latency = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated() / 2**30
    record_property("latency_s", round(latency, 3))
    record_property("peak_vram_gb", round(peak, 2))
    print(f"SDXL 1024x1024 30 steps fp16: {latency:.2f} s, peak {peak:.1f} GB "
          f"on {torch.cuda.get_device_name(0)}")
    image = Image.open(io.BytesIO(png))
    assert image.size == (1024, 1024)
    assert max(image.convert("L").getextrema()) > 0  # not a black (flagged or NaN) picture
