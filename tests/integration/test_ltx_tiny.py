"""LTX-Video moving shots through the real loader, on a tiny random-weight pipeline (built
once per module, offline): a picture and a motion prompt in, an MP4 out, checked with
ffprobe. The frames are noise; what is checked is the path real weights take: loading,
the latent grid, seeds, the encode."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from vidgen_ray.config.backends.ltx import LtxSettings
from vidgen_ray.errors import DependencyError, MediaError, SettingsError
from vidgen_ray.motion.base import ClipRequest
from vidgen_ray.motion.ltx import LtxBackend, LtxOptions, create_ltx_backend
from vidgen_ray.programs import run_tool

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")
pytestmark = [pytest.mark.ffmpeg]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    from vidgen_ray.testing.tiny_ltx import build_ltx

    torch.set_num_threads(1)
    return str(build_ltx(tmp_path_factory.mktemp("tiny") / "ltx"))


@pytest.fixture(scope="module")
def backend(model):
    return LtxBackend(LtxOptions(model=model, offline=True, steps=2))


def _picture(width=96, height=64) -> bytes:
    """A PNG wider than the clip (the fit crops it): a red-to-blue gradient."""
    ramp = np.linspace(0, 255, width, dtype=np.uint8)
    pixels = np.stack([np.tile(ramp[::-1], (height, 1)), np.full((height, width), 80, np.uint8),
                       np.tile(ramp, (height, 1))], axis=-1)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _request(**values) -> ClipRequest:
    return ClipRequest(**{"picture": _picture(), "prompt": "slow dolly in, rain streaks the "
                          "window", "seed": 7, "width": 64, "height": 64, "frames": 9,
                          **values})


def _stream(mp4: bytes, tmp_path) -> dict:
    path = tmp_path / "clip.mp4"
    path.write_bytes(mp4)
    out = run_tool("ffprobe", ["-v", "error", "-count_frames", "-select_streams", "v:0",
                               "-show_entries", "stream=codec_name,pix_fmt,width,height,"
                               "r_frame_rate,nb_read_frames", "-of", "json", str(path)])
    return json.loads(out)["streams"][0]


def test_a_clip_is_an_h264_mp4_of_exactly_the_frames_size_and_rate_asked(backend, tmp_path):
    steps = []
    mp4 = backend.make_clip(_request(), on_step=lambda done, total: steps.append((done, total)))
    stream = _stream(mp4, tmp_path)
    assert stream == {"codec_name": "h264", "pix_fmt": "yuv420p", "width": 64, "height": 64,
                      "r_frame_rate": "24/1", "nb_read_frames": "9"}
    assert steps == [(1, 2), (2, 2)]
    wide = backend.make_clip(_request(width=96, height=32, frames=17, fps=25))
    stream = _stream(wide, tmp_path)
    assert (stream["width"], stream["height"], stream["nb_read_frames"],
            stream["r_frame_rate"]) == (96, 32, "17", "25/1")


def test_the_same_seed_gives_the_same_clip_and_another_seed_another(backend):
    first = backend.make_clip(_request())
    assert backend.make_clip(_request()) == first
    assert backend.make_clip(_request(seed=8)) != first


@pytest.mark.parametrize(("values", "words"), [
    ({"frames": 10}, ["frame count 10", "8*k+1", "use 9 or 17"]),
    ({"frames": 0}, ["frame count 0", "use 1 or 9"]),
    ({"width": 70}, ["width 70", "multiple of 32", "use 64 or 96"]),
    ({"height": 16}, ["height 16", "use 32 or 64"]),
    ({"prompt": "  "}, ["motion prompt is empty"]),
    ({"guidance_scale": 0.5}, ["guidance scale 0.5", "outside 1..20"]),
])
def test_a_bad_request_is_refused_before_the_model_runs_naming_the_fix(backend, values, words):
    with pytest.raises(SettingsError) as caught:
        backend.make_clip(_request(**values))
    assert all(word in str(caught.value) for word in words), str(caught.value)


def test_a_picture_that_is_not_an_image_is_a_media_error(backend):
    with pytest.raises(MediaError, match="cannot be read"):
        backend.make_clip(_request(picture=b"not a png"))


def test_loads_through_the_settings_and_reads_the_models_grid(model):
    backend = create_ltx_backend(LtxSettings(ltx_model=model, offline=True, ltx_steps=1))
    assert (backend.size_multiple, backend.frame_step) == (32, 8)
    assert backend.device == "cpu" and backend.dtype_name == "float32"
    assert backend.version().startswith("ltx-1 diffusers-")


def test_a_missing_model_says_where_to_get_it(tmp_path):
    with pytest.raises(SettingsError, match="does not exist"):
        LtxBackend(LtxOptions(model=str(tmp_path / "nowhere"), offline=True))
    with pytest.raises(DependencyError, match="save_pretrained"):
        LtxBackend(LtxOptions(model=str(tmp_path), offline=True))
    with pytest.raises(DependencyError, match="not in the Hugging Face cache"):
        LtxBackend(LtxOptions(model="nobody/no-such-ltx", offline=True))


def test_gpu_only_options_are_refused_on_a_cpu(model):
    with pytest.raises(SettingsError, match="cpu_offload"):
        LtxBackend(LtxOptions(model=model, offline=True, cpu_offload=True), cuda=False)
