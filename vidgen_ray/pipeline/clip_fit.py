"""Generated motion clips fitted to a scene's length (pure): which clips to make, which of
their frames show where, and the FFmpeg arguments that make the fitted clip.

An image-to-video model makes clips of one native length; a scene of N frames needs exactly
N frames at the render's rate. At that rate a clip gives ``c`` whole frames (usable_frames).
Clips are chained, each fading into the next over ``x`` frames, so k clips last

    chain(k) = k*c - (k-1)*x        (each clip after the first adds c - x frames)

and the plan takes the smallest k with chain(k) >= N, k = max(1, ceil((N - x) / (c - x))):
the last clip is trimmed to what the scene still needs (a single clip, when N <= c).
Generation is dear: when k exceeds ``max_clips`` (m), m clips are made and shown in turn,
0, 1, .., m-1, 0, 1, .. (the loop), each wrap fading as between any two clips, so the loop
never jumps. Placement j (the j-th clip shown) is clip j mod m from output frame j*(c - x).

Because chain(k-1) < N, the last placement runs past its incoming crossfade, and with
2x < c every placement shows some frames alone: the spans (solo runs and crossfades) cover
[0, N) in order, without gaps or overlaps. Within a crossfade the incoming clip weighs
(f - start + 1) / (x + 1) at output frame f, never 0 or 1, as timeline.Segment.alpha.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

# A clip_seconds * fps that floating point puts a hair under a whole number still counts it.
_EPSILON = 1e-6


@dataclass(frozen=True)
class Span:
    """Output frames [start, end) of the fitted clip: clip ``clip`` (shown as placement
    ``placement``) from its frame ``clip_from``; during a crossfade, that clip going out
    while clip ``incoming`` (placement + 1) comes in from its frame 0."""

    start: int
    end: int
    placement: int
    clip: int
    clip_from: int
    incoming: int | None = None

    @property
    def frames(self) -> int:
        return self.end - self.start

    def clip_frame(self, frame: int) -> int:
        """The frame of ``clip`` shown at output ``frame``."""
        return self.clip_from + frame - self.start

    def weight(self, frame: int) -> float:
        """The incoming clip's weight at output ``frame`` (0 outside a crossfade)."""
        if self.incoming is None:
            return 0.0
        return (frame - self.start + 1) / (self.frames + 1)


@dataclass(frozen=True)
class ClipPlan:
    """How a scene of ``scene_frames`` is made of ``clips`` generated clips of
    ``clip_frames`` usable frames each, shown ``placements`` times in all (more than
    ``clips`` when looped), fading over ``crossfade_frames``; ``spans`` cover the scene."""

    scene_frames: int
    clip_frames: int
    crossfade_frames: int
    clips: int
    placements: int
    spans: tuple[Span, ...]

    @property
    def looped(self) -> bool:
        return self.placements > self.clips

    def clip_of(self, placement: int) -> int:
        return placement % self.clips

    def placement_start(self, placement: int) -> int:
        """The output frame where ``placement`` begins (its incoming crossfade's first)."""
        return placement * (self.clip_frames - self.crossfade_frames)

    def placement_frames(self, placement: int) -> int:
        """Frames of its clip that ``placement`` uses: all, but fewer for a trimmed last."""
        return min(self.clip_frames, self.scene_frames - self.placement_start(placement))


def usable_frames(clip_seconds: float, fps: int) -> int:
    """Whole frames at ``fps`` that a clip of ``clip_seconds`` fills: FFmpeg's fps filter
    makes output frame n at n/fps, from the source frame showing then."""
    return math.floor(clip_seconds * fps + _EPSILON)


def chain_frames(clips: int, clip_frames: int, crossfade_frames: int) -> int:
    """Frames that ``clips`` clips chained with crossfades last."""
    return clips * clip_frames - (clips - 1) * crossfade_frames


def fit_clips(scene_frames: int, clip_seconds: float, fps: int, crossfade_frames: int,
              max_clips: int) -> ClipPlan:
    """The plan that fills ``scene_frames`` at ``fps`` with clips of ``clip_seconds``
    (the clip file's own duration), crossfaded over ``crossfade_frames``, generating at most
    ``max_clips`` clips (looping them beyond). Bad values raise ValueError naming them."""
    clip_frames = _check(scene_frames, clip_seconds, fps, crossfade_frames, max_clips)
    step = clip_frames - crossfade_frames
    placements = max(1, -(-(scene_frames - crossfade_frames) // step))  # ceil division
    clips = min(placements, max_clips)
    return ClipPlan(scene_frames, clip_frames, crossfade_frames, clips, placements,
                    _spans(scene_frames, clip_frames, crossfade_frames, clips, placements))


def _check(scene_frames: int, clip_seconds: float, fps: int, crossfade_frames: int,
           max_clips: int) -> int:
    """The usable frames of a clip, once every value is known to make sense."""
    if scene_frames < 1:
        raise ValueError(f"scene_frames must be at least 1, got {scene_frames}")
    if fps < 1:
        raise ValueError(f"fps must be at least 1, got {fps}")
    if not math.isfinite(clip_seconds) or clip_seconds <= 0:
        raise ValueError(f"clip_seconds must be a positive number of seconds, got {clip_seconds}")
    if max_clips < 1:
        raise ValueError(f"max_clips must be at least 1, got {max_clips}")
    if crossfade_frames < 0:
        raise ValueError(f"crossfade_frames cannot be negative, got {crossfade_frames}")
    clip_frames = usable_frames(clip_seconds, fps)
    if clip_frames < 1:
        raise ValueError(f"a clip of {clip_seconds} s holds no whole frame at {fps} fps: "
                         "generate longer clips")
    if 2 * crossfade_frames >= clip_frames:
        raise ValueError(f"crossfade_frames ({crossfade_frames}) must be shorter than half a "
                         f"clip ({clip_frames} frames at {fps} fps): use at most "
                         f"{(clip_frames - 1) // 2}")
    return clip_frames


def _spans(scene_frames: int, clip_frames: int, crossfade: int, clips: int,
           placements: int) -> tuple[Span, ...]:
    """Each placement's solo run, then its crossfade into the next (none after the last)."""
    step = clip_frames - crossfade
    spans = []
    for j in range(placements):
        start = j * step
        last = j == placements - 1
        solo_from = start + (crossfade if j else 0)
        solo_to = scene_frames if last else start + step
        spans.append(Span(solo_from, solo_to, j, j % clips, solo_from - start))
        if not last and crossfade:
            spans.append(Span(solo_to, solo_to + crossfade, j, j % clips, step,
                              incoming=(j + 1) % clips))
    return tuple(spans)


# ---- FFmpeg ---------------------------------------------------------------------------------

# An intermediate: the chunk assembler decodes and re-encodes it, so lossless and fast.
INTERMEDIATE = ["-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv420p"]


def fit_args(plan: ClipPlan, clip_paths: list[Path], fps: int, size: tuple[int, int],
             out_path: Path) -> list[str]:
    """ffmpeg arguments making ``out_path``: the plan's ``scene_frames`` frames at ``fps``
    and ``size`` from its clips' files (``clip_paths[i]`` is clip i). Each placement is an
    input of its own (a loop names a file again), so every frame comes from a fresh decode
    and no split has to hold a whole clip for a later wrap."""
    if len(clip_paths) != plan.clips:
        raise ValueError(f"the plan has {plan.clips} clips, but {len(clip_paths)} paths "
                         "were given: pass one file per generated clip")
    width, height = size
    if width < 2 or height < 2 or width % 2 or height % 2:
        raise ValueError(f"size {width}x{height}: each side must be even (yuv420p) and > 0")
    inputs = [arg for j in range(plan.placements)
              for arg in ("-i", str(clip_paths[plan.clip_of(j)]))]
    return [*inputs, "-filter_complex", fit_graph(plan, fps, size), "-map", "[v]",
            "-frames:v", str(plan.scene_frames), "-r", str(fps), *INTERMEDIATE, "-an",
            str(out_path)]


def fit_graph(plan: ClipPlan, fps: int, size: tuple[int, int]) -> str:
    """The filter graph: input j is placement j's clip; each span trimmed by frame (frame-
    exact, unlike xfade's offset in seconds), crossfades drawn as the chunks draw dissolves
    (the incoming clip's alpha faded in, overlaid), all concatenated into [v]."""
    width, height = size
    uses = [0] * plan.placements
    for span in plan.spans:
        uses[span.placement] += 1
        if span.incoming is not None:
            uses[span.placement + 1] += 1
    # Scaled to cover and cropped to the centre: a model's aspect need not be the render's.
    chains = [f"[{j}:v]scale={width}:{height}:force_original_aspect_ratio=increase"
              f":flags=bicubic,crop={width}:{height},setsar=1,fps={fps},format=yuv420p,"
              f"split={count}" + "".join(f"[p{j}u{u}]" for u in range(count))
              for j, count in enumerate(uses)]
    taken = [0] * plan.placements

    def take(placement: int) -> str:
        taken[placement] += 1
        return f"[p{placement}u{taken[placement] - 1}]"

    for n, span in enumerate(plan.spans):
        out = take(span.placement) + _frames(span.clip_from, span.frames, fps)
        if span.incoming is None:
            chains.append(f"{out}[s{n}]")
            continue
        # The fade's weight at frame i (timed from 1) is i / (frames + 1): Span.weight.
        incoming = (take(span.placement + 1) + _frames(0, span.frames, fps, from_one=True)
                    + f",format=yuva420p,fade=t=in:st=0"
                    f":d={(span.frames + 1) / fps:.6f}:alpha=1,setpts=N")
        chains += [f"{out}[s{n}a]", f"{incoming}[s{n}b]",
                   f"[s{n}a][s{n}b]overlay=format=yuv420:eof_action=pass[s{n}]"]
    chains.append("".join(f"[s{n}]" for n in range(len(plan.spans)))
                  + f"concat=n={len(plan.spans)}:v=1:a=0,settb=1/{fps},setpts=N,"
                  "format=yuv420p[v]")
    return ";".join(chains)


def _frames(first: int, count: int, fps: int, from_one: bool = False) -> str:
    """A clip's frames [first, first + count), renumbered from 0 (or 1) in a 1/fps time
    base."""
    return (f"trim=start_frame={first}:end_frame={first + count},settb=1/{fps},"
            f"setpts=N{'+1' if from_one else ''}")
