"""On a CUDA GPU: `vidgen farm release` gives the GPU memory back, and the next request
loads the model again; the SDXL backend loads fp16-only weight files (what `vidgen models
download` fetches) through ``variant="fp16"``. Tiny SDXL; skipped without CUDA."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("ray")
pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]

from vidgen_ray.config import RenderSettings  # noqa: E402
from vidgen_ray.farm.actors.image_worker import ImageWorker  # noqa: E402
from vidgen_ray.images.base import ImageRequest, Sampling  # noqa: E402
from vidgen_ray.images.sdxl import SdxlBackend  # noqa: E402
from vidgen_ray.images.sdxl_options import SdxlOptions  # noqa: E402
from vidgen_ray.testing.tiny_sdxl import build_sdxl  # noqa: E402


def test_release_frees_gpu_memory_and_fp16_files_load(tmp_path):
    from diffusers import StableDiffusionXLPipeline

    pipe = StableDiffusionXLPipeline.from_pretrained(str(build_sdxl(tmp_path / "sdxl")))
    fp16 = tmp_path / "fp16"
    pipe.to(torch.float16).save_pretrained(fp16, variant="fp16")
    assert not list(fp16.rglob("diffusion_pytorch_model.safetensors"))  # fp16 files only
    options = SdxlOptions(model=str(fp16), safety_checker=False, half_precision=True)
    worker = ImageWorker("sdxl", RenderSettings(), factory=lambda: SdxlBackend(options))
    request = ImageRequest(1, "Harbour", "boats at dawn", (), "calm", 64, 64, 1,
                           sampling=Sampling(64, 64, steps=2, guidance_scale=7.5, style="none"))
    assert worker.generate([request])[0].startswith(b"\x89PNG")
    loaded = worker.stats()
    assert loaded["loaded"] and loaded["gpu_allocated_bytes"] > 1_000_000
    assert worker.backend.pipe.unet.dtype == torch.float16

    released = worker.release()
    assert not released["loaded"] and released["releases"] == 1
    assert released["gpu_allocated_bytes"] < loaded["gpu_allocated_bytes"] / 10
    assert released["gpu_reserved_bytes"] < loaded["gpu_reserved_bytes"]
    print(f"\nGPU memory allocated {loaded['gpu_allocated_bytes']} -> "
          f"{released['gpu_allocated_bytes']}, reserved {loaded['gpu_reserved_bytes']} -> "
          f"{released['gpu_reserved_bytes']}")

    assert worker.generate([request])[0].startswith(b"\x89PNG")  # loads again on demand
    again = worker.stats()
    assert again["loaded"] and again["gpu_allocated_bytes"] > 1_000_000
