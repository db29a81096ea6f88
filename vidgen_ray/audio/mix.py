"""The mix as one FFmpeg filter graph (pure): four buses summed into a stereo track.

* speech: every line at its cue time, lightly compressed, on top;
* music and ambience: per scene, crossfaded where scenes overlap, each ducked under the
  speech by sidechaincompress keyed by the speech;
* effects: one-shot sounds at their cue times, not ducked (a door slam over a line is
  meant to be heard).

With ``stems`` the graph also outputs each bus alone, exactly as it entered the mix.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vidgen_ray.audio.ambience import ambience_source
from vidgen_ray.audio.effects import effect_source
from vidgen_ray.audio.music import MUSIC_RATE, music_source
from vidgen_ray.storyboard import Storyboard, stable_seed
from vidgen_ray.timeline import AUDIO_RATE, Timeline, place_effects

BUSES = ("speech", "music", "ambience", "effects")
EFFECTS_GAIN = 0.4  # the recipes peak near full scale; under the speech they sit lower
TRUE_PEAK = -1.0  # dBTP ceiling of the final track
# loudnorm aims under the ceiling: the AAC encode of the final MP4 adds a few tenths of a dB.
_LOUDNORM_TP = -1.8
_MONO = f"aformat=sample_fmts=fltp:sample_rates={AUDIO_RATE}:channel_layouts=mono"
# A music file of the user's own, mastered near -14 LUFS, is brought to about the level of
# the music made for a mood, so it sits under the speech the same way (then --music-volume).
MUSIC_FILE_GAIN_DB = -14.0
# A generated ambience bed (beds/, a field recording's level) sits under the music, as the
# procedural ambience does: an ear's choice made on random weights, not measured on real
# Stable Audio output (a generated music bed takes MUSIC_FILE_GAIN_DB, as a user's file).
AMBIENCE_FILE_GAIN_DB = -20.0
NO_MUSIC = "none"


@dataclass(frozen=True)
class Bed:
    """How the music and ambience beds are made: ``music`` is --music (a file, "none", or
    None for music made by mood; a scene's own ``music`` beats it), ``files`` the local
    path of every music file named, the volumes multiply each bus. ``scene_music`` and
    ``scene_ambience``: a generated bed (beds/) of a scene, by its name in ``files``, played
    in place of the mood's music or the procedural ambience; it enters the mix as a music
    file does (same ducking, loudness, stems)."""

    music: str | None = None
    music_volume: float = 1.0
    ambience_volume: float = 1.0
    files: dict[str, Path] = field(default_factory=dict)
    scene_music: dict[int, str] = field(default_factory=dict)
    scene_ambience: dict[int, str] = field(default_factory=dict)

    def music_of(self, scene_music: str | None) -> str | None:
        """A scene's music: a file, NO_MUSIC, or None (made for its mood)."""
        return scene_music or self.music


def place_speech(cue_starts: list[float], lines: list[np.ndarray], rate: int,
                 total_seconds: float, origin: float = 0.0) -> np.ndarray:
    """One int16 mono track at ``rate`` with every line at its start time (pure). The track
    starts at ``origin`` seconds: a line that began before it is heard from there on."""
    track = np.zeros(round(total_seconds * rate) + 1, dtype=np.int32)
    for start, samples in zip(cue_starts, lines, strict=True):
        at = round(start * rate) - round(origin * rate)
        if at < 0:
            samples, at = samples[-at:], 0
        piece = samples[: max(0, len(track) - at)].astype(np.int32)
        track[at:at + len(piece)] += piece
    return np.clip(track, -32768, 32767).astype(np.int16)


def _bus(name: str, sources: list[tuple[str, str]], seconds: float) -> list[str]:
    """Chains mixing (source chain, label) pairs into [name]; silence when there are none."""
    if not sources:
        return [f"anullsrc=r={AUDIO_RATE}:cl=mono,atrim=duration={seconds:.3f}[{name}]"]
    chains = [f"{chain}[{label}]" for chain, label in sources]
    labels = "".join(f"[{label}]" for _, label in sources)
    if len(sources) == 1:
        return [*chains, f"{labels}anull[{name}]"]
    return [*chains, f"{labels}amix=inputs={len(sources)}:normalize=0:duration=longest[{name}]"]


def bed_filters(storyboard: Storyboard, timeline: Timeline, seed: int,
                bed: Bed | None = None) -> tuple[list[str], str, str]:
    """Chains making each scene's music and ambience at its place, faded in and out over
    the scene's dissolves; returns them and the labels of the music and ambience buses.

    Each mood's music is made once (one pass of its progression) and looped for every scene
    in that mood: aevalsrc is the costly part of the mix. A music file (input 1, 2... in
    the order of ``bed.files``, looped endlessly by -stream_loop) starts from its beginning
    in every scene that plays it, as a mood's music does. A generated bed (``bed.scene_music``,
    ``bed.scene_ambience``) is such a file, one input per scene, as long as the scene."""
    bed = bed or Bed()
    fps = timeline.fps
    by_source: dict[str, list[int]] = {}  # "mood:<mood>" or "file:<path>" -> scenes
    for clip in timeline.clips:
        scene = storyboard.scenes[clip.scene]
        own = bed.scene_music.get(clip.scene) or bed.music_of(scene.music)
        if own != NO_MUSIC:
            key = f"file:{own}" if own else f"mood:{scene.mood}"
            by_source.setdefault(key, []).append(clip.scene)
    chains, music, ambience, passes = [], [], [], {}
    inputs = {path: k + 1 for k, path in enumerate(bed.files)}
    for key, scenes in by_source.items():
        kind, _, name = key.partition(":")
        if kind == "mood":
            source, length = music_source(name, seed)
            how = (f"aloop=loop=-1:size={length},", MUSIC_RATE)
        else:  # the input loops itself; kept at full rate: it is music, not a pad
            source = (f"[{inputs[name]}:a]aresample={AUDIO_RATE},aformat=channel_layouts=mono,"
                      f"volume={MUSIC_FILE_GAIN_DB}dB")
            how = ("", AUDIO_RATE)
        passes.update(dict.fromkeys(scenes, how))
        chains.append(f"{source},asplit={len(scenes)}"
                      + "".join(f"[pass{scene}]" for scene in scenes))
    for clip in timeline.clips:
        scene = storyboard.scenes[clip.scene]
        seconds = clip.frames / fps
        fade = max(0.3, clip.fade_in / fps)
        place = (f"{_MONO},afade=t=in:d={fade:.3f},"
                 f"afade=t=out:st={max(0.0, seconds - fade):.3f}:d={fade:.3f},"
                 f"adelay=delays={round(clip.start * AUDIO_RATE / fps)}S:all=1")
        if clip.scene in passes:
            loop, rate = passes[clip.scene]
            music.append((f"[pass{clip.scene}]{loop}"
                          f"atrim=end_sample={round(seconds * rate)},{place},"
                          f"volume={bed.music_volume:.4f}", f"m{clip.scene}"))
        made = bed.scene_ambience.get(clip.scene)
        noise = (f"[{inputs[made]}:a]aresample={AUDIO_RATE},aformat=channel_layouts=mono,"
                 f"volume={AMBIENCE_FILE_GAIN_DB}dB,atrim=end_sample="
                 f"{round(seconds * AUDIO_RATE)}" if made else
                 ambience_source(scene.ambience, seconds,
                                 stable_seed("bed", str(seed), str(clip.scene))))
        if noise:
            ambience.append((f"{noise},{place},volume={bed.ambience_volume:.4f}",
                             f"a{clip.scene}"))
    chains += [*_bus("music_bed", music, timeline.duration),
               *_bus("ambience_bed", ambience, timeline.duration)]
    return chains, "[music_bed]", "[ambience_bed]"


def effect_filters(storyboard: Storyboard, timeline: Timeline, seed: int) -> tuple[list[str], str]:
    """Chains placing every sound effect at its cue time, and the label of their bus."""
    sources = []
    for k, cue in enumerate(place_effects(storyboard, timeline)):
        noise_seed = stable_seed("sfx", str(seed), str(k))
        sources.append((f"{effect_source(cue.name, noise_seed)},{_MONO},volume={EFFECTS_GAIN},"
                        f"adelay=delays={round(cue.start * AUDIO_RATE)}S:all=1", f"fx{k}"))
    return _bus("effects_bus", sources, timeline.duration), "[effects_bus]"


def _fit(samples: int) -> str:
    """Exactly ``samples`` long, stereo: ffmpeg 5.1 needs the final aformat (NOTES.md)."""
    return (f"apad=whole_len={samples},atrim=end_sample={samples},"
            "aformat=sample_fmts=flt:channel_layouts=stereo")


def mix_graph(storyboard: Storyboard, timeline: Timeline, seed: int,
              stems: bool = False, bed: Bed | None = None) -> tuple[str, list[str]]:
    """The filter graph (input 0: the placed speech, then ``bed.files``) and its output
    labels: [mix], then with ``stems`` one per bus in BUSES order."""
    samples = timeline.audio_samples
    bed_chains, music, ambience = bed_filters(storyboard, timeline, seed, bed)
    fx_chains, effects = effect_filters(storyboard, timeline, seed)
    chains = [
        f"[0:a]aresample={AUDIO_RATE},{_MONO},"
        # Light compression keeps quiet and loud lines even before loudness normalisation.
        "acompressor=threshold=0.125:ratio=3:attack=5:release=120,"
        "asplit=3[speech_bus][key_m][key_a]",
        *bed_chains, *fx_chains,
        f"{music}[key_m]sidechaincompress=threshold=0.02:ratio=8:attack=20:release=400"
        "[music_bus]",
        f"{ambience}[key_a]sidechaincompress=threshold=0.02:ratio=8:attack=20:release=400"
        "[ambience_bus]",
    ]
    inputs = [f"{bus}_bus" for bus in BUSES]
    outputs = ["[mix]"]
    if stems:
        for bus in BUSES:
            chains.append(f"[{bus}_bus]asplit=2[{bus}_to_mix][{bus}_alone]")
            chains.append(f"[{bus}_alone]{_fit(samples)}[{bus}]")
            outputs.append(f"[{bus}]")
        inputs = [f"{bus}_to_mix" for bus in BUSES]
    chains.append(f"{''.join(f'[{i}]' for i in inputs)}amix=inputs={len(inputs)}:normalize=0"
                  f":duration=longest,{_fit(samples)}[mix]")
    return ";".join(chains), outputs


def mix_args(speech_wav: Path, storyboard: Storyboard, timeline: Timeline, seed: int,
             out: Path, stems: dict[str, Path] | None = None, bed: Bed | None = None
             ) -> list[str]:
    """ffmpeg arguments for the raw mix (and, given paths, each bus alone) (pure)."""
    graph, outputs = mix_graph(storyboard, timeline, seed, stems=bool(stems), bed=bed)
    paths = [out, *(stems[bus] for bus in BUSES)] if stems else [out]
    files = [a for path in (bed.files.values() if bed else ())
             for a in ("-stream_loop", "-1", "-i", str(path))]
    args = ["-i", str(speech_wav), *files, "-filter_complex", graph]
    for label, path in zip(outputs, paths, strict=True):
        args += ["-map", label, "-ar", str(AUDIO_RATE), "-c:a", "pcm_f32le", str(path)]
    return args


def loudnorm_filter(target: float, measured: dict | None = None) -> str:
    """EBU R128 normalisation; with a first pass's measurement it is linear (second pass)."""
    base = f"loudnorm=I={target}:TP={_LOUDNORM_TP}:LRA=20"
    if measured is None:
        return base + ":print_format=json"
    return (base + f":measured_I={measured['input_i']}:measured_TP={measured['input_tp']}"
            f":measured_LRA={measured['input_lra']}:measured_thresh={measured['input_thresh']}"
            f":offset={measured['target_offset']}:linear=true:print_format=json")


def parse_loudnorm(stderr: str) -> dict:
    """The JSON block loudnorm prints at the end of a pass."""
    match = re.search(r"\{[^{}]*\"input_i\"[^{}]*\}", stderr)
    if not match:
        raise ValueError("loudnorm printed no measurement")
    return json.loads(match.group(0))


def peak_guard(target: float, measured: dict) -> tuple[str, dict]:
    """A limiter for peaks that the gain to ``target`` would push over the ceiling, and the
    measurement as it will be after it (pure). Without it loudnorm would leave its linear
    mode for a dynamic one, and the stems would no longer add up to the mix."""
    # dBFS before the gain; 0.1 dB under, as loudnorm compares sums of rounded figures.
    ceiling = _LOUDNORM_TP - (target - float(measured["input_i"])) - 0.1
    if float(measured["input_tp"]) <= ceiling or not -24.0 <= ceiling <= 0.0:
        return "", measured
    limiter = (f"alimiter=limit={10 ** (ceiling / 20):.6f}:attack=2:release=50"
               ":level=0:latency=1,")
    return limiter, {**measured, "input_tp": f"{ceiling:.2f}"}


def normalise_args(raw: Path, target: float, measured: dict, samples: int, out: Path
                   ) -> list[str]:
    """Second loudness pass: the raw mix at ``target`` LUFS, exactly ``samples`` long (pure)."""
    limiter, measured = peak_guard(target, measured)
    return ["-i", str(raw), "-af",
            f"{limiter}{loudnorm_filter(target, measured)},aresample={AUDIO_RATE},"
            f"{_fit(samples)}", "-ar", str(AUDIO_RATE), "-ac", "2", "-c:a", "pcm_f32le",
            str(out)]


def loudness_record(applied: dict, normalised: dict, final: dict) -> dict:
    """manifest.json's loudness block (pure): the second, applied pass (its filter, which
    carries the first pass's measurement it was given, and how loudnorm ran it) and the
    finished track measured again; not the first pass, which only measured."""
    def figures(report: dict) -> dict:
        return {"integrated": float(report["input_i"]), "true_peak": float(report["input_tp"]),
                "lra": float(report["input_lra"]), "threshold": float(report["input_thresh"])}

    return {
        "target": applied.get("target_i"),
        "applied": {"filter": applied.get("filter"),
                    "normalization_type": normalised.get("normalization_type"),
                    "target_offset": float(normalised["target_offset"]),
                    "output_i": float(normalised["output_i"]),
                    "output_tp": float(normalised["output_tp"])},
        "final": figures(final),
    }
