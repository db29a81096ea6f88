"""Ambience presets: one FFmpeg source + filter chain each, at a quiet bed level (pure).

{d} is the length in seconds and {s} a seed, so noise differs per scene and job and two
videos do not sound the same.
"""

from __future__ import annotations

AMBIENCE: dict[str, str | None] = {
    "none": None,
    "room": "anoisesrc=d={d}:c=brown:a=0.02:seed={s},lowpass=f=300",
    "rain": "anoisesrc=d={d}:c=pink:a=0.12:seed={s},highpass=f=500,lowpass=f=7000",
    "wind": "anoisesrc=d={d}:c=brown:a=0.25:seed={s},lowpass=f=600,tremolo=f=0.15:d=0.7",
    "ocean": "anoisesrc=d={d}:c=brown:a=0.3:seed={s},lowpass=f=900,tremolo=f=0.1:d=0.9",
    "forest": "anoisesrc=d={d}:c=pink:a=0.03:seed={s},highpass=f=1500,lowpass=f=6000",
    "city": "anoisesrc=d={d}:c=brown:a=0.15:seed={s},lowpass=f=1200,highpass=f=60",
    # Crickets: a 4.4 kHz chirp gated three times a second, its phase set by the seed.
    "night": ("aevalsrc=exprs='0.02*sin(2*PI*4400*t)*lt(mod(t*3+{s}/7,1),0.15)'"
              ":d={d}:s=48000"),
    # bandpass widths in Hz: its default width_type is Q, where 1800 would be one sine.
    "fire": ("anoisesrc=d={d}:c=pink:a=0.25:seed={s},bandpass=f=1200:width_type=h:w=1800,"
             "tremolo=f=7:d=0.5"),
    "crowd": ("anoisesrc=d={d}:c=pink:a=0.25:seed={s},bandpass=f=900:width_type=h:w=1500,"
              "tremolo=f=3:d=0.3"),
}


def ambience_source(name: str, seconds: float, seed: int) -> str | None:
    """The chain for ``seconds`` of ambience ``name``; None for "none"."""
    recipe = AMBIENCE[name]
    return recipe.format(d=f"{seconds:.3f}", s=seed % 10**6) if recipe else None
