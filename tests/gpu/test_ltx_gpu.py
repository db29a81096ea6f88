"""LTX-Video on a CUDA GPU: skipped without one. The tiny pipeline checks that the bf16
load, the generator on the card (a timestep-aware VAE draws its decode noise there) and
model CPU offload make a whole clip of the frames asked."""

from __future__ import annotations

import io

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")
pytestmark = [pytest.mark.gpu, pytest.mark.ffmpeg,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]

from PIL import Image  # noqa: E402

from vidgen_ray.motion.base import ClipRequest  # noqa: E402
from vidgen_ray.motion.ltx import LtxBackend, LtxOptions  # noqa: E402
from vidgen_ray.programs import run_tool  # noqa: E402
from vidgen_ray.testing.tiny_ltx import build_ltx  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return str(build_ltx(tmp_path_factory.mktemp("models") / "ltx"))


@pytest.mark.parametrize("cpu_offload", [False, True])
def test_tiny_ltx_makes_a_clip_on_the_gpu_in_bf16(tiny, tmp_path, cpu_offload):
    backend = LtxBackend(LtxOptions(model=tiny, offline=True, steps=2, cpu_offload=cpu_offload))
    assert backend.device == "cuda" and backend.dtype_name == "bfloat16"
    buffer = io.BytesIO()
    Image.new("RGB", (96, 64), (200, 40, 40)).save(buffer, format="PNG")
    request = ClipRequest(buffer.getvalue(), "slow pan left", seed=3, width=64, height=64,
                          frames=17)
    mp4 = backend.make_clip(request)
    assert backend.make_clip(request) == mp4
    path = tmp_path / "clip.mp4"
    path.write_bytes(mp4)
    frames = run_tool("ffprobe", ["-v", "error", "-count_frames", "-select_streams", "v:0",
                                  "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0",
                                  str(path)])
    assert frames.decode().strip() == "17"
