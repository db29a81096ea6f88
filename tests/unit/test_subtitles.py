import pysrt
import pytest
import webvtt

from vidgen_ray.config import RenderSettings
from vidgen_ray.pipeline.subtitles import LINE_WIDTH, captions, format_ass, format_srt, format_vtt
from vidgen_ray.timeline import Cue

CUES = (Cue(0, 0, 0.4, 1.25, "NARRATOR", "Rain lashed the old lighthouse."),
        Cue(1, 0, 3661.5, 3663.001, "MARA", "Thirty years I have kept this light, and not "
                                            "one ship lost to the sea."))
LONG = Cue(2, 0, 10.0, 24.0, "NARRATOR",
           "The keeper climbed the spiral stair one hundred and twelve steps to the lamp room. "
           "Outside, the storm tore at the glass, and far below the sea threw itself against "
           "the rocks; somewhere in the dark a bell was ringing, slow and patient.")


def test_srt():
    text = format_srt(CUES)
    # Spoken in 0.85 s, shown for 31 characters / 17 a second: the reading-speed rule keeps
    # a fast line up longer, into the silence after it.
    assert text.startswith("1\n00:00:00,400 --> 00:00:02,224\nRain lashed the old lighthouse.\n")
    assert "2\n01:01:01,500 --> 01:01:05,559\n" in text
    # Two balanced lines of at most 42 characters, broken before the conjunction.
    assert "Thirty years I have kept this light,\nand not one ship lost to the sea." in text


def test_vtt():
    text = format_vtt(CUES)
    assert text.startswith("WEBVTT\n\n00:00:00.400 --> 00:00:02.224\n")
    assert text.count(" --> ") == 2


def test_a_long_line_becomes_cues_of_two_lines_at_clause_ends_tiling_its_time():
    shown = captions([LONG])
    assert len(shown) >= 3
    assert all(1 <= len(c.lines) <= 2 for c in shown)
    assert all(len(line) <= LINE_WIDTH for c in shown for line in c.lines)
    # No word lost or reordered.
    assert " ".join(w for c in shown for line in c.lines for w in line.split()) == LONG.text
    # Split where the sentence ends.
    assert shown[0].lines[-1].endswith("lamp room.") and shown[1].lines[0].startswith("Outside")
    # Over the cue's time, each in proportion to its characters, 2 frames apart.
    assert shown[0].start == LONG.start and shown[-1].end == pytest.approx(LONG.end)
    for a, b in zip(shown, shown[1:], strict=False):
        assert b.start - a.end == pytest.approx(2 / 30)
    per_char = [(c.end - c.start + 2 / 30) / len(" ".join(c.lines)) for c in shown]
    assert max(per_char) / min(per_char) < 1.1


def test_a_split_prefers_a_clause_end_to_filling_the_lines():
    text = ("We rowed out past the reef at dawn, the nets heavy and the gulls loud, "
            "and nobody spoke until the island was behind us and the water turned deep.")
    shown = captions([Cue(0, 0, 0.0, 8.0, "NARRATOR", text)])
    # "loud," ends a clause in the second half of what fits; "and nobody" would still fit.
    assert shown[0].lines[-1].endswith("gulls loud,")
    assert len(" ".join(shown[0].lines + ("and",))) <= 2 * LINE_WIDTH
    assert shown[1].lines[0].startswith("and nobody spoke")


def test_independent_parsers_read_our_sidecars_with_the_cue_timings(tmp_path):
    cues = (*CUES, LONG)
    expected = captions(cues)
    srt = tmp_path / "s.srt"
    srt.write_text(format_srt(cues), encoding="utf-8")
    vtt = tmp_path / "s.vtt"
    vtt.write_text(format_vtt(cues), encoding="utf-8")
    parsed_srt = pysrt.open(str(srt), encoding="utf-8")
    parsed_vtt = webvtt.read(str(vtt))
    assert len(parsed_srt) == len(parsed_vtt) == len(expected)
    for want, s, v in zip(expected, parsed_srt, parsed_vtt, strict=True):
        assert s.start.ordinal == round(want.start * 1000)
        assert s.end.ordinal == round(want.end * 1000)
        assert abs(_vtt_seconds(v.start) - want.start) < 0.0006
        assert abs(_vtt_seconds(v.end) - want.end) < 0.0006
        assert s.text.splitlines() == v.text.splitlines() == list(want.lines)
    # In time order; the first line starts, and the long line ends, where the timeline put
    # them (the long line comes before the one an hour in).
    assert parsed_srt[0].start.ordinal == 400
    assert abs(_vtt_seconds(parsed_vtt[-2].end) - LONG.end) < 0.0006


def _vtt_seconds(stamp: str) -> float:
    h, m, s = stamp.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def test_ass_script_is_styled_in_frame_pixels():
    settings = RenderSettings(subtitle_size=54, subtitle_outline=4, subtitle_position="top",
                              subtitle_box=True, subtitle_font="DejaVu Serif")
    text = format_ass(CUES, settings, (1280, 720))
    assert "PlayResX: 1280\nPlayResY: 720" in text
    style = next(line for line in text.splitlines() if line.startswith("Style:")).split(",")
    # Name, Font, Size 54 px at 1080 lines -> 36 at 720, BorderStyle 3 (box), Alignment 8.
    assert style[1:3] == ["DejaVu Serif", "36"] and style[15] == "3" and style[18] == "8"
    events = [line for line in text.splitlines() if line.startswith("Dialogue:")]
    assert events[0].startswith("Dialogue: 0,0:00:00.40,0:00:02.22,Default,")
    assert events[1].endswith("Thirty years I have kept this light,\\Nand not one ship lost "
                              "to the sea.")


def test_a_burned_chunk_is_the_same_before_and_after_later_scenes_are_voiced():
    from vidgen_ray.pipeline.subtitles import burn_script, scene_cuts
    from vidgen_ray.storyboard import Line, Scene, Storyboard
    from vidgen_ray.timeline import Pacing, plan_timeline

    fast = "A line far too long to read in the short time it takes to say it."
    board = Storyboard(title="t", scenes=[Scene(lines=[Line(text=fast)]),
                                          Scene(lines=[Line(text="Later.")])])
    settings = RenderSettings(burn_subtitles=True)
    early = plan_timeline(board.model_copy(update={"scenes": board.scenes[:1]}), [[1.0]],
                          Pacing())
    full = plan_timeline(board, [[1.0], [1.0]], Pacing())
    fade = round(Pacing().crossfade * Pacing().fps)

    def chunk(timeline, a, b, next_fade=None):
        return burn_script(timeline.cues, timeline.fps, a, b, settings, (1280, 720),
                           scene_cuts(timeline, next_fade))

    # The first scene alone, knowing the dissolve after it, has the whole timeline's cut.
    assert scene_cuts(early, fade) == scene_cuts(full)
    # Frames the streaming of early chunks may encode: up to a dissolve before the end.
    safe_end = early.total_frames - fade
    assert chunk(early, 0, safe_end, fade) == chunk(full, 0, safe_end)
    # The fast line is kept up to the cut, and shown a little before it is heard.
    assert "Dialogue: 0,0:00:00.00," in chunk(full, 0, safe_end)
