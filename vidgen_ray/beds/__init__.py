"""Music and ambience beds made for a scene by a text-to-audio model (issue 21).

Not imported by ``import vidgen_ray``: the backends import torch and diffusers when built.
Without a GPU the procedural beds of audio/ stay the default (``music_model`` and
``ambience_model`` procedural). ``base.py`` is the request, the contract and the prompts
(pure), ``fit.py`` the model's audio to a bed of exactly the asked length (FFmpeg
resampling, crossfaded loops), ``stable_audio.py`` the Stable Audio Open backend.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vidgen_ray.errors import SettingsError

if TYPE_CHECKING:
    from vidgen_ray.beds.base import BedBackend
    from vidgen_ray.config import RenderSettings

BED_MODELS = ("stable_audio",)


def create_bed_backend(name: str, settings: RenderSettings) -> BedBackend:
    """The bed model ``name`` (``settings.bed_model``), loaded as the settings say."""
    if name == "stable_audio":
        from vidgen_ray.beds.stable_audio import create_stable_audio_backend

        return create_stable_audio_backend(settings)
    raise SettingsError(f"bed model {name!r} makes no beds: set music_model or "
                        f"ambience_model to one of {', '.join(BED_MODELS)}",
                        field="music_model")
