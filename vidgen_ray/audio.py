"""The soundtrack: speech placed at its cue times over a procedural bed, ducked, normalised.

The bed is made with FFmpeg's own sources (anoisesrc, sine, aevalsrc), so it needs no
downloads and no licences: per scene an ambience chosen by the storyboard's ambience and a
soft chord chosen by its mood, crossfaded where scenes overlap.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from vidgen_ray.ffmpeg import ffmpeg
from vidgen_ray.storyboard import Storyboard, stable_seed
from vidgen_ray.timeline import AUDIO_RATE, Timeline

# Ambience: an FFmpeg source + filter chain per preset, at a quiet bed level. {d} = seconds,
# {s} = seed (noise differs per scene and job, so two videos do not sound the same).
AMBIENCE = {
    "none": None,
    "room": "anoisesrc=d={d}:c=brown:a=0.02:seed={s},lowpass=f=300",
    "rain": "anoisesrc=d={d}:c=pink:a=0.12:seed={s},highpass=f=500,lowpass=f=7000",
    "wind": "anoisesrc=d={d}:c=brown:a=0.25:seed={s},lowpass=f=600,tremolo=f=0.15:d=0.7",
    "ocean": "anoisesrc=d={d}:c=brown:a=0.3:seed={s},lowpass=f=900,tremolo=f=0.1:d=0.9",
    "forest": "anoisesrc=d={d}:c=pink:a=0.03:seed={s},highpass=f=1500,lowpass=f=6000",
    "city": "anoisesrc=d={d}:c=brown:a=0.15:seed={s},lowpass=f=1200,highpass=f=60",
    "night": ("aevalsrc=exprs='0.02*sin(2*PI*4400*t)*lt(mod(t*3+{s}/7,1),0.15)'"
              ":d={d}:s=48000"),
    "fire": "anoisesrc=d={d}:c=pink:a=0.1:seed={s},bandpass=f=1200:w=1800,tremolo=f=7:d=0.5",
    "crowd": "anoisesrc=d={d}:c=pink:a=0.1:seed={s},bandpass=f=900:w=1500,tremolo=f=3:d=0.3",
}

# Mood: the chord of a soft pad (frequencies in Hz) and its level.
CHORDS = {
    "neutral": ((130.81, 196.00, 261.63), 0.010),  # C3 G3 C4: open fifth
    "calm": ((130.81, 164.81, 196.00), 0.012),  # C major
    "joyful": ((146.83, 185.00, 220.00, 293.66), 0.012),  # D major, bright
    "sad": ((110.00, 130.81, 164.81), 0.012),  # A minor
    "tense": ((110.00, 116.54, 155.56), 0.010),  # cluster with a tritone
    "mysterious": ((123.47, 146.83, 174.61), 0.012),  # B diminished
    "epic": ((65.41, 98.00, 130.81, 196.00), 0.016),  # low C power chord
}


def place_speech(cue_starts: list[float], lines: list[np.ndarray], rate: int,
                 total_seconds: float) -> np.ndarray:
    """One int16 mono track at ``rate`` with every line at its start time (pure)."""
    track = np.zeros(round(total_seconds * rate) + 1, dtype=np.int32)
    for start, samples in zip(cue_starts, lines, strict=True):
        at = round(start * rate)
        piece = samples[: max(0, len(track) - at)].astype(np.int32)
        track[at:at + len(piece)] += piece
    return np.clip(track, -32768, 32767).astype(np.int16)


def _pad(mood: str, seconds: float) -> str:
    freqs, level = CHORDS[mood]
    # A slow swell (0.05 Hz) keeps a held chord from sounding like a test tone.
    voices = "+".join(f"sin(2*PI*{f}*t)" for f in freqs)
    return (f"aevalsrc=exprs='{level}*(0.75+0.25*sin(2*PI*0.05*t))*({voices})'"
            f":d={seconds:.3f}:s={AUDIO_RATE}")


def bed_filters(storyboard: Storyboard, timeline: Timeline, seed: int) -> tuple[list[str], str]:
    """Filter chains making each scene's bed at its place, and the label of their mix (pure)."""
    chains, labels = [], []
    fps = timeline.fps
    for clip in timeline.clips:
        scene = storyboard.scenes[clip.scene]
        seconds = clip.frames / fps
        fade = max(0.3, clip.fade_in / fps)
        delay = round(clip.start * AUDIO_RATE / fps)
        sources = [_pad(scene.mood, seconds)]
        recipe = AMBIENCE[scene.ambience]
        if recipe:
            sources.append(recipe.format(d=f"{seconds:.3f}",
                                         s=stable_seed("bed", str(seed), str(clip.scene)) % 10**6))
        for k, source in enumerate(sources):
            label = f"bed{clip.scene}_{k}"
            chains.append(
                f"{source},aformat=sample_fmts=fltp:sample_rates={AUDIO_RATE}"
                f":channel_layouts=mono,afade=t=in:d={fade:.3f},"
                f"afade=t=out:st={max(0.0, seconds - fade):.3f}:d={fade:.3f},"
                f"adelay=delays={delay}S:all=1[{label}]")
            labels.append(f"[{label}]")
    chains.append(f"{''.join(labels)}amix=inputs={len(labels)}:normalize=0:duration=longest[bed]")
    return chains, "[bed]"


def mix_args(speech_wav: Path, storyboard: Storyboard, timeline: Timeline, seed: int,
             out: Path) -> list[str]:
    """ffmpeg arguments for the raw mix: speech over a bed ducked under it (pure)."""
    samples = timeline.audio_samples
    chains, bed = bed_filters(storyboard, timeline, seed)
    graph = ";".join([
        f"[0:a]aresample={AUDIO_RATE},aformat=sample_fmts=fltp:channel_layouts=mono,"
        # Light compression keeps quiet and loud lines even before loudness normalisation.
        "acompressor=threshold=0.125:ratio=3:attack=5:release=120,asplit=2[voice][key]",
        *chains,
        f"{bed}[key]sidechaincompress=threshold=0.02:ratio=8:attack=20:release=400[ducked]",
        f"[voice][ducked]amix=inputs=2:normalize=0:duration=longest,"
        f"apad=whole_len={samples},atrim=end_sample={samples},"
        "aformat=sample_fmts=flt:channel_layouts=stereo[mix]",
    ])
    return ["-i", str(speech_wav), "-filter_complex", graph, "-map", "[mix]",
            "-ar", str(AUDIO_RATE), "-c:a", "pcm_f32le", str(out)]


def loudnorm_filter(target: float, measured: dict | None = None) -> str:
    """EBU R128 normalisation; with a first pass's measurement it is linear (second pass)."""
    base = f"loudnorm=I={target}:TP=-1.5:LRA=11"
    if measured is None:
        return base + ":print_format=json"
    return (base + f":measured_I={measured['input_i']}:measured_TP={measured['input_tp']}"
            f":measured_LRA={measured['input_lra']}:measured_thresh={measured['input_thresh']}"
            f":offset={measured['target_offset']}:linear=true:print_format=summary")


def parse_loudnorm(stderr: str) -> dict:
    """The JSON block loudnorm prints at the end of a measuring pass."""
    match = re.search(r"\{[^{}]*\"input_i\"[^{}]*\}", stderr)
    if not match:
        raise ValueError("loudnorm printed no measurement")
    return json.loads(match.group(0))


def render_soundtrack(speech_wav: Path, storyboard: Storyboard, timeline: Timeline, seed: int,
                      loudness: float, work: Path, out: Path) -> dict:
    """Mix, measure, normalise: a 48 kHz stereo WAV of exactly the video's length at ``out``.
    Returns the loudness measurement of the raw mix."""
    raw = work / "mix_raw.wav"
    ffmpeg(mix_args(speech_wav, storyboard, timeline, seed, raw))
    measured = parse_loudnorm(ffmpeg(["-i", str(raw), "-af", loudnorm_filter(loudness),
                                      "-f", "null", "-"], loglevel="info"))
    samples = timeline.audio_samples
    ffmpeg(["-i", str(raw), "-af",
            f"{loudnorm_filter(loudness, measured)},aresample={AUDIO_RATE},"
            f"apad=whole_len={samples},atrim=end_sample={samples}",
            "-ar", str(AUDIO_RATE), "-ac", "2", "-c:a", "pcm_f32le", str(out)])
    return measured
