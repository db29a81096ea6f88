"""Where a picture's subject is, so a crop to another shape keeps it (``rendition_pictures=
subject``): a pure function of the PNG's bytes, so every chunk of a render crops alike.

The map is spectral-residual saliency (Hou & Zhang, CVPR 2007: what the log spectrum does not
predict is what stands out) plus local colour contrast. The crop is the window of the frame's
aspect that holds the most of it, slid along the one axis the crop shortens; the centre is kept
unless another window holds clearly more, so a picture with no clear subject crops as before.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageFilter

MAP_SIDE = 96  # the saliency map's long side: subjects, not textures, at this scale
CENTRE_MARGIN = 0.15  # a window must hold this much more than the centre's to move the crop
PLATEAU = 0.03  # windows this close to the best hold the subject too: take the most central


def saliency(image: Image.Image) -> np.ndarray:
    """A saliency map (long side MAP_SIDE, values >= 0) of ``image``."""
    scale = MAP_SIDE / max(image.size)
    size = (max(8, round(image.width * scale)), max(8, round(image.height * scale)))
    small = image.convert("RGB").resize(size, Image.Resampling.BILINEAR)
    gray = np.asarray(small.convert("L"), dtype=np.float64) / 255.0
    # Mirrored, so the FFT's wrap-around sees no jump at the edges (edges are not subjects).
    pad_y, pad_x = gray.shape[0] // 4, gray.shape[1] // 4
    mirrored = np.pad(gray, ((pad_y, pad_y), (pad_x, pad_x)), mode="reflect")
    spectrum = np.fft.fft2(mirrored)
    log_amp = np.log(np.abs(spectrum) + 1e-9)
    residual = log_amp - _box3(log_amp)
    spectral = np.abs(np.fft.ifft2(np.exp(residual + 1j * np.angle(spectrum)))) ** 2
    spectral = spectral[pad_y:pad_y + gray.shape[0], pad_x:pad_x + gray.shape[1]]
    # Colour that differs from its surroundings (a red coat on a grey street), not a
    # gradient of tint across the whole picture.
    hsv = small.convert("HSV")
    sat = np.asarray(hsv.getchannel("S"), dtype=np.float64) / 255.0
    around = np.asarray(hsv.getchannel("S").filter(ImageFilter.BoxBlur(MAP_SIDE // 6)),
                        dtype=np.float64) / 255.0
    colour = np.abs(sat - around)
    combined = _unit(spectral) + _unit(colour)
    blurred = Image.fromarray(np.uint8(255 * _unit(combined))).filter(
        ImageFilter.GaussianBlur(radius=max(1.0, MAP_SIDE / 32)))
    return np.asarray(blurred, dtype=np.float64) / 255.0


def subject_offset(png: bytes, frame: tuple[int, int]) -> tuple[float, float]:
    """Where to crop ``png`` (scaled to cover ``frame``): the offsets (0 = left/top edge,
    0.5 = centre, 1 = right/bottom edge) along x and y; the axis not cropped stays 0.5."""
    with Image.open(io.BytesIO(png)) as image:
        image.load()
        source = image.size
        weights = saliency(image)
    width, height = frame
    if abs(source[0] / source[1] - width / height) < 1e-3:
        return 0.5, 0.5
    if source[0] / source[1] > width / height:  # wider than the frame: choose the columns
        profile = weights.sum(axis=0)
        return _best_window(profile, (width / height) / (source[0] / source[1])), 0.5
    profile = weights.sum(axis=1)
    return 0.5, _best_window(profile, (source[0] / source[1]) / (width / height))


def _best_window(profile: np.ndarray, keep: float) -> float:
    """The offset in [0, 1] of the window keeping fraction ``keep`` of ``profile`` that
    holds the most weight; the centre unless another holds clearly more (CENTRE_MARGIN)."""
    n = len(profile)
    span = max(1, min(n, round(n * keep)))
    slack = n - span
    if slack == 0:
        return 0.5
    sums = np.convolve(profile, np.ones(span), mode="valid")  # slack + 1 windows
    positions = np.arange(slack + 1) / slack
    centre = float(np.interp(0.5, positions, sums))
    if sums.max() <= centre * (1 + CENTRE_MARGIN):
        return 0.5
    best = np.flatnonzero(sums >= sums.max() * (1 - PLATEAU))  # all hold the subject
    return float(positions[best[np.argmin(np.abs(positions[best] - 0.5))]])


def _box3(values: np.ndarray) -> np.ndarray:
    """The 3x3 mean with wrap-around (the spectrum is periodic)."""
    total = sum(np.roll(np.roll(values, dy, axis=0), dx, axis=1)
                for dy in (-1, 0, 1) for dx in (-1, 0, 1))
    return total / 9.0


def _unit(values: np.ndarray) -> np.ndarray:
    span = values.max() - values.min()
    return (values - values.min()) / span if span > 1e-12 else np.zeros_like(values)
