"""The pure parts of moving shots: the clip shape checks, the centred fit of the picture,
the FFmpeg arguments; and that the motion package stays out of ``import vidgen_ray``."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from vidgen_ray.errors import SettingsError
from vidgen_ray.motion.base import check_clip_shape, fit_picture
from vidgen_ray.motion.encode import encode_args


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def test_the_picture_is_scaled_to_cover_and_cropped_centred():
    bands = np.zeros((64, 192, 3), np.uint8)  # red | green | blue, 64 px each
    bands[:, :64, 0] = bands[:, 64:128, 1] = bands[:, 128:, 2] = 255
    fitted = np.asarray(fit_picture(_png(bands), 32, 32))
    assert fitted.shape == (32, 32, 3)
    assert fitted[:, 4:-4, 1].min() > 200 and fitted[:, 4:-4, [0, 2]].max() < 60
    wide = np.asarray(fit_picture(_png(bands), 96, 64))  # a wider crop: a band of each
    assert wide.shape == (64, 96, 3) and wide[:, :, 0].max() > 200 and wide[:, :, 2].max() > 200


@pytest.mark.parametrize(("shape", "ok"), [
    ((768, 512, 121), True), ((64, 64, 1), True), ((32, 2048, 257), True),
    ((768, 500, 121), False), ((768, 512, 120), False), ((0, 512, 121), False),
    ((4096, 512, 121), False), ((768, 512, 265), False),
])
def test_clip_shapes_follow_the_latent_grid(shape, ok):
    if ok:
        check_clip_shape(*shape)
    else:
        with pytest.raises(SettingsError):
            check_clip_shape(*shape)


def test_a_suggestion_never_goes_past_the_limit():
    with pytest.raises(SettingsError, match=r"use 257 \("):
        check_clip_shape(64, 64, 300)


def test_the_encode_reads_raw_rgb_and_writes_h264_yuv420p_with_one_thread():
    args = encode_args(96, 64, 24, "out.mp4")
    joined = " ".join(args)
    for part in ("-f rawvideo -pix_fmt rgb24 -s 96x64 -framerate 24 -i -",
                 "-c:v libx264", "-pix_fmt yuv420p", "-threads 1", "+faststart out.mp4"):
        assert part in joined


def test_import_vidgen_ray_leaves_motion_torch_and_diffusers_out():
    code = ("import sys, vidgen_ray; import vidgen_ray.motion.ltx; "
            "print(sorted(m for m in ('torch', 'diffusers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
