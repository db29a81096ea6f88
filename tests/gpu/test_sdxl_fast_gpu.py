"""The fast picture path on a CUDA GPU: skipped without one. The tiny LoRA checks that it
fuses into an fp16 UNet on the card and compiles; the real one (SDXL base and the Lightning
LoRA in the Hugging Face cache, else skipped) records the 4-step latency at 1024x1024."""

from __future__ import annotations

import io
import time

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("peft")
pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]

from PIL import Image  # noqa: E402

from vidgen_ray.errors import DependencyError  # noqa: E402
from vidgen_ray.images.base import ImageRequest, Sampling  # noqa: E402
from vidgen_ray.images.sdxl import SdxlBackend  # noqa: E402
from vidgen_ray.images.sdxl_options import SdxlOptions  # noqa: E402
from vidgen_ray.testing.tiny_sdxl import build_lora, build_sdxl  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return str(build_sdxl(root / "sdxl")), str(build_lora(root / "lora"))


def _request(side: int, seed: int = 1) -> ImageRequest:
    """Drawn at side x side in Lightning's 4 steps without guidance."""
    return ImageRequest(1, "Harbour", "boats in a harbour at dawn", (), "calm", side, side, seed,
                        sampling=Sampling(side, side, steps=4, guidance_scale=0.0, style="none"))


@pytest.mark.parametrize("compile_unet", [False, True])
def test_tiny_lora_fuses_into_the_fp16_unet_on_the_gpu(tiny, compile_unet):
    sdxl, lora = tiny
    backend = SdxlBackend(SdxlOptions(model=sdxl, offline=True, safety_checker=False,
                                      fast_path="lightning", fast_lora=lora,
                                      compile=compile_unet))
    assert backend.pipe.unet.dtype == torch.float16
    assert not any("lora" in n for n, _ in backend.pipe.unet.named_parameters())
    first = backend.generate([_request(64)])[0]
    assert Image.open(io.BytesIO(first)).size == (64, 64)
    assert backend.generate([_request(64)])[0] == first


def test_real_lightning_4_steps_at_1024(record_property):
    try:
        backend = SdxlBackend(SdxlOptions(offline=True, safety_checker=False,
                                          fast_path="lightning"))
    except DependencyError as exc:
        pytest.skip(f"SDXL or the Lightning LoRA is not in the Hugging Face cache: {exc}")
    backend.generate([_request(1024)])  # warm
    torch.cuda.synchronize()
    start = time.perf_counter()
    png = backend.generate([_request(1024, seed=2)])[0]
    torch.cuda.synchronize()
    latency = time.perf_counter() - start
    record_property("latency_s", round(latency, 3))
    print(f"SDXL-Lightning 1024x1024 4 steps fp16: {latency:.2f} s on "
          f"{torch.cuda.get_device_name(0)}")
    image = Image.open(io.BytesIO(png))
    assert image.size == (1024, 1024) and max(image.convert("L").getextrema()) > 0
