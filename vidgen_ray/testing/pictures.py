"""Pictures with a known subject, for the subject-aware crop's tests (images/focus.py)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw

SUBJECT_RADIUS = 90
SUBJECT_RGB = (230, 40, 30)


def subject_picture(size: tuple[int, int], centre: tuple[float, float] | None = None,
                    seed: int = 0) -> bytes:
    """A PNG: a dim, noisy, tinted backdrop with, at ``centre`` (fractions of the width and
    height), a red disc of SUBJECT_RADIUS pixels: the subject. None: no subject."""
    width, height = size
    rng = np.random.default_rng(seed)
    pixels = np.zeros((height, width, 3))
    pixels[..., 0] = np.linspace(40, 90, width)[None, :]
    pixels[..., 1] = 60
    pixels[..., 2] = np.linspace(120, 80, height)[:, None]
    pixels = np.clip(pixels + rng.normal(0, 6, pixels.shape), 0, 255).astype(np.uint8)
    image = Image.fromarray(pixels)
    if centre is not None:
        x, y, r = centre[0] * width, centre[1] * height, SUBJECT_RADIUS
        ImageDraw.Draw(image).ellipse((x - r, y - r, x + r, y + r), fill=SUBJECT_RGB)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
