"""Pure timing: speech lengths and transitions in, frame-exact clip times, cues and chunks out.

Every frame of the video is a function of its frame number, so any range of frames can be
rendered alone by any worker and still match a render of the whole (see ``segments``).

A scene lasts: ``lead_in`` (plus the transition into it) + its lines with ``line_gap`` between
them + ``tail`` (plus a fade to black out of it). Scenes joined by an overlapping transition
(dissolve, fade, wipe, slide) share the crossfade's length of frames; ``fade_black`` shares
none: the scene fades out over its last frames, the next fades in over its first. Speech
starts after the picture has settled, so two scenes' voices never collide.

A talking shot shows a line's talking clip full frame in place of the scene's picture: its
line starts on a whole frame (the clip's frame 0), and it stays clear of the transitions
and fades at the scene's ends, so it is only ever cut around, never blended.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from vidgen_ray.errors import ScriptError
from vidgen_ray.storyboard import Storyboard, stable_seed

MOTIONS = ("zoom_in", "zoom_out", "pan_left", "pan_right", "pan_up", "pan_down")
# Transitions during which both scenes are on screen: the next clip starts this many frames
# before the previous one ends. "cut" and "fade_black" do not overlap.
OVERLAPPING = ("dissolve", "fade", "wipe_left", "wipe_right", "slide_left", "slide_right")
AUDIO_RATE = 48_000


@dataclass(frozen=True)
class Pacing:
    fps: int = 30
    crossfade: float = 0.5  # seconds of each transition between scenes (not of a cut)
    transition: str = "dissolve"  # for scenes whose storyboard leaves it empty
    lead_in: float = 0.4  # silence before a scene's first line (after its dissolve)
    line_gap: float = 0.35  # silence between two lines of one scene
    tail: float = 0.6  # silence after a scene's last line
    silent_scene: float = 3.0  # length of a scene with nothing to say


@dataclass(frozen=True)
class Cue:
    """One spoken line: when it sounds and what the subtitle says."""

    scene: int  # 0-based scene index
    line: int  # 0-based line index within the scene
    start: float  # seconds
    end: float
    speaker: str
    text: str


@dataclass(frozen=True)
class EffectCue:
    """One sound effect placed in the video: which, and when it starts (seconds)."""

    scene: int
    name: str
    start: float


@dataclass(frozen=True)
class Clip:
    """One scene's picture on screen: frames [start, end), coming in over ``fade_in`` frames
    shared with the previous clip, or from black over its first ``black_in`` frames."""

    scene: int
    start: int
    end: int
    fade_in: int  # frames shared with the previous clip
    motion: str
    black_in: int = 0  # first frames fading up from black (after a fade_black)
    black_out: int = 0  # last frames fading down to black (before a fade_black)
    enter: str = "cut"  # the transition into this clip

    @property
    def frames(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Shot:
    """A talking shot: line ``line`` of scene ``scene`` shown by its talking clip over
    frames [start, end), the clip's frame 0 at ``start`` (where the line's speech starts)."""

    scene: int
    line: int
    start: int
    end: int

    @property
    def frames(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Segment:
    """A run of frames showing one clip, or going from clip ``a`` to clip ``b``."""

    start: int
    end: int
    a: int  # scene index shown (or going out)
    b: int | None = None  # scene index coming in, during a transition
    fade_start: int = 0  # first frame of the whole transition
    fade_frames: int = 0
    kind: str = "dissolve"  # which overlapping transition (OVERLAPPING)
    # The index in Timeline.shots of the talking shot shown instead of scene a's picture.
    # Out of repr: chunk keys hash str(segment), and those of renders without shots stay.
    shot: int | None = field(default=None, repr=False)

    def alpha(self, frame: int) -> float:
        """Progress of the transition at an absolute frame; never exactly 0 or 1 inside it."""
        return (frame - self.fade_start + 1) / (self.fade_frames + 1)


@dataclass(frozen=True)
class Timeline:
    fps: int
    clips: tuple[Clip, ...]
    cues: tuple[Cue, ...]
    shots: tuple[Shot, ...] = ()  # in time order

    @property
    def total_frames(self) -> int:
        return self.clips[-1].end if self.clips else 0

    @property
    def duration(self) -> float:
        return self.total_frames / self.fps

    @property
    def audio_samples(self) -> int:
        return round(self.total_frames * AUDIO_RATE / self.fps)

    def chunks(self, chunk_seconds: float) -> list[tuple[int, int]]:
        """Split [0, total) into frame ranges of about ``chunk_seconds``; the last one may be
        shorter, but never under half a chunk (it joins its neighbour instead)."""
        size = max(1, round(chunk_seconds * self.fps))
        bounds = list(range(0, self.total_frames, size)) + [self.total_frames]
        if len(bounds) > 2 and bounds[-1] - bounds[-2] < size / 2:
            del bounds[-2]
        return list(zip(bounds[:-1], bounds[1:], strict=True))

    def segments(self, start: int, end: int) -> list[Segment]:
        """The segments that cover frames [start, end), cut to that range."""
        cut = []
        for seg in self._all_segments():
            lo, hi = max(seg.start, start), min(seg.end, end)
            if lo < hi:
                cut.append(replace(seg, start=lo, end=hi))
        return cut

    def _all_segments(self) -> list[Segment]:
        segments = []
        shots: dict[int, list[int]] = {}
        for i, shot in enumerate(self.shots):
            shots.setdefault(shot.scene, []).append(i)
        for i, clip in enumerate(self.clips):
            nxt = self.clips[i + 1] if i + 1 < len(self.clips) else None
            solo_start = clip.start + clip.fade_in
            solo_end = nxt.start if nxt else clip.end
            segments += self._solo(clip.scene, solo_start, solo_end, shots.get(clip.scene, []))
            if nxt and nxt.fade_in:
                segments.append(Segment(nxt.start, clip.end, clip.scene, nxt.scene,
                                        nxt.start, nxt.fade_in, nxt.enter))
        return segments

    def _solo(self, scene: int, start: int, end: int, shots: list[int]) -> list[Segment]:
        """Frames [start, end) of ``scene`` alone: its picture, cut around its talking shots
        (``shots``: their indices) there. A shot is cut to what no earlier one covers, so
        the segments tile the frames even if two shots ever overlapped."""
        segments, at = [], start
        for i in shots:
            lo, hi = max(self.shots[i].start, at), min(self.shots[i].end, end)
            if lo >= hi:
                continue
            if at < lo:
                segments.append(Segment(at, lo, scene))
            segments.append(Segment(lo, hi, scene, shot=i))
            at = hi
        if at < end:
            segments.append(Segment(at, end, scene))
        return segments


def plan_timeline(storyboard: Storyboard, line_seconds: list[list[float]], pacing: Pacing,
                  seed: int = 0, generated: bool = False,
                  talking: frozenset[tuple[int, int]] = frozenset()) -> Timeline:
    """Place every scene and line. ``line_seconds[s][l]`` is the spoken length of line l of
    scene s. ``generated``: a video model makes the clips of scenes with motion ``clip``
    (they hold still: the clip moves). ``talking``: the (scene, line) pairs (0-based) shown
    by a talking shot; pairs past the storyboard's last scene are for a longer board (a
    timeline planned while later scenes are voiced) and wait for it."""
    if len(line_seconds) != len(storyboard.scenes):
        raise ValueError("line_seconds needs one list per scene")
    _check_talking(storyboard, talking)
    fps, fade = pacing.fps, round(pacing.crossfade * pacing.fps)
    clips: list[Clip] = []
    cues: list[Cue] = []
    shots: list[Shot] = []
    start = 0
    for index, scene in enumerate(storyboard.scenes):
        enter = transition_after(storyboard, index - 1, pacing) if index else "cut"
        fade_in = fade if enter in OVERLAPPING else 0
        black_in = fade if enter == "fade_black" else 0
        # The last scene fades out only when asked to (a fade_black ends the video in black).
        black_out = fade if transition_after(storyboard, index, pacing) == "fade_black" else 0
        start -= fade_in
        offset = (start + fade_in + black_in) / fps + pacing.lead_in
        planned: list[Shot] = []
        for number, (line, seconds) in enumerate(zip(scene.lines, line_seconds[index],
                                                     strict=True)):
            if (index, number) in talking:
                # The talking clip's frame 0 is where the speech starts: on a whole frame.
                first = math.ceil(round(offset * fps, 6))
                offset = first / fps
                planned.append(Shot(index, number, first,
                                    first + math.ceil(round(seconds * fps, 6))))
            cues.append(Cue(index, number, offset, offset + seconds, line.speaker, line.text))
            offset += seconds + pacing.line_gap
        if scene.lines:
            length = offset - pacing.line_gap + pacing.tail - start / fps
        else:
            length = (fade_in + black_in) / fps + pacing.silent_scene
        length += black_out / fps
        # A transition needs frames on both sides; never let a scene be shorter than two.
        frames = max(math.ceil(round(length * fps, 6)), 2 * fade + 1)
        clips.append(Clip(index, start, start + frames, fade_in,
                          scene_motion(storyboard, index, seed, generated), black_in,
                          black_out, enter))
        # Asked even of the board's last scene: a timeline planned on the first scenes only
        # gives the shots the whole board's does (its early chunks are final).
        overlap_after = fade if transition_after(storyboard, index, pacing) in OVERLAPPING else 0
        shots += _fit_shots(planned, clips[-1], overlap_after)
        start += frames
    return Timeline(fps, tuple(clips), tuple(cues), tuple(shots))


def _fit_shots(shots: list[Shot], clip: Clip, overlap_after: int) -> list[Shot]:
    """``shots`` of ``clip``'s scene kept clear of the frames it shares: ended before its
    fade to black and before the ``overlap_after`` frames the next clip dissolves in over.
    A shot starting inside the fade in is dropped, not moved (its clip's frame 0 must stay on
    its speech's start; with lead_in >= 0 none does), and so is one left empty."""
    first = clip.start + clip.fade_in + clip.black_in
    last = clip.end - max(overlap_after, clip.black_out)
    fitted = [replace(shot, end=min(shot.end, last)) for shot in shots if shot.start >= first]
    return [shot for shot in fitted if shot.start < shot.end]


def _check_talking(storyboard: Storyboard, talking: frozenset[tuple[int, int]]) -> None:
    """Refuse a talking pair naming a line its scene does not have (a scene past the board's
    end is allowed: see plan_timeline)."""
    for scene, line in sorted(talking):
        if scene < 0 or (scene < len(storyboard.scenes)
                         and not 0 <= line < len(storyboard.scenes[scene].lines)):
            raise ValueError(f"talking shot ({scene}, {line}) names no line of the storyboard: "
                             "give 0-based (scene, line) pairs of spoken lines")


def scene_motion(storyboard: Storyboard, index: int, seed: int = 0,
                 generated: bool = False) -> str:
    """Scene ``index``'s camera move: ``still`` holds the picture (``static``), and so does
    ``clip`` when a video model makes its clip (``generated``: the clip is the motion);
    ``camera``, empty, and ``clip`` without a video model (``motion_notes`` says so) take
    the scene's ``camera``, else the one ``seed`` picks."""
    scene = storyboard.scenes[index]
    if scene.motion == "still" or (generated and scene.motion == "clip"):
        return "static"
    return scene.camera or MOTIONS[stable_seed("motion", str(seed), str(index)) % len(MOTIONS)]


def motion_notes(storyboard: Storyboard, video_model: str = "none") -> list[str]:
    """What the render tells the user about scenes' motion it cannot give as asked: scenes
    asking for a generated clip get camera moves while no video model is set (none to say
    once ``video_model`` makes them)."""
    asked = [str(i + 1) for i, scene in enumerate(storyboard.scenes) if scene.motion == "clip"]
    if not asked or video_model != "none":
        return []
    if len(asked) == 1:
        return [f"scene {asked[0]} asks for a generated motion clip; no video model is set "
                "yet, so it gets a camera move"]
    return [f"scenes {', '.join(asked)} ask for a generated motion clip; no video model is "
            "set yet, so they get camera moves"]


# A cue before a scene's first line or after its last sits this far from the speech.
EFFECT_LEAD = 0.2


def place_effects(storyboard: Storyboard, timeline: Timeline) -> list[EffectCue]:
    """Absolute start times of every scene's sound effects, in time order (pure).

    Between two lines a cue sits in the middle of the pause; before the first line
    EFFECT_LEAD earlier (not before the scene is on screen); after the last, EFFECT_LEAD later.
    """
    placed = []
    for clip in timeline.clips:
        scene = storyboard.scenes[clip.scene]
        on_screen = (clip.start + clip.fade_in) / timeline.fps
        cues = [c for c in timeline.cues if c.scene == clip.scene]
        for sound in scene.sfx:
            if sound.offset is not None:
                length = clip.frames / timeline.fps
                if sound.offset >= length:
                    raise ScriptError(
                        f"scene {clip.scene + 1}: sound {sound.name!r} at {sound.offset:g} s is "
                        f"past the scene's end ({length:.2f} s): use a smaller offset or a line")
                at = clip.start / timeline.fps + sound.offset
            elif sound.line is None or not cues:
                at = on_screen
            elif sound.line == 0:
                at = max(on_screen, cues[0].start - EFFECT_LEAD)
            elif sound.line >= len(cues):
                at = cues[-1].end + EFFECT_LEAD
            else:
                at = (cues[sound.line - 1].end + cues[sound.line].start) / 2
            placed.append(EffectCue(clip.scene, sound.name, round(at, 6)))
    return sorted(placed, key=lambda cue: (cue.start, cue.scene))


def transition_after(storyboard: Storyboard, index: int, pacing: Pacing) -> str:
    """How scene ``index`` gives way to the next: its own choice, else the default."""
    return storyboard.scenes[index].transition or pacing.transition
