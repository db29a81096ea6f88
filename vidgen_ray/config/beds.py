"""The beds section: which model makes the music and ambience beds under the speech
(procedural FFmpeg recipes, the default, or Stable Audio Open), and Stable Audio Open's
options (config/backends/stable_audio.py).

Two choices, not one: Stable Audio Open's card says field recordings and textures are its
strength and music its weaker side, so a render may want generated ambience under the
procedural music (or under its own music file), or the reverse. Both choices share one
resident model: one bed pool serves a job whichever of them asks for it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from vidgen_ray.config.backends.stable_audio import StableAudioSettings
from vidgen_ray.config.scope import Section

BedModel = Literal["procedural", "stable_audio"]


class BedsChoice(Section):
    """Who makes each scene's beds (audio/ or beds/)."""

    music_model: BedModel = Field(
        "procedural", description="Music beds: procedural (a chord pad made by FFmpeg for "
        "each scene's mood) or stable_audio (Stable Audio Open writes music for the mood; "
        "a GPU in practice). A scene or render with its own music file, or 'none', keeps it.")
    ambience_model: BedModel = Field(
        "procedural", description="Ambience beds: procedural (filtered noise for each "
        "scene's ambience) or stable_audio (Stable Audio Open makes the place's sound; a "
        "GPU in practice). Scenes with ambience 'none' get none.")

    @property
    def bed_model(self) -> str:
        """The model the bed workers load: stable_audio when either bed asks for it."""
        return "stable_audio" if "stable_audio" in (self.music_model, self.ambience_model) \
            else "procedural"


class BedsSection(StableAudioSettings, BedsChoice):
    """The beds settings: the choices first, then Stable Audio Open's options."""
