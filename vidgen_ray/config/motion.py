"""The motion section: which video model makes the scenes that ask for a generated clip
(``motion: clip``), how a scene longer than a clip is filled, and LTX-Video's options
(config/backends/ltx.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from vidgen_ray.config.backends.ltx import LtxSettings
from vidgen_ray.config.scope import Section


class MotionChoice(Section):
    """The video model and how its clips fill a scene (pipeline/clip_fit.py)."""

    video_model: Literal["none", "ltx"] = Field(
        "none", description="Video model for scenes with motion 'clip': none (they get a "
        "camera move, and the render says so) or ltx (LTX-Video animates the scene's "
        "picture; a GPU in practice).")
    max_clips_per_scene: int = Field(
        3, ge=1, le=12, description="Clips generated for one scene at most; a longer scene "
        "shows them again in turn, crossfading at each wrap.")
    clip_crossfade: float = Field(
        0.5, ge=0.0, le=2.0, description="Seconds one generated clip fades into the next "
        "within a scene (under half a clip).")


class MotionSection(LtxSettings, MotionChoice):
    """The motion settings: the choices first, then LTX-Video's options."""
