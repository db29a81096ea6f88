"""Generated clips fitted to a scene (pipeline/clip_fit.py): the arithmetic of chains,
trims and loops, the spans covering the scene, and the FFmpeg arguments, without FFmpeg."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from vidgen_ray.pipeline.clip_fit import (
    ClipPlan,
    Span,
    chain_frames,
    fit_args,
    fit_clips,
    fit_graph,
    usable_frames,
)


def shown(plan: ClipPlan, frame: int) -> tuple[int, int, int | None, float]:
    """(clip, its frame, incoming clip, incoming weight) at an output frame, from the spans."""
    [span] = [s for s in plan.spans if s.start <= frame < s.end]
    return span.clip, span.clip_frame(frame), span.incoming, span.weight(frame)


def check_plan(plan: ClipPlan, max_clips: int) -> None:
    """Everything a plan promises, checked from its spans alone."""
    n, c, x = plan.scene_frames, plan.clip_frames, plan.crossfade_frames
    # Spans tile [0, N) in order, none empty.
    assert plan.spans[0].start == 0 and plan.spans[-1].end == n
    assert all(a.end == b.start for a, b in zip(plan.spans, plan.spans[1:], strict=False))
    assert all(s.frames > 0 for s in plan.spans)
    # The fewest placements whose chain reaches N; clips generated within the limit.
    assert chain_frames(plan.placements, c, x) >= n
    assert plan.placements == 1 or chain_frames(plan.placements - 1, c, x) < n
    assert plan.clips == min(plan.placements, max_clips)
    assert plan.looped == (plan.placements > max_clips)
    for span in plan.spans:
        assert span.clip == plan.clip_of(span.placement)
        # Every clip frame shown exists, and follows from the placement's start.
        assert span.clip_from >= 0 and span.clip_frame(span.end - 1) < c
        assert span.clip_from == span.start - plan.placement_start(span.placement)
        if span.incoming is not None:
            assert span.frames == x and span.clip_frame(span.end - 1) == c - 1
            assert span.incoming == plan.clip_of(span.placement + 1)
            assert span.start == plan.placement_start(span.placement + 1)
    # Frames used per placement: all of a clip, but the last one's trimmed to what is left.
    used = sum(plan.placement_frames(j) for j in range(plan.placements))
    assert used - (plan.placements - 1) * x == n
    assert all(plan.placement_frames(j) == c for j in range(plan.placements - 1))
    crossfades = [s for s in plan.spans if s.incoming is not None]
    assert len(crossfades) == (plan.placements - 1 if x else 0)


@pytest.mark.parametrize("clip_seconds", [121 / 24, 97 / 24, 81 / 16, 1.0])
@pytest.mark.parametrize("fps", [24, 30])
def test_every_scene_length_is_filled_exactly(clip_seconds, fps):
    """A sweep of scene lengths, crossfades and limits: each plan keeps all its promises."""
    c = usable_frames(clip_seconds, fps)
    for x in sorted({0, 1, c // 4, (c - 1) // 2}):
        for max_clips in (1, 2, 3, 8):
            for n in [*range(1, 3 * c), 10 * c + 7]:
                check_plan(fit_clips(n, clip_seconds, fps, x, max_clips), max_clips)


def test_the_chain_arithmetic_on_a_five_second_clip():
    """121 frames at 24 fps last 5.04 s: 151 whole frames at 30 fps; with 12 frames of
    crossfade each further clip adds 139."""
    assert usable_frames(121 / 24, 30) == 151
    assert usable_frames(5.0, 30) == 150 and usable_frames(81 / 16, 30) == 151
    assert chain_frames(3, 151, 12) == 151 + 139 + 139
    assert fit_clips(151, 121 / 24, 30, 12, 8).clips == 1
    assert fit_clips(152, 121 / 24, 30, 12, 8).clips == 2
    assert fit_clips(290, 121 / 24, 30, 12, 8).clips == 2
    plan = fit_clips(291, 121 / 24, 30, 12, 8)
    assert plan.clips == 3 and not plan.looped
    assert plan.placement_frames(2) == 13  # 12 crossfaded and 1 alone
    assert [s.frames for s in plan.spans] == [139, 12, 127, 12, 1]


def test_a_short_scene_trims_one_clip():
    plan = fit_clips(40, 121 / 24, 30, 12, 3)
    assert (plan.clips, plan.placements, plan.looped) == (1, 1, False)
    assert plan.spans == (Span(0, 40, 0, 0, 0),)
    assert plan.placement_frames(0) == 40


def test_a_long_scene_loops_its_clips_and_fades_at_each_wrap():
    """Two clips for a scene needing four: shown 0, 1, 0, 1, the wraps crossfaded too."""
    plan = fit_clips(500, 121 / 24, 30, 12, 2)
    assert (plan.clips, plan.placements, plan.looped) == (2, 4, True)
    assert [(s.clip, s.incoming) for s in plan.spans] == [
        (0, None), (0, 1), (1, None), (1, 0), (0, None), (0, 1), (1, None)]
    wrap = plan.spans[3]  # clip 1's end fading into clip 0's start
    assert (wrap.start, wrap.clip_from) == (278, 139)
    assert shown(plan, 278) == (1, 139, 0, 1 / 13)
    assert shown(plan, 290) == (0, 12, None, 0.0)  # clip 0 again, after its fade in
    assert shown(plan, 499) == (1, 499 - 3 * 139, None, 0.0)


def test_a_single_clip_loops_into_itself():
    plan = fit_clips(100, 1.0, 30, 5, 1)
    assert (plan.clips, plan.placements) == (1, 4)
    assert {s.clip for s in plan.spans} == {0}
    assert shown(plan, 25) == (0, 25, 0, 1 / 6)  # its own end over its own start
    assert shown(plan, 30) == (0, 5, None, 0.0)


def test_the_crossfade_weight_is_never_zero_or_one():
    plan = fit_clips(60, 1.0, 30, 4, 4)
    fade = plan.spans[1]
    assert [fade.weight(f) for f in range(fade.start, fade.end)] == [0.2, 0.4, 0.6, 0.8]
    assert plan.spans[0].weight(0) == 0.0


def test_without_crossfades_clips_cut():
    plan = fit_clips(70, 1.0, 30, 0, 5)
    assert [(s.start, s.end, s.clip) for s in plan.spans] == [(0, 30, 0), (30, 60, 1),
                                                              (60, 70, 2)]


@pytest.mark.parametrize(("args", "message"), [
    ((0, 5.0, 30, 0, 2), "scene_frames must be at least 1, got 0"),
    ((10, 5.0, 0, 0, 2), "fps must be at least 1, got 0"),
    ((10, 0.0, 30, 0, 2), "clip_seconds must be a positive number of seconds, got 0.0"),
    ((10, math.nan, 30, 0, 2), "clip_seconds must be a positive number of seconds, got nan"),
    ((10, 5.0, 30, 0, 0), "max_clips must be at least 1, got 0"),
    ((10, 5.0, 30, -1, 2), "crossfade_frames cannot be negative, got -1"),
    ((10, 0.01, 30, 0, 2), "a clip of 0.01 s holds no whole frame at 30 fps: generate longer"),
    ((10, 1.0, 30, 15, 2), "crossfade_frames (15) must be shorter than half a clip "
                           "(30 frames at 30 fps): use at most 14"),
])
def test_bad_values_are_named(args, message):
    with pytest.raises(ValueError) as raised:
        fit_clips(*args)
    assert str(raised.value).startswith(message)


def test_half_a_clip_less_one_is_the_longest_crossfade():
    plan = fit_clips(200, 1.0, 30, 14, 10)
    assert [s.frames for s in plan.spans[:4]] == [16, 14, 2, 14]


# ---- FFmpeg arguments -------------------------------------------------------------------------

def test_the_arguments_name_each_placement_as_an_input_and_make_exactly_n_frames():
    plan = fit_clips(500, 121 / 24, 30, 12, 2)
    args = fit_args(plan, [Path("a.mp4"), Path("b.mp4")], 30, (64, 48), Path("out.mkv"))
    assert [args[i + 1] for i, a in enumerate(args) if a == "-i"] == [
        "a.mp4", "b.mp4", "a.mp4", "b.mp4"]
    assert args[args.index("-frames:v") + 1] == "500"
    assert args[args.index("-r") + 1] == "30"
    assert args[args.index("-qp") + 1] == "0" and args[-1] == "out.mkv"
    graph = args[args.index("-filter_complex") + 1]
    assert graph == fit_graph(plan, 30, (64, 48))


def test_the_graph_trims_by_frame_and_fades_as_the_spans_say():
    plan = fit_clips(50, 1.0, 30, 4, 4)  # spans [0,26) [26,30)x [30,50)
    graph = fit_graph(plan, 30, (64, 48))
    chains = graph.split(";")
    assert chains[0] == ("[0:v]scale=64:48:force_original_aspect_ratio=increase:flags=bicubic,"
                         "crop=64:48,setsar=1,fps=30,format=yuv420p,split=2[p0u0][p0u1]")
    assert "[p0u0]trim=start_frame=0:end_frame=26,settb=1/30,setpts=N[s0]" in chains
    assert "[p0u1]trim=start_frame=26:end_frame=30,settb=1/30,setpts=N[s1a]" in chains
    # The incoming clip's alpha at its frame i (from 1) is i/5: fade over 5 frames from 0.
    assert ("[p1u0]trim=start_frame=0:end_frame=4,settb=1/30,setpts=N+1,format=yuva420p,"
            "fade=t=in:st=0:d=0.166667:alpha=1,setpts=N[s1b]") in chains
    assert "[p1u1]trim=start_frame=4:end_frame=24,settb=1/30,setpts=N[s2]" in chains
    assert chains[-1] == ("[s0][s1][s2]concat=n=3:v=1:a=0,settb=1/30,setpts=N,"
                          "format=yuv420p[v]")


def test_fit_args_refuses_the_wrong_paths_or_an_odd_size():
    plan = fit_clips(100, 1.0, 30, 5, 2)
    with pytest.raises(ValueError, match="the plan has 2 clips, but 1 paths were given"):
        fit_args(plan, [Path("a.mp4")], 30, (64, 48), Path("out.mkv"))
    with pytest.raises(ValueError, match="size 63x48: each side must be even"):
        fit_args(plan, [Path("a.mp4"), Path("b.mp4")], 30, (63, 48), Path("out.mkv"))
