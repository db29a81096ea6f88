"""The speech section: the speech backend, the narrator, the pinned voices, and the options
of Bark and Kokoro (config/backends/)."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field

from vidgen_ray.config.backends.bark import BarkSettings
from vidgen_ray.config.backends.kokoro import KokoroSettings
from vidgen_ray.config.scope import Section


class SpeechChoice(Section):
    """Who speaks, how fast, with which voice."""

    tts_model: Literal["espeak", "bark", "kokoro"] = Field(
        "espeak", description="Speech backend.")
    tts_voice: str | None = Field(
        None, description="Narrator voice, e.g. 'en+m3' for espeak-ng; the backend's default."
    )
    tts_speed: float = Field(1.0, ge=0.5, le=2.0, description="Speaking rate, 1.0 is normal.")
    # Called cast until 0.x: that name (key, env VIDGEN_CAST, --cast) is still read.
    voices: dict[str, str] = Field(
        default_factory=dict,
        validation_alias=AliasChoices("voices", "cast", "VIDGEN_VOICES", "VIDGEN_CAST"),
        description="Voices pinned per speaker, e.g. from a cast.json a render wrote (CLI "
        "--voices FILE); speakers not in it are cast as usual.")


class SpeechSection(BarkSettings, KokoroSettings, SpeechChoice):
    """The speech settings: the choices first (pydantic lists a later base's fields first),
    then each backend's options."""
