"""Talking shots in the timeline: lines snapped to whole frames, shots kept clear of the
transitions and fades, and segments cut around them (pure)."""

import math

import pytest

from vidgen_ray.storyboard import Line, Scene, Storyboard
from vidgen_ray.timeline import Pacing, Shot, plan_timeline

# A lead-in of 0.41 s puts speech between frames (12.3 at 30 fps): snapping shows.
PACING = Pacing(fps=30, crossfade=0.5, lead_in=0.41, line_gap=0.35, tail=0.6)


def board(*line_counts, transitions=None):
    scenes = [Scene(title=f"s{i}", lines=[Line(text=f"line {k}") for k in range(n)],
                    transition=(transitions or ["dissolve"] * len(line_counts))[i])
              for i, n in enumerate(line_counts)]
    return Storyboard(scenes=scenes)


def first_frames(pacing, seconds):
    return [math.ceil(round(s * pacing.fps, 6)) for s in seconds]


def test_a_talking_line_starts_on_a_whole_frame_and_the_rest_shift_after_it():
    seconds = [[1.0, 1.013], [1.0]]
    plain = plan_timeline(board(2, 1), seconds, PACING)
    talking = plan_timeline(board(2, 1), seconds, PACING, talking=frozenset({(0, 1)}))
    cue = talking.cues[1]
    assert cue.start * 30 == pytest.approx(round(cue.start * 30), abs=1e-9)
    # 0.41 + 1.0 + 0.35 = 1.76 s = frame 52.8: the line waits for frame 53.
    assert round(cue.start * 30) == 53 and cue.end - cue.start == pytest.approx(1.013)
    assert talking.cues[0] == plain.cues[0]  # a line that does not talk stays where it was
    shift = 53 / 30 - plain.cues[1].start
    assert talking.cues[2].start == pytest.approx(plain.cues[2].start + shift, abs=1 / 30)
    assert talking.clips[0].end >= plain.clips[0].end


@pytest.mark.parametrize("seconds", [0.7, 1.0, 1.013, 2.5001])
def test_a_shot_lasts_the_line_in_whole_frames_from_its_first(seconds):
    timeline = plan_timeline(board(1, 1), [[seconds], [1.0]], PACING,
                             talking=frozenset({(0, 0)}))
    (shot,) = timeline.shots
    assert (shot.scene, shot.line) == (0, 0)
    assert shot.start == round(timeline.cues[0].start * 30)
    assert shot.frames == first_frames(PACING, [seconds])[0]  # 0.7 s: 21, not 22


def test_a_shot_stops_before_the_dissolve_into_the_next_scene():
    pacing = Pacing(fps=30, crossfade=0.5, tail=0.1)  # the line ends inside the dissolve
    timeline = plan_timeline(board(1, 1), [[1.0], [1.0]], pacing, talking=frozenset({(0, 0)}))
    (shot,) = timeline.shots
    first, second = timeline.clips
    assert shot.end == first.end - 15 == second.start
    assert shot.start == round(timeline.cues[0].start * 30)  # its start is not moved


def test_a_shot_stops_before_a_fade_to_black_and_after_a_fade_up():
    pacing = Pacing(fps=30, crossfade=0.5, lead_in=0.0, tail=-0.3)  # speech into both fades
    timeline = plan_timeline(board(1, 1, transitions=["fade_black", "fade_black"]),
                             [[1.0], [1.0]], pacing, talking=frozenset({(0, 0), (1, 0)}))
    first, second = timeline.clips
    out, up = timeline.shots
    assert first.black_out == 15 and out.end == first.end - 15
    assert second.black_in == 15 and up.start == second.start + 15


def test_a_shot_left_without_frames_is_dropped():
    pacing = Pacing(fps=30, crossfade=0.5, tail=0.0)  # a 9-frame line inside the dissolve
    timeline = plan_timeline(board(2, 1), [[2.0, 0.3], [1.0]], pacing,
                             talking=frozenset({(0, 0), (0, 1)}))
    assert [(s.scene, s.line) for s in timeline.shots] == [(0, 0)]


def test_a_timeline_of_the_first_scenes_gives_the_whole_boards_shots():
    pacing = Pacing(fps=30, crossfade=0.5, tail=0.1)  # shots the dissolves clamp
    whole = board(1, 2, 1, 1, transitions=["dissolve", "wipe_left", "cut", "dissolve"])
    seconds = [[1.2], [0.8, 1.1], [0.9], [1.0]]
    talking = frozenset({(0, 0), (1, 1), (2, 0), (3, 0)})
    full = plan_timeline(whole, seconds, pacing, talking=talking)
    for k in range(1, 4):
        early = whole.model_copy(update={"scenes": whole.scenes[:k]})
        part = plan_timeline(early, seconds[:k], pacing, talking=talking)
        assert part.shots == tuple(s for s in full.shots if s.scene < k)
    assert full.shots[1].end == full.clips[1].end - 15  # the clamp did bind


def test_segments_are_cut_around_shots_and_tile_the_frames():
    timeline = plan_timeline(board(3, 1), [[1.0, 0.5, 0.8], [1.2]], PACING,
                             talking=frozenset({(0, 0), (0, 2), (1, 0)}))
    segments = timeline.segments(0, timeline.total_frames)
    assert segments[0].start == 0 and segments[-1].end == timeline.total_frames
    for a, b in zip(segments, segments[1:], strict=False):
        assert a.end == b.start
    shown = [(s.start, s.end, s.a, s.shot) for s in segments if s.shot is not None]
    assert shown == [(shot.start, shot.end, shot.scene, i)
                     for i, shot in enumerate(timeline.shots)]
    assert all(s.b is None for s in segments if s.shot is not None)
    # Scene 0: picture, shot, picture (the untalking line), shot, picture, then the dissolve.
    assert [s.shot for s in segments[:6]] == [None, 0, None, 1, None, None]


def test_a_range_cut_inside_a_shot_keeps_it():
    timeline = plan_timeline(board(1), [[2.0]], PACING, talking=frozenset({(0, 0)}))
    (shot,) = timeline.shots
    middle = shot.start + shot.frames // 2
    before, after = timeline.segments(0, middle), timeline.segments(middle, shot.end + 3)
    assert before[-1].shot == after[0].shot == 0
    assert (before[-1].start, before[-1].end) == (shot.start, middle)
    assert (after[0].start, after[0].end) == (middle, shot.end)
    assert after[1].shot is None and after[1].start == shot.end


def test_no_talking_lines_is_todays_timeline_and_segments_print_as_before():
    seconds = [[1.0, 2.0], [0.5], [1.5]]
    plain = plan_timeline(board(2, 1, 1), seconds, PACING, seed=4)
    assert plan_timeline(board(2, 1, 1), seconds, PACING, seed=4,
                         talking=frozenset()) == plain
    assert plain.shots == ()
    assert len(plain.segments(0, plain.total_frames)) == 5
    with_shots = plan_timeline(board(2, 1, 1), seconds, PACING, talking=frozenset({(0, 1)}))
    for timeline in (plain, with_shots):
        assert all("shot" not in repr(s) for s in timeline.segments(0, timeline.total_frames))


def test_a_talking_pair_naming_no_line_is_refused():
    with pytest.raises(ValueError, match=r"\(0, 2\)"):
        plan_timeline(board(2), [[1.0, 1.0]], PACING, talking=frozenset({(0, 2)}))
    # A scene past the board's end is a longer board's (an early timeline): it waits.
    assert plan_timeline(board(2), [[1.0, 1.0]], PACING,
                         talking=frozenset({(3, 0)})).shots == ()


def test_shot_frames():
    assert Shot(0, 0, 10, 31).frames == 21


def test_a_shot_starting_inside_the_fade_in_is_dropped_not_moved_off_its_speech():
    pacing = Pacing(fps=30, crossfade=0.5, lead_in=-0.3)  # speech before the dissolve ends
    timeline = plan_timeline(board(1, 2), [[1.0], [1.0, 1.0]], pacing,
                             talking=frozenset({(1, 0), (1, 1)}))
    second = timeline.clips[1]
    assert round(timeline.cues[1].start * 30) < second.start + second.fade_in
    assert [(s.scene, s.line) for s in timeline.shots] == [(1, 1)]  # the first would desync
    assert timeline.shots[0].start == round(timeline.cues[2].start * 30)
