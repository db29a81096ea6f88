"""A card's background: a mood-coloured gradient, seeded soft shapes and a vignette.

Everything on a card that is not text (cards.py draws the text). Same mood and seed, same
pixels on every machine.
"""

from __future__ import annotations

import random

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from vidgen_ray.errors import SettingsError

Rgb = tuple[int, int, int]

# mood -> (top, bottom, accent): dark enough everywhere for white text.
PALETTES: dict[str, tuple[Rgb, Rgb, Rgb]] = {
    "neutral": ((74, 78, 92), (24, 26, 34), (214, 196, 160)),
    "calm": ((44, 110, 128), (12, 36, 58), (142, 222, 214)),
    "tense": ((128, 32, 36), (22, 8, 14), (255, 122, 89)),
    "joyful": ((214, 118, 52), (122, 36, 86), (255, 214, 110)),
    "sad": ((58, 74, 112), (16, 20, 34), (160, 182, 226)),
    "mysterious": ((78, 42, 112), (12, 8, 30), (196, 156, 255)),
    "epic": ((150, 66, 30), (18, 12, 28), (255, 180, 72)),
}

def render_background(width: int, height: int, mood: str, seed: int) -> Image.Image:
    """Gradient, seeded soft shapes and a vignette: everything that is not text."""
    top, bottom, accent = _palette(mood)
    t = np.linspace(0.0, 1.0, height)[:, None]
    t = t * (0.6 + 0.4 * t)  # ease in: the top colour holds a little longer
    rows = np.asarray(top, np.float64) * (1 - t) + np.asarray(bottom, np.float64) * t
    column = rows.round().astype(np.uint8)[:, None, :]
    pixels = np.ascontiguousarray(np.broadcast_to(column, (height, width, 3)))
    image = Image.fromarray(pixels, "RGB").convert("RGBA")
    # Shapes and vignette are smooth: draw them small, blur, scale up (cheap even at 4K).
    small = (max(8, width // 8), max(8, height // 8))
    shapes = _soft_shapes(small, top, accent, seed)
    image.alpha_composite(shapes.resize(image.size, Image.BICUBIC))
    image.alpha_composite(_vignette(small).resize(image.size, Image.BICUBIC))
    return image


def _palette(mood: str) -> tuple[Rgb, Rgb, Rgb]:
    if mood not in PALETTES:
        raise SettingsError(f"unknown mood {mood!r}: use one of {', '.join(PALETTES)}",
                            field="mood")
    return PALETTES[mood]


def _soft_shapes(size: tuple[int, int], top: Rgb, accent: Rgb, seed: int) -> Image.Image:
    rng = random.Random(seed)
    width, height = size
    short = min(size)
    layer = Image.new("RGBA", size, (*accent, 0))
    draw = ImageDraw.Draw(layer, "RGBA")
    glow = tuple(min(255, c + 70) for c in top)
    for _ in range(7):
        x, y = rng.uniform(-0.1, 1.1) * width, rng.uniform(-0.1, 1.1) * height
        r = rng.uniform(0.12, 0.4) * short
        colour = accent if rng.random() < 0.6 else glow
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(*colour, rng.randint(14, 34)))
    return layer.filter(ImageFilter.GaussianBlur(short * 0.02))


def _vignette(size: tuple[int, int]) -> Image.Image:
    width, height = size
    y, x = np.ogrid[-1:1:height * 1j, -1:1:width * 1j]
    # Only + * / and sqrt: exactly rounded on every CPU, so the PNG bytes never vary.
    d = np.clip((np.sqrt(x * x + y * y) - 0.55) / 0.9, 0, 1)
    darkness = d * np.sqrt(d) * 150
    alpha = Image.fromarray(darkness.astype(np.uint8), "L")
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    layer.putalpha(alpha)
    return layer
