"""The motion section: which video model makes the scenes that ask for a generated clip
(``motion: clip``), how a scene longer than a clip is filled, whether characters' lines cut
to talking shots, and the options of LTX-Video (config/backends/ltx.py) and LTX-2
(config/backends/ltx2.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from vidgen_ray.config.backends.ltx import LtxSettings
from vidgen_ray.config.backends.ltx2 import Ltx2Settings
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
    shots: Literal["scene", "talking"] = Field(
        "scene", description="scene: every line plays over its scene's picture; talking: each "
        "character's line cuts to a close-up of the character's cast portrait whose lips "
        "LTX-2 moves with the line's own speech (a GPU in practice); the narrator's lines "
        "stay on the scene.")

    @property
    def talking_model(self) -> str:
        """The model the talking workers load: ltx2 with talking shots, else none."""
        return "ltx2" if self.shots == "talking" else "none"


class MotionSection(Ltx2Settings, LtxSettings, MotionChoice):
    """The motion settings: the choices first, then LTX-Video's and LTX-2's options."""
