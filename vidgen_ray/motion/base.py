"""What a motion backend is: a scene's picture and a motion prompt in, a short MP4 clip out.

Pure: the request, the contract, the checks of a clip's shape (named problems, named fixes),
the clip size a render asks for (``native_size``) and the centred fit of the picture to the
clip's size (PIL only).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Protocol

from PIL import Image, ImageOps, UnidentifiedImageError

from vidgen_ray.errors import MediaError, SettingsError

MAX_SIDE = 2048  # larger clips do not fit one GPU's memory with today's video models
MAX_FRAMES = 257  # LTX-Video's longest trained clip (~10 s at 25 fps)
MAX_SEED = 2**32 - 1  # torch.Generator.manual_seed takes any 64-bit int; keep seeds portable
# The shapes LTX-Video is trained at (768x512 landscape, its transpose, and square): a clip
# keeps the one nearest the video's shape, and the clip fitting crops the rest.
NATIVE_SHAPES = ((3, 2), (1, 1), (2, 3))


@dataclass(frozen=True)
class ClipRequest:
    """One clip of a scene. ``None`` for the negative prompt, fps, steps or guidance: the
    backend's default (for LTX: config/backends/ltx.py); an empty negative prompt: none.
    ``picture`` is a PNG or JPEG of any size: it is scaled and cropped, centred, to
    width x height before it conditions the first frame."""

    picture: bytes
    prompt: str  # the motion: "slow dolly in, rain streaks the window"
    seed: int = 0
    width: int = 768
    height: int = 512
    frames: int = 121
    negative_prompt: str | None = None
    fps: int | None = None
    steps: int | None = None
    guidance_scale: float | None = None
    decode_timestep: float | None = None
    decode_noise_scale: float | None = None


class MotionBackend(Protocol):
    name: str

    def make_clip(self, request: ClipRequest) -> bytes:
        """An MP4 (H.264, yuv420p) of exactly ``request.frames`` frames of width x height."""
        ...

    def version(self) -> str:
        """What was loaded: part of a clip's content key."""
        ...


def native_size(video: tuple[int, int], long_side: int, multiple: int = 32
                ) -> tuple[int, int]:
    """The clip size for a video of size ``video``: the native shape (NATIVE_SHAPES) nearest
    its aspect (by ratio, so 16:9 and 9:16 are equally far from square), long side
    ``long_side``, each side a multiple of ``multiple`` (the model's latent grid) and at
    least one multiple. 768 gives 768x512 for 16:9, 512x768 for 9:16, 512x512 for 1:1 (the
    square keeps the 3:2 clip's short side, so its pixels stay near the native count)."""
    aspect = video[0] / video[1]
    wide, high = min(NATIVE_SHAPES, key=lambda s: abs(math.log(aspect * s[1] / s[0])))
    scale = long_side / max(wide, high) if wide != high else long_side * 2 / 3 / wide
    return tuple(max(multiple, round(side * scale / multiple) * multiple)
                 for side in (wide, high))


def check_clip_shape(width: int, height: int, frames: int, *, size_multiple: int = 32,
                     frame_step: int = 8) -> None:
    """Raise a SettingsError naming the first bad value and the nearest good ones: sides
    must be multiples of ``size_multiple`` and frame counts ``frame_step``*k+1 (what the
    model's VAE compresses without dropping or padding frames)."""
    for field, side in (("width", width), ("height", height)):
        if not size_multiple <= side <= MAX_SIDE or side % size_multiple:
            down = max(size_multiple, min(MAX_SIDE, side) // size_multiple * size_multiple)
            raise SettingsError(
                f"clip {field} {side} is not a multiple of {size_multiple} between "
                f"{size_multiple} and {MAX_SIDE}: use {_either(down, size_multiple, MAX_SIDE)}"
                " (the video model's latent grid), and fit the clip to the scene afterwards",
                field=field)
    if not 1 <= frames <= MAX_FRAMES or (frames - 1) % frame_step:
        low = max(1, min(frames, MAX_FRAMES) - 1) // frame_step * frame_step + 1
        raise SettingsError(
            f"clip frame count {frames} is not {frame_step}*k+1 between 1 and {MAX_FRAMES}: "
            f"use {_either(low, frame_step, MAX_FRAMES)} (e.g. 121 frames is ~5 s at 24 fps); "
            "the clip is fitted to the scene's length afterwards", field="frames")


def _either(value: int, step: int, top: int) -> str:
    """'value or value+step', without a suggestion beyond ``top``."""
    return f"{value} or {value + step}" if value + step <= top else str(value)


def check_request(request: ClipRequest, *, size_multiple: int = 32, frame_step: int = 8
                  ) -> None:
    """Everything about a request that is wrong before any model runs."""
    check_clip_shape(request.width, request.height, request.frames,
                     size_multiple=size_multiple, frame_step=frame_step)
    if not request.prompt.strip():
        raise SettingsError("the motion prompt is empty: say how the shot moves, e.g. "
                            "'slow dolly in, rain streaks the window'", field="prompt")
    if not 0 <= request.seed <= MAX_SEED:
        raise SettingsError(f"seed {request.seed} is outside 0..{MAX_SEED}: pick a seed "
                            "in that range", field="seed")
    if request.fps is not None and not 1 <= request.fps <= 60:
        raise SettingsError(f"clip fps {request.fps} is outside 1..60: use the model's own "
                            "rate (leave it empty)", field="fps")
    if request.steps is not None and not 1 <= request.steps <= 200:
        raise SettingsError(f"{request.steps} steps is outside 1..200", field="steps")
    if request.guidance_scale is not None and not 1.0 <= request.guidance_scale <= 20.0:
        raise SettingsError(f"guidance scale {request.guidance_scale} is outside 1..20: 1 "
                            "for guidance-distilled checkpoints, ~3-5 otherwise",
                            field="guidance_scale")


def fit_picture(picture: bytes, width: int, height: int) -> Image.Image:
    """The picture as RGB, scaled to cover width x height and cropped, centred (no bars:
    a video model would animate them)."""
    try:
        image = Image.open(io.BytesIO(picture))
        image.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise MediaError(f"the clip's picture cannot be read ({exc}): give PNG or JPEG "
                         "bytes", public="the clip's picture cannot be read") from None
    return ImageOps.fit(image.convert("RGB"), (width, height), Image.LANCZOS,
                        centering=(0.5, 0.5))


def latent_grid(pipe) -> tuple[int, int]:
    """(size multiple, frame step) of an LTX-family pipeline: sides are multiples of its
    own 32 and one latent patch; frame counts are step*k+1 (the first frame alone, then
    whole latent frames)."""
    return (math.lcm(32, pipe.vae_spatial_compression_ratio
                     * pipe.transformer_spatial_patch_size),
            pipe.vae_temporal_compression_ratio * pipe.transformer_temporal_patch_size)
