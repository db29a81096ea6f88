"""Running the soundtrack through FFmpeg: mix, measure, normalise, export (the I/O side)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from vidgen_ray.audio.mix import BUSES, loudnorm_filter, mix_args, normalise_args, parse_loudnorm
from vidgen_ray.audio.stems import export_args, export_names
from vidgen_ray.ffmpeg import ffmpeg
from vidgen_ray.storyboard import Storyboard
from vidgen_ray.timeline import Timeline


@dataclass
class Soundtrack:
    measured: dict  # loudnorm's measurement of the raw mix
    normalised: dict  # loudnorm's report of the second pass (output_i, normalization_type...)
    exports: dict[str, Path] = field(default_factory=dict)  # relative name -> file


def render_soundtrack(speech_wav: Path, storyboard: Storyboard, timeline: Timeline, seed: int,
                      loudness: float, work: Path, out: Path, stems: str | None = None
                      ) -> Soundtrack:
    """Mix, measure, normalise: a 48 kHz stereo WAV of exactly the video's length at ``out``.
    With ``stems`` (a format), also the mix and each bus in that format under ``work``."""
    raw = work / "mix_raw.wav"
    alone = {bus: work / f"{bus}_raw.wav" for bus in BUSES} if stems else None
    ffmpeg(mix_args(speech_wav, storyboard, timeline, seed, raw, alone))
    measured = parse_loudnorm(ffmpeg(["-i", str(raw), "-af", loudnorm_filter(loudness),
                                      "-f", "null", "-"], loglevel="info"))
    samples = timeline.audio_samples
    normalised = parse_loudnorm(ffmpeg(normalise_args(raw, loudness, measured, samples, out),
                                       loglevel="info"))
    track = Soundtrack(measured, normalised)
    if stems and alone:
        # The gain the linear pass applied; stems get it too, so they add up to the mix.
        gain = float(normalised["output_i"]) - float(normalised["input_i"])
        names = export_names(BUSES, stems)
        (work / "stems").mkdir(exist_ok=True)
        for name, relative in names.items():
            source, db = (out, 0.0) if name == "mix" else (alone[name], gain)
            ffmpeg(export_args(source, stems, db, samples, work / relative))
            track.exports[relative] = work / relative
    return track
