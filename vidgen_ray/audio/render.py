"""Running the soundtrack through FFmpeg: mix, measure, normalise, export (the I/O side)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from vidgen_ray.audio.mix import (
    BUSES,
    Bed,
    loudness_record,
    loudnorm_filter,
    mix_args,
    normalise_args,
    parse_loudnorm,
)
from vidgen_ray.audio.stems import export_args, export_names
from vidgen_ray.programs import ffmpeg
from vidgen_ray.storyboard import Storyboard
from vidgen_ray.timeline import Timeline


@dataclass
class Soundtrack:
    measured: dict  # loudnorm's measurement of the raw mix (the first pass)
    normalised: dict  # loudnorm's report of the second pass (output_i, normalization_type...)
    exports: dict[str, Path] = field(default_factory=dict)  # relative name -> file
    applied: dict = field(default_factory=dict)  # the second pass: its filter and its inputs
    final: dict = field(default_factory=dict)  # the finished track, measured again

    def record(self) -> dict:
        """manifest.json's loudness block: the pass that was applied and what it gave."""
        return loudness_record(self.applied, self.normalised, self.final)


def render_soundtrack(speech_wav: Path, storyboard: Storyboard, timeline: Timeline, seed: int,
                      loudness: float, work: Path, out: Path, stems: str | None = None,
                      bit_depth: int = 16, bed: Bed | None = None) -> Soundtrack:
    """Mix, measure, normalise: a 48 kHz stereo WAV of exactly the video's length at ``out``.
    With ``stems`` (a format), also the mix and each bus in that format under ``work``
    (WAV and FLAC at ``bit_depth`` bits). ``bed``: music files and bed volumes."""
    raw = work / "mix_raw.wav"
    alone = {bus: work / f"{bus}_raw.wav" for bus in BUSES} if stems else None
    ffmpeg(mix_args(speech_wav, storyboard, timeline, seed, raw, alone, bed))
    measured = parse_loudnorm(ffmpeg(["-i", str(raw), "-af", loudnorm_filter(loudness),
                                      "-f", "null", "-"], loglevel="info"))
    samples = timeline.audio_samples
    args = normalise_args(raw, loudness, measured, samples, out)
    normalised = parse_loudnorm(ffmpeg(args, loglevel="info"))
    final = parse_loudnorm(ffmpeg(["-i", str(out), "-af", loudnorm_filter(loudness),
                                   "-f", "null", "-"], loglevel="info"))
    applied = {"target_i": loudness, "filter": args[args.index("-af") + 1]}
    track = Soundtrack(measured, normalised, applied=applied, final=final)
    if stems and alone:
        # The gain the linear pass applied; stems get it too, so they add up to the mix.
        gain = float(normalised["output_i"]) - float(normalised["input_i"])
        names = export_names(BUSES, stems)
        (work / "stems").mkdir(exist_ok=True)
        for name, relative in names.items():
            source, db = (out, 0.0) if name == "mix" else (alone[name], gain)
            ffmpeg(export_args(source, stems, db, samples, work / relative, bit_depth))
            track.exports[relative] = work / relative
    return track
