"""A timeline an editor can open: the render as OpenTimelineIO (timeline.otio), and through
OpenTimelineIO's adapters as FCPXML and a CMX 3600 EDL.

``build_timeline`` is pure: storyboard and timeline in, an ``otio.schema.Timeline`` out,
referencing the files the render wrote by paths relative to the output folder:

* Pictures (video): one clip per scene, its still (parts/image/....png), between the
  transition midpoints; overlapping transitions as OTIO transitions centred on the cut, the
  camera move, the transition in and fades to black as metadata ("vidgen" key).
* Talking shots (video, above the pictures, only with ``shots: talking``): each close-up's
  clip (parts/talking/....mp4) where it cuts in, gaps between; scene and line as metadata.
* Speech (audio): one clip per spoken line, its speech file (parts/speech/....wav), where
  the line sounds; the speaker, scene, line and text as metadata.
* Music, Ambience (audio): one clip per scene, cut from stems/music.<ext> and
  stems/ambience.<ext>; the scene's mood or ambience as metadata.
* Effects (audio): one clip per sound effect, from where it starts to the next effect or
  the end of its scene, cut from stems/effects.<ext>.

Stems are written only with ``--stems``; without them the music, ambience and effects clips
hold a MissingReference that names the file and how to get it. FCPXML carries every track
(timed in frames); the EDL the picture track (the CMX 3600 writer writes no sound and one
video track: talking shots are not in it).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import opentimelineio as otio

from vidgen_ray.errors import OutputError
from vidgen_ray.storyboard import Storyboard
from vidgen_ray.timeline import AUDIO_RATE, Timeline, place_effects

# Format name -> (OpenTimelineIO adapter, file name).
FORMATS = {"otio": ("otio_json", "timeline.otio"), "fcpxml": ("fcpx_xml", "timeline.fcpxml"),
           "edl": ("cmx_3600", "timeline.edl")}
KEY = "vidgen"  # metadata namespace


def _frames(value: float, fps: int) -> otio.opentime.RationalTime:
    return otio.opentime.RationalTime(value, fps)


def _at(seconds: float, rate: int) -> otio.opentime.RationalTime:
    """Seconds on a sound track's clock, rounded to its rate."""
    return otio.opentime.RationalTime(round(seconds * rate), rate)


def _range(start, duration) -> otio.opentime.TimeRange:
    return otio.opentime.TimeRange(start, duration)


def cut_frames(timeline: Timeline) -> list[int]:
    """Track-time frame of each scene boundary, the picture track's edit points: the middle
    of an overlapping transition, or the first frame of the next clip; then the last frame."""
    cuts = [clip.start + clip.fade_in // 2 for clip in timeline.clips[1:]]
    return [0, *cuts, timeline.total_frames]


def build_timeline(storyboard: Storyboard, timeline: Timeline, *, stills: Sequence[str],
                   speech: Sequence[str], stems: dict[str, str] | None = None,
                   sound_rate: int = AUDIO_RATE, shots: Sequence[str] = ()
                   ) -> otio.schema.Timeline:
    """The editable timeline. ``stills[s]`` is scene s's picture, ``speech[n]`` the
    speech file of cue n (timeline order) and ``shots[i]`` the clip of talking shot i, as
    paths relative to the output folder;
    ``stems`` maps a bus (music, ambience, effects) to its stem file, if written. Sound
    clips are timed in samples (``sound_rate``), since speech starts between frames; FCPXML
    and EDL know only frames, so they are built with ``sound_rate`` = the frame rate."""
    if len(stills) != len(timeline.clips) or len(speech) != len(timeline.cues) \
            or len(shots) != len(timeline.shots):
        raise ValueError("build_timeline needs one still per scene, one speech file per line "
                         "and one clip per talking shot")
    stems = stems or {}
    out = otio.schema.Timeline(name=storyboard.title)
    out.global_start_time = _frames(0, timeline.fps)
    out.metadata[KEY] = {"fps": timeline.fps, "frames": timeline.total_frames,
                         "scenes": len(timeline.clips), "lines": len(timeline.cues)}
    out.tracks.extend([
        _pictures(storyboard, timeline, stills),
        *([_talking(timeline, shots)] if timeline.shots else []),
        _speech(timeline, speech, sound_rate),
        _scene_bed("Music", "music", timeline, stems, sound_rate,
                   lambda s: {"mood": storyboard.scenes[s].mood}),
        _scene_bed("Ambience", "ambience", timeline, stems, sound_rate,
                   lambda s: {"ambience": storyboard.scenes[s].ambience}),
        _effects(storyboard, timeline, stems, sound_rate),
    ])
    return out


def _pictures(storyboard: Storyboard, timeline: Timeline, stills: Sequence[str]
              ) -> otio.schema.Track:
    fps, cuts = timeline.fps, cut_frames(timeline)
    track = otio.schema.Track(name="Pictures", kind=otio.schema.TrackKind.Video)
    for index, clip in enumerate(timeline.clips):
        if clip.fade_in:
            half = clip.fade_in // 2
            track.append(otio.schema.Transition(
                name=clip.enter, transition_type=(
                    otio.schema.TransitionTypes.SMPTE_Dissolve
                    if clip.enter in ("dissolve", "fade") else otio.schema.TransitionTypes.Custom),
                in_offset=_frames(half, fps), out_offset=_frames(clip.fade_in - half, fps),
                metadata={KEY: {"kind": clip.enter, "frames": clip.fade_in}}))
        start, end = cuts[index], cuts[index + 1]
        reference = otio.schema.ExternalReference(
            target_url=stills[index], available_range=_range(_frames(0, fps),
                                                              _frames(clip.frames, fps)))
        scene = storyboard.scenes[clip.scene]
        track.append(otio.schema.Clip(
            name=scene.title or f"Scene {clip.scene + 1}", media_reference=reference,
            source_range=_range(_frames(start - clip.start, fps), _frames(end - start, fps)),
            metadata={KEY: {"scene": clip.scene, "motion": clip.motion, "enter": clip.enter,
                            "clip_start": clip.start, "clip_end": clip.end,
                            "fade_in": clip.fade_in, "black_in": clip.black_in,
                            "black_out": clip.black_out}}))
    return track


def _talking(timeline: Timeline, shots: Sequence[str]) -> otio.schema.Track:
    """The close-ups over the pictures: each talking clip from its first frame, in frames."""
    fps = timeline.fps
    track = otio.schema.Track(name="Talking shots", kind=otio.schema.TrackKind.Video)
    at = 0
    for shot, path in zip(timeline.shots, shots, strict=True):
        if shot.start > at:
            track.append(otio.schema.Gap(source_range=_range(_frames(0, fps),
                                                             _frames(shot.start - at, fps))))
        reference = otio.schema.ExternalReference(
            target_url=path, available_range=_range(_frames(0, fps), _frames(shot.frames, fps)))
        track.append(otio.schema.Clip(
            name=f"Scene {shot.scene + 1}, line {shot.line + 1}", media_reference=reference,
            source_range=_range(_frames(0, fps), _frames(shot.frames, fps)),
            metadata={KEY: {"scene": shot.scene, "line": shot.line}}))
        at = shot.end
    if timeline.total_frames > at:
        track.append(otio.schema.Gap(source_range=_range(
            _frames(0, fps), _frames(timeline.total_frames - at, fps))))
    return track


def _audio_track(name: str, pieces: Iterable[tuple[float, float, otio.schema.Clip]],
                 rate: int, seconds: float) -> otio.schema.Track:
    """A track of ``seconds`` with clips placed at (start, end) seconds and gaps between
    them; each clip's length is set from its place, so rounding never drifts."""
    track = otio.schema.Track(name=name, kind=otio.schema.TrackKind.Audio)
    at = 0
    for start, end, clip in [*pieces, (seconds, seconds, None)]:
        a, b = _at(start, rate).value, _at(end, rate).value
        if a > at:
            track.append(otio.schema.Gap(source_range=_range(
                _at(0, rate), otio.opentime.RationalTime(a - at, rate))))
        if clip is not None:
            clip.source_range = _range(clip.source_range.start_time,
                                       otio.opentime.RationalTime(b - a, rate))
            track.append(clip)
        at = max(at, b)
    return track


def _speech(timeline: Timeline, speech: Sequence[str], rate: int) -> otio.schema.Track:
    def pieces():
        for cue, path in zip(timeline.cues, speech, strict=True):
            length = _at(cue.end, rate) - _at(cue.start, rate)
            reference = otio.schema.ExternalReference(
                target_url=path, available_range=_range(_at(0, rate), length))
            yield cue.start, cue.end, otio.schema.Clip(
                name=f"{cue.speaker}: {cue.text}"[:80], media_reference=reference,
                source_range=_range(_at(0, rate), length),
                metadata={KEY: {"scene": cue.scene, "line": cue.line, "speaker": cue.speaker,
                                "text": cue.text}})
    return _audio_track("Speech", pieces(), rate, timeline.duration)


def _stem_reference(bus: str, timeline: Timeline, stems: dict[str, str], rate: int):
    if bus in stems:
        return otio.schema.ExternalReference(
            target_url=stems[bus], available_range=_range(_at(0, rate),
                                                          _at(timeline.duration, rate)))
    return otio.schema.MissingReference(
        name=f"stems/{bus}", metadata={KEY: {
            "hint": f"render with --stems wav (or flac, mp3, aac) to write stems/{bus}.*"}})


def _scene_bed(name: str, bus: str, timeline: Timeline, stems: dict[str, str], rate: int,
               describe) -> otio.schema.Track:
    cuts = [c / timeline.fps for c in cut_frames(timeline)]

    def pieces():
        for index, clip in enumerate(timeline.clips):
            start, end = cuts[index], cuts[index + 1]
            yield start, end, otio.schema.Clip(
                name=f"{bus} {clip.scene + 1}", media_reference=_stem_reference(
                    bus, timeline, stems, rate),
                source_range=_range(_at(start, rate), _at(end - start, rate)),
                metadata={KEY: {"scene": clip.scene, **describe(clip.scene)}})
    return _audio_track(name, pieces(), rate, timeline.duration)


def _effects(storyboard: Storyboard, timeline: Timeline, stems: dict[str, str], rate: int
             ) -> otio.schema.Track:
    effects = place_effects(storyboard, timeline)
    scene_end = {clip.scene: clip.end / timeline.fps for clip in timeline.clips}

    def pieces():
        for n, effect in enumerate(effects):
            end = scene_end[effect.scene]
            if n + 1 < len(effects):
                end = min(end, effects[n + 1].start)
            if end <= effect.start:
                continue  # two effects at one instant: the next clip carries both
            yield effect.start, end, otio.schema.Clip(
                name=effect.name,
                media_reference=_stem_reference("effects", timeline, stems, rate),
                source_range=_range(_at(effect.start, rate), _at(end - effect.start, rate)),
                metadata={KEY: {"scene": effect.scene, "effect": effect.name}})
    return _audio_track("Effects", pieces(), rate, timeline.duration)


def relative(path: Path, out_dir: Path) -> str:
    """A file's path from the output folder, with forward slashes (as editors expect)."""
    return Path(os.path.relpath(path, out_dir)).as_posix()


def write(out_dir: Path, storyboard: Storyboard, timeline: Timeline, formats: Iterable[str],
          **files) -> list[Path]:
    """Write the timeline in each format (see FORMATS) into ``out_dir``; ``files`` are
    build_timeline's stills, speech and stems. Returns the files written."""
    written = []
    for name in formats:
        adapter, file_name = FORMATS[name]
        rate = AUDIO_RATE if name == "otio" else timeline.fps
        edit = build_timeline(storyboard, timeline, sound_rate=rate, **files)
        if name == "edl":
            # OpenTimelineIO's CMX 3600 writer writes one video track: the pictures alone.
            for track in list(edit.tracks)[1:]:
                edit.tracks.remove(track)
        target = out_dir / file_name
        try:
            otio.adapters.write_to_file(edit, str(target), adapter_name=adapter)
        except (otio.exceptions.OTIOError, ValueError, OSError) as exc:
            raise OutputError(f"cannot write {file_name}: {exc}: leave {name} out of "
                              "--timeline-formats") from exc
        written.append(target)
    return written
