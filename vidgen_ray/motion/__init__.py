"""Moving shots (issue 21): a scene's picture and a motion prompt in, a short clip out.

Not imported by ``import vidgen_ray``: the backends import torch and diffusers when built.
``base.py`` is the request and contract (pure), ``encode.py`` the frames-to-MP4 step
(FFmpeg), ``ltx.py`` the LTX-Video backend, ``talking.py`` talking shots (a portrait
animated from its line's speech, LTX-2).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vidgen_ray.errors import SettingsError

if TYPE_CHECKING:
    from vidgen_ray.config import RenderSettings
    from vidgen_ray.motion.base import MotionBackend
    from vidgen_ray.motion.talking import TalkingBackend

VIDEO_MODELS = ("ltx",)
TALKING_MODELS = ("ltx2",)


def create_motion_backend(name: str, settings: RenderSettings) -> MotionBackend:
    """The video model ``name`` (``settings.video_model``), loaded as the settings say."""
    if name == "ltx":
        from vidgen_ray.motion.ltx import create_ltx_backend

        return create_ltx_backend(settings)
    raise SettingsError(f"video_model {name!r} makes no clips: choose one of "
                        f"{', '.join(VIDEO_MODELS)}", field="video_model")


def create_talking_backend(name: str, settings: RenderSettings) -> TalkingBackend:
    """The talking model ``name`` (``settings.talking_model``), loaded as the settings say."""
    if name == "ltx2":
        from vidgen_ray.motion.talking import TalkingBackend, TalkingOptions

        return TalkingBackend(TalkingOptions.from_settings(settings))
    raise SettingsError(f"talking model {name!r} makes no talking shots: set shots to "
                        "talking (it loads ltx2)", field="shots")
