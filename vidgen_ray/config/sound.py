"""The sound section: loudness, music, ambience and the stems written beside the video."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from vidgen_ray.config.scope import Section
from vidgen_ray.config.video import is_number

# Integrated loudness targets by name: web platforms, podcasts (our default), EBU R128.
LOUDNESS_PRESETS = {"web": -14.0, "podcast": -16.0, "default": -16.0, "broadcast": -23.0}


class SoundSection(Section):
    """The mix: its loudness, its music and ambience levels, its stems."""

    loudness: float = Field(-16.0, ge=-31.0, le=-5.0, description="Target LUFS, integrated, or "
                            "a preset: web (-14), podcast/default (-16), broadcast (-23).")
    stems: Literal["wav", "flac", "mp3", "aac"] | None = Field(
        None, description="Also write mix.<ext> and stems/{speech,music,ambience,effects}.<ext> "
        "in this format; empty writes none.")
    stems_bit_depth: Literal[16, 24] = Field(
        16, description="Bits per sample of WAV and FLAC stems: 16 (opens everywhere) or 24.")
    music: str | None = Field(
        None, description="A music file (WAV, MP3, FLAC, OGG, M4A) under every scene that "
        "names none, or 'none' for no music; empty: music made for each scene's mood.")
    music_volume: float = Field(1.0, ge=0.0, le=4.0, description="Music level: 1 is the "
                                "default mix, 0.5 is 6 dB quieter, 0 silent.")
    ambience_volume: float = Field(1.0, ge=0.0, le=4.0, description="Ambience level: 1 is the "
                                   "default mix, 0 silent.")

    @field_validator("loudness", mode="before")
    @classmethod
    def _loudness_preset(cls, value: object) -> object:
        name = value.strip().lower() if isinstance(value, str) else None
        if name is not None and not is_number(name):
            if name not in LOUDNESS_PRESETS:
                raise ValueError(f"loudness {value!r} is neither a number of LUFS nor a preset: "
                                 f"use one of {', '.join(LOUDNESS_PRESETS)} or e.g. -16")
            return LOUDNESS_PRESETS[name]
        return value
