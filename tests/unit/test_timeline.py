import pytest

from vidgen_ray.storyboard import Line, Scene, Storyboard
from vidgen_ray.timeline import MOTIONS, OVERLAPPING, Pacing, plan_timeline


def board(*line_counts, transitions=None):
    scenes = []
    for i, n in enumerate(line_counts):
        scenes.append(Scene(title=f"s{i}", lines=[Line(text=f"line {k}") for k in range(n)],
                            transition=(transitions or ["dissolve"] * len(line_counts))[i]))
    return Storyboard(scenes=scenes)


def test_scene_length_is_speech_plus_padding_in_whole_frames():
    pacing = Pacing(fps=30, crossfade=0.5, lead_in=0.4, line_gap=0.35, tail=0.6)
    timeline = plan_timeline(board(2), [[1.0, 2.0]], pacing)
    clip = timeline.clips[0]
    # 0.4 + 1.0 + 0.35 + 2.0 + 0.6 = 4.35 s = 130.5 frames -> 131
    assert (clip.start, clip.end, clip.fade_in) == (0, 131, 0)
    assert [(c.start, c.end) for c in timeline.cues] == [
        pytest.approx((0.4, 1.4)), pytest.approx((1.75, 3.75))]


def test_dissolves_overlap_neighbours_and_speech_waits_for_the_picture():
    pacing = Pacing(fps=30, crossfade=0.5)
    timeline = plan_timeline(board(1, 1, 1), [[1.0], [1.0], [1.0]], pacing)
    first, second, third = timeline.clips
    assert second.start == first.end - 15 and second.fade_in == 15
    assert third.start == second.end - 15
    # The second scene's line starts after its dissolve has finished, plus the lead-in.
    assert timeline.cues[1].start == pytest.approx(first.end / 30 + 0.4)
    # No two lines overlap in time.
    for a, b in zip(timeline.cues, timeline.cues[1:], strict=False):
        assert a.end < b.start


def test_a_cut_does_not_overlap():
    timeline = plan_timeline(board(1, 1, transitions=["cut", "dissolve"]), [[1.0], [1.0]],
                             Pacing())
    assert timeline.clips[1].start == timeline.clips[0].end
    assert timeline.clips[1].fade_in == 0


def test_segments_cover_every_frame_once_and_alpha_rises():
    timeline = plan_timeline(board(1, 2, 1), [[1.0], [0.5, 0.7], [2.0]], Pacing())
    segments = timeline.segments(0, timeline.total_frames)
    assert segments[0].start == 0 and segments[-1].end == timeline.total_frames
    for a, b in zip(segments, segments[1:], strict=False):
        assert a.end == b.start
    dissolves = [s for s in segments if s.b is not None]
    assert len(dissolves) == 2
    weights = [dissolves[0].alpha(f) for f in range(dissolves[0].start, dissolves[0].end)]
    assert weights == sorted(weights) and weights[0] > 0 and weights[-1] < 1


def test_segments_of_a_range_are_cut_to_it():
    timeline = plan_timeline(board(1, 1), [[2.0], [2.0]], Pacing())
    middle = timeline.clips[1].start + 5
    parts = timeline.segments(middle - 20, middle)
    assert parts[0].start == middle - 20 and parts[-1].end == middle
    assert parts[-1].b == 1 and parts[-1].fade_start == timeline.clips[1].start


def test_chunks_tile_the_frames_and_absorb_a_short_tail():
    timeline = plan_timeline(board(1), [[10.0]], Pacing(fps=30))
    total = timeline.total_frames  # 11 s = 330 frames
    chunks = timeline.chunks(2.0)
    assert chunks[0] == (0, 60) and chunks[-1][1] == total
    assert all(b - a >= 30 for a, b in chunks)
    assert sum(b - a for a, b in chunks) == total
    assert len(timeline.chunks(100.0)) == 1


def test_silent_scene_and_audio_samples():
    timeline = plan_timeline(board(1, 0), [[1.0], []], Pacing(fps=30, silent_scene=3.0))
    assert timeline.clips[1].frames == 15 + 90
    assert timeline.audio_samples == timeline.total_frames * 1600


def test_camera_moves_are_deterministic_and_vary_with_the_seed():
    line_seconds = [[1.0]] * 12
    a = plan_timeline(board(*[1] * 12), line_seconds, Pacing(), seed=0)
    b = plan_timeline(board(*[1] * 12), line_seconds, Pacing(), seed=0)
    c = plan_timeline(board(*[1] * 12), line_seconds, Pacing(), seed=1)
    assert a == b
    assert [x.motion for x in a.clips] != [x.motion for x in c.clips]
    assert {x.motion for x in a.clips} <= set(MOTIONS)


def test_line_seconds_must_match_scenes():
    with pytest.raises(ValueError):
        plan_timeline(board(1, 1), [[1.0]], Pacing())


@pytest.mark.parametrize("kind", OVERLAPPING)
def test_overlapping_transitions_share_the_crossfade_and_name_their_kind(kind):
    timeline = plan_timeline(board(1, 1, transitions=[kind, "cut"]), [[1.0], [1.0]],
                             Pacing(fps=30, crossfade=0.5))
    first, second = timeline.clips
    assert second.start == first.end - 15 and second.enter == kind
    joined = [s for s in timeline.segments(0, timeline.total_frames) if s.b is not None]
    assert [(s.kind, s.start, s.end) for s in joined] == [(kind, second.start, first.end)]


def test_fade_black_does_not_overlap_and_speech_waits_for_the_fade_up():
    pacing = Pacing(fps=30, crossfade=0.5, lead_in=0.4)
    plain = plan_timeline(board(1, 1, transitions=["cut", "cut"]), [[1.0], [1.0]], pacing)
    black = plan_timeline(board(1, 1, transitions=["fade_black", "cut"]), [[1.0], [1.0]],
                          pacing)
    first, second = black.clips
    assert second.start == first.end and second.fade_in == 0
    assert (first.black_out, second.black_in) == (15, 15)
    assert (first.black_in, second.black_out) == (0, 0)
    # The fade down is added after the first scene's tail, the fade up before the second's
    # lead-in: each scene is half a second longer and its line starts half a second later.
    assert first.frames == plain.clips[0].frames + 15
    assert black.cues[1].start == pytest.approx(first.end / 30 + 0.5 + 0.4)
    assert all(s.b is None for s in black.segments(0, black.total_frames))


def test_the_default_transition_fills_scenes_that_leave_it_empty():
    story = Storyboard(scenes=[Scene(lines=[Line(text="a")]), Scene(lines=[Line(text="b")],
                                                                    transition="cut"),
                               Scene(lines=[Line(text="c")])])
    timeline = plan_timeline(story, [[1.0]] * 3, Pacing(transition="wipe_left"))
    assert [c.enter for c in timeline.clips] == ["cut", "wipe_left", "cut"]
    # An old storyboard.json, which spelled "dissolve" out, still loads and means the same.
    old = Storyboard.model_validate({"scenes": [{"transition": "dissolve"}, {}]})
    assert old.scenes[0].transition == "dissolve" and old.scenes[1].transition is None


def test_a_scene_may_choose_its_camera_move():
    story = Storyboard(scenes=[Scene(camera="pan_up"), Scene(camera="static"), Scene()])
    timeline = plan_timeline(story, [[], [], []], Pacing(), seed=0)
    seeded = plan_timeline(Storyboard(scenes=[Scene()] * 3), [[], [], []], Pacing(), seed=0)
    assert [c.motion for c in timeline.clips[:2]] == ["pan_up", "static"]
    assert timeline.clips[2].motion == seeded.clips[2].motion
    with pytest.raises(ValueError):
        Scene(camera="spin")
