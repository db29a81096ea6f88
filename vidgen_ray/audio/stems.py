"""Exported sound: the final mix and its stems (speech, music, ambience, effects) in the
format asked for (pure: names and encoder arguments)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from vidgen_ray.timeline import AUDIO_RATE

StemFormat = Literal["wav", "flac", "mp3", "aac"]

# (file extension, encoder arguments). AAC goes in an .m4a: a bare ADTS stream carries no
# encoder delay, so decoders would not give back the exact length.
# WAV and FLAC at 16 bits unless 24 are asked for (stems_bit_depth): 16-bit PCM is what
# every editor, player and browser opens.
FORMATS: dict[str, tuple[str, list[str]]] = {
    "wav": ("wav", ["-c:a", "pcm_s16le"]),
    "flac": ("flac", ["-c:a", "flac", "-sample_fmt", "s16"]),
    "mp3": ("mp3", ["-c:a", "libmp3lame", "-b:a", "192k"]),
    "aac": ("m4a", ["-c:a", "aac", "-b:a", "192k"]),
}
DEEP = {"wav": ["-c:a", "pcm_s24le"], "flac": ["-c:a", "flac", "-sample_fmt", "s32"]}


def encoder(fmt: str, bit_depth: int = 16) -> list[str]:
    """Encoder arguments for ``fmt``; 24-bit applies to the lossless formats only."""
    return DEEP[fmt] if bit_depth == 24 and fmt in DEEP else FORMATS[fmt][1]


def export_names(buses: tuple[str, ...], fmt: str) -> dict[str, str]:
    """Relative file names: {"mix": "mix.wav", "speech": "stems/speech.wav", ...}."""
    ext = FORMATS[fmt][0]
    return {"mix": f"mix.{ext}", **{bus: f"stems/{bus}.{ext}" for bus in buses}}


def export_args(source: Path, fmt: str, gain_db: float, samples: int, out: Path,
                bit_depth: int = 16) -> list[str]:
    """ffmpeg arguments encoding a 48 kHz stereo WAV as ``fmt``, with a gain (the one the
    loudness pass gave the mix, so stems sum to it) and exactly ``samples`` long (pure)."""
    return ["-i", str(source), "-af",
            f"volume={gain_db:.4f}dB,apad=whole_len={samples},atrim=end_sample={samples}",
            "-ar", str(AUDIO_RATE), "-ac", "2", *encoder(fmt, bit_depth), str(out)]
