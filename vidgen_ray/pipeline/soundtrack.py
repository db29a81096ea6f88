"""The job's soundtrack: its key, the mix (wherever it runs), and the sound files exported
beside the video.

The speech lines travel to the mix as they are stored (one WAV each) with their cue starts;
the mix lays them on one track there (``speech_track``), so the driver never holds the
whole track. Its key hashes the lines' keys, the timeline and everything in the bed: a
generated bed (pipeline/bed_parts.py) by its part key, named only when a render has one, so
the keys of renders with procedural beds stay as they were.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from vidgen_ray import audio
from vidgen_ray.config import RenderSettings
from vidgen_ray.errors import RenderError, VidgenError, client_message
from vidgen_ray.pipeline import media
from vidgen_ray.pipeline.executor import Executor
from vidgen_ray.pipeline.speech_parts import LineLengths
from vidgen_ray.speech.base import Speech
from vidgen_ray.storage import LocalStore, content_key
from vidgen_ray.storyboard import Storyboard
from vidgen_ray.timeline import Timeline


@dataclass
class Soundtrack:
    wav: bytes
    loudness: dict
    keys: list[str]  # the soundtrack's and its loudness report's
    exports: list[str] = field(default_factory=list)  # sound files written beside the video
    seconds: float = 0.0  # the mix's own time (0: it was stored)
    node: str | None = None  # where it was mixed (None: it was stored)


# A scene's generated bed of each kind: {"music": {scene: part key}, "ambience": {...}}.
Beds = dict[str, dict[int, str]]


def soundtrack_key(storyboard: Storyboard, settings: RenderSettings, timeline: Timeline,
                   speech_keys: list[str], beds: Beds | None = None) -> str:
    generated = {"beds": {kind: sorted(scenes.items()) for kind, scenes in beds.items()}} \
        if beds else {}
    return content_key(
        "soundtrack", audio=audio.AUDIO_VERSION, speech=speech_keys, fps=timeline.fps,
        clips=timeline.clips, cues=[(c.scene, c.line, c.start, c.end) for c in timeline.cues],
        scenes=[(s.mood, s.ambience, [c.model_dump() for c in s.sfx])
                for s in storyboard.scenes],
        seed=settings.seed, loudness=settings.loudness,
        music=[s.music for s in storyboard.scenes], default_music=settings.music,
        volumes=(settings.music_volume, settings.ambience_volume),
        files={name: media.digest_checked(name)
               for name in media.music_files(storyboard, settings.music)}, **generated)


def bed_name(kind: str, scene: int) -> str:
    """A generated bed's name among the mix's files: one input per scene and kind."""
    return f"{kind}-bed-{scene}"


async def make_soundtrack(executor: Executor, store: LocalStore, lengths: LineLengths,
                          speech_keys: list[str], storyboard: Storyboard,
                          settings: RenderSettings, timeline: Timeline,
                          out_dir: Path, beds: Beds | None = None) -> Soundtrack:
    """The soundtrack, from the store or mixed (its exports written to ``out_dir``);
    ``beds``: the scenes' generated beds, stored, mixed as music files are."""
    key = soundtrack_key(storyboard, settings, timeline, speech_keys, beds)
    report = content_key("loudness", soundtrack=key)
    if not settings.stems and store.has(key) and store.has(report):
        # Mixed before; stems are not kept, so they remix.
        return Soundtrack(store.get(key), json.loads(store.get(report)), [key, report])
    lengths.check_one_rate(speech_keys)
    lines = [store.get(k) for k in speech_keys]
    try:
        music = {name: media.read_checked(name)
                 for name in media.music_files(storyboard, settings.music)}
        named = {kind: {scene: bed_name(kind, scene) for scene in scenes}
                 for kind, scenes in (beds or {}).items()}
        music |= {bed_name(kind, scene): store.get(part)
                  for kind, scenes in (beds or {}).items() for scene, part in scenes.items()}
        wav, loudness, exports, seconds, node = await executor.mix_soundtrack(
            lines, [c.start for c in timeline.cues], storyboard, timeline, settings, music,
            named or None)
    except VidgenError as exc:
        raise RenderError(f"soundtrack: {exc}", stage="audio",
                          public=f"soundtrack: {client_message(exc)}") from exc
    for name, data in exports.items():  # mix.<ext> and stems/<bus>.<ext>, when asked for
        (out_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (out_dir / name).write_bytes(data)
    store.put(key, wav)
    store.put(report, json.dumps(loudness).encode("utf-8"))
    return Soundtrack(wav, loudness, [key, report], sorted(exports), seconds, node)


def speech_track(lines: list[bytes], cue_starts: list[float], seconds: float,
                 origin: float = 0.0) -> bytes:
    """One mono WAV, ``seconds`` long, with every line (a WAV; one sample rate) at its cue;
    from ``origin`` seconds on (the live preview's sound for one segment)."""
    speeches = [Speech.from_wav(wav) for wav in lines]
    rate = speeches[0].sample_rate
    track = audio.place_speech(cue_starts, [s.samples for s in speeches], rate, seconds,
                               origin=origin)
    return Speech(track, rate).to_wav()


def mix_in(work: Path, lines: list[bytes], cue_starts: list[float], storyboard: Storyboard,
           timeline: Timeline, settings: RenderSettings, music: dict[str, bytes],
           beds: Beds | None = None) -> tuple[bytes, dict, dict[str, bytes], float]:
    """The mix in the folder ``work``: the soundtrack WAV, its loudness record, the exports
    by relative file name, and the seconds it took. ``beds``: each scene's generated bed by
    its name in ``music``."""
    started = time.perf_counter()
    (work / "speech.wav").write_bytes(speech_track(lines, cue_starts, timeline.duration))
    files = {}
    for k, (name, data) in enumerate(music.items()):  # read where the mix runs
        files[name] = work / f"music{k}"
        files[name].write_bytes(data)
    bed = audio.Bed(music=settings.music, music_volume=settings.music_volume,
                    ambience_volume=settings.ambience_volume, files=files,
                    scene_music=(beds or {}).get("music", {}),
                    scene_ambience=(beds or {}).get("ambience", {}))
    track = audio.render_soundtrack(work / "speech.wav", storyboard, timeline,
                                    settings.seed, settings.loudness, work,
                                    work / "soundtrack.wav", stems=settings.stems,
                                    bit_depth=settings.stems_bit_depth, bed=bed)
    wav = (work / "soundtrack.wav").read_bytes()
    exports = {name: path.read_bytes() for name, path in track.exports.items()}
    return wav, track.record(), exports, time.perf_counter() - started
