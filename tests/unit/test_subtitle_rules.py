"""The timed-text rules: the checker on hand-made cues, and the planner on a corpus of
awkward lines (long words, numbers, very fast and very slow lines, dialogue, scene cuts)."""

import pytest

from vidgen_ray.config import load_settings
from vidgen_ray.errors import SettingsError
from vidgen_ray.pipeline.subtitle_rules import (
    CHILDREN_CPS,
    MIN_SECONDS,
    SubtitleIssue,
    break_lines,
    check_cues,
    split_text,
)
from vidgen_ray.pipeline.subtitles import captions, plan
from vidgen_ray.timeline import Cue

FPS = 30


def rules_broken(cues, **options):
    return {(i.index, i.rule) for i in check_cues(cues, fps=FPS, **options)}


# The checker ------------------------------------------------------------------------------

def test_clean_cues_break_no_rule():
    cues = [(1.0, 3.0, "Rain lashed the old lighthouse."),
            (3.1, 7.0, "Thirty years I have kept this light,\nand not one ship lost.")]
    assert check_cues(cues, fps=FPS) == []


def test_each_rule_is_named_on_the_cue_that_breaks_it():
    cues = [(0.0, 0.3, "Hi."),                                              # 0: too short
            (0.31, 4.0, "The cat sat on the\nmat and looked out to sea."),  # 1: after "the"
            (4.5, 13.0, "Slow."),                                          # 2: 8.5 s
            (13.5, 14.5, "Forty-three characters is one too many here!"),  # 3: long line, fast
            (14.49, 16.0, "one\ntwo\nthree"),                               # 4: three lines
            (17.0, 18.0, "")]                                               # 5: empty
    found = rules_broken(cues, scene_cuts=[10.0])
    assert found == {(0, "min_duration"), (0, "gap"), (1, "line_break"),
                     (2, "max_duration"), (2, "scene_cut"),
                     (3, "line_length"), (3, "reading_speed"), (3, "overlap"),
                     (4, "line_count"), (5, "empty")}
    issue = next(i for i in check_cues(cues, fps=FPS) if i.rule == "min_duration")
    assert issue == SubtitleIssue(0, "min_duration", "on screen 0.300 s; at least 0.833 s")


def test_two_frames_between_cues_is_enough_and_one_is_not():
    two = [(0.0, 1.0, "One line."), (1.0 + 2 / FPS, 2.0, "Another.")]
    one = [(0.0, 1.0, "One line."), (1.0 + 1 / FPS, 2.0, "Another.")]
    assert rules_broken(two) == set() and rules_broken(one) == {(0, "gap")}


def test_reading_speed_is_a_setting_13_for_children():
    cue = [(0.0, 2.0, "Thirty characters, near enough")]  # 31 characters: 15.5 a second
    assert rules_broken(cue) == set()
    assert rules_broken(cue, max_cps=CHILDREN_CPS) == {(0, "reading_speed")}


def test_the_checker_takes_cue_and_caption_objects():
    cue = Cue(0, 0, 0.0, 0.5, "MARA", "No.")
    assert rules_broken([cue]) == {(0, "min_duration")}
    assert rules_broken(captions([cue])) == set()


# Line breaking ----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "lines"), [
    ("Rain lashed the old lighthouse.", ["Rain lashed the old lighthouse."]),
    # Never between an article or a preposition and its noun, even if more balanced.
    ("The old man walked slowly down to the harbour at the end of a long day",
     ["The old man walked slowly down", "to the harbour at the end of a long day"]),
    # Before a conjunction, not after it.
    ("Thirty years I have kept this light and not one ship lost to the sea",
     ["Thirty years I have kept this light", "and not one ship lost to the sea"]),
    # At a clause end when there is one.
    ("When the bell rang, every keeper on the coast looked up",
     ["When the bell rang,", "every keeper on the coast looked up"]),
    # A number stays with its unit.
    ("The lamp burned for 112 hours without a stop through the storm",
     ["The lamp burned for 112 hours", "without a stop through the storm"]),
])
def test_lines_break_at_natural_points(text, lines):
    assert break_lines(text) == lines
    assert all(len(line) <= 42 for line in lines)


def test_too_much_for_two_lines_does_not_break():
    assert break_lines("word " * 30) is None


def test_a_word_longer_than_a_line_is_cut_never_dropped():
    word = "Pneumonoultramicroscopicsilicovolcanoconiosis-and-more"  # 54 characters
    pieces = split_text(f"He said {word} twice.", 6.0)
    shown = [line for piece in pieces for line in break_lines(piece)]
    assert all(len(line) <= 42 for line in shown)
    assert "".join(shown).replace(" ", "") == f"Hesaid{word}twice."


def test_numbers_are_never_split():
    text = "The fleet lost $1,250,000 in 1987, and 3.5 million more by 1,990 storms at sea."
    words = [w for piece in split_text(text, 6.0) for w in piece.split()]
    assert words == text.split()


# Planning cues from spoken lines ----------------------------------------------------------

def test_no_orphan_fragments():
    # Split greedily this left "cold wind." alone on screen for 0.58 s.
    text = ("The fisherman walked home along the harbour wall, soaked and shivering in the "
            "cold wind.")
    shown = captions([Cue(0, 0, 1.0, 7.0, "NARRATOR", text)])
    assert all(c.end - c.start >= MIN_SECONDS for c in shown)
    assert all(" ".join(c.lines) != "cold wind." for c in shown)
    assert check_cues(shown, fps=FPS) == []


def test_short_lines_of_one_speaker_merge_and_short_cues_stay_up_longer():
    cues = [Cue(0, 0, 1.0, 1.5, "NARRATOR", "Rain fell."),
            Cue(0, 1, 1.85, 2.4, "NARRATOR", "Cold wind."),
            Cue(0, 2, 6.0, 6.4, "NARRATOR", "Dawn.")]
    shown = captions(cues)
    assert [c.lines for c in shown] == [("Rain fell. Cold wind.",), ("Dawn.",)]
    assert shown[0].start == 1.0 and shown[1].start == 6.0
    assert shown[1].end == pytest.approx(6.0 + MIN_SECONDS)
    assert check_cues(shown, fps=FPS) == []


DIALOGUE = [Cue(0, 0, 1.0, 1.4, "MARA", "No."),
            Cue(0, 1, 1.75, 2.6, "TOM", "Why not?"),
            Cue(0, 2, 2.95, 5.0, "MARA", "Because the light must never go out.")]


def test_a_dialogue_pair_becomes_one_dash_cue():
    shown = captions(DIALOGUE)
    assert shown[0].lines == ("- No.", "- Why not?")
    assert shown[1].lines == ("Because the light must never go out.",)
    assert check_cues(shown, fps=FPS) == []


def test_speaker_labels_name_each_turn_sdh_style():
    shown = plan(DIALOGUE, speakers=True)
    assert shown[0].lines == ("- MARA: No.", "- TOM: Why not?")
    assert shown[1].lines == ("MARA: Because the light must never go out.",)
    # A speaker's later cues within one turn are not named again.
    turn = [Cue(0, 0, 0.0, 9.0, "HANS", "We rowed out past the reef at dawn, the nets heavy "
                "and the gulls loud, and nobody spoke until the island was behind us.")]
    lines = [c.lines for c in plan(turn, speakers=True)]
    assert lines[0][0].startswith("HANS: ") and not lines[1][0].startswith("HANS")
    assert check_cues(plan(turn, speakers=True), fps=FPS) == []
    # The name takes room: a long first cue is split so that it still fits two lines.
    long = Cue(0, 0, 0.0, 7.5, "CAPTAIN HOLLOWAY", "Thirty years I have kept this light, "
               "and not one ship lost to the sea or the rocks.")
    shown = plan([long], speakers=True)
    assert shown[0].lines[0].startswith("CAPTAIN HOLLOWAY:")
    assert check_cues(shown, fps=FPS) == []
    # Narration is not dialogue: never named.
    narration = Cue(0, 0, 0.0, 3.0, "NARRATOR", "The sea was calm.")
    assert plan([narration], speakers=True)[0].lines == ("The sea was calm.",)


def test_a_very_slow_line_is_split_or_cut_to_seven_seconds():
    slow = Cue(0, 0, 0.0, 20.0, "NARRATOR", "And so the keeper waited, night after night, "
               "for a ship that never came, and the sea kept its silence.")
    shown = captions([slow])
    assert len(shown) >= 3 and all(c.end - c.start <= 7.0 for c in shown)
    one_word = captions([Cue(0, 0, 0.0, 9.0, "NARRATOR", "Yes.")])
    assert one_word[0].end == 7.0
    assert check_cues(shown, fps=FPS) == check_cues(one_word, fps=FPS) == []


def test_a_very_fast_line_is_kept_up_longer_and_what_cannot_be_met_is_reported():
    fast = Cue(0, 0, 1.0, 2.0, "NARRATOR", "The keeper ran up every stair to the lamp room.")
    alone = captions([fast])
    # Read at 17 characters a second: the 46 shown on two lines (the break is no character).
    assert len(alone[0].lines) == 2
    assert alone[0].end - alone[0].start == pytest.approx((len(fast.text) - 1) / 17)
    # With the next line and a scene cut close behind, it cannot be: the checker says so.
    crowded = [fast, Cue(1, 0, 2.3, 4.0, "NARRATOR", "Then down.")]
    shown = captions(crowded, scene_cuts=[2.2])
    assert (shown[0].start, shown[0].end) == (0.5, 2.2)  # half a second early, up to the cut
    assert rules_broken(shown, scene_cuts=[2.2]) == {(0, "reading_speed")}


def test_no_cue_crosses_a_scene_cut_and_scenes_never_merge():
    cues = [Cue(0, 0, 1.0, 1.4, "NARRATOR", "Night."),
            Cue(1, 0, 1.9, 2.3, "NARRATOR", "Day.")]
    shown = captions(cues, scene_cuts=[1.6])
    assert [c.lines for c in shown] == [("Night.",), ("Day.",)]
    # "Night." stays up to the cut, shown a little before it is heard to last 5/6 s.
    assert shown[0].end == 1.6 and shown[0].start == pytest.approx(1.6 - MIN_SECONDS)
    assert shown[1].start == 1.9
    assert rules_broken(shown, scene_cuts=[1.6]) == set()
    # Without room before it either, it is reported.
    tight = [Cue(0, 0, 0.0, 0.3, "NARRATOR", "Night."), cues[1]]
    assert rules_broken(captions(tight, scene_cuts=[0.5]), scene_cuts=[0.5]) == {
        (0, "min_duration")}


def test_reading_speed_setting_takes_a_number_or_an_audience():
    assert load_settings(subtitle_max_cps="children").subtitle_max_cps == CHILDREN_CPS
    assert load_settings(subtitle_max_cps="15").subtitle_max_cps == 15.0
    with pytest.raises(SettingsError, match="use one of adult, default, children"):
        load_settings(subtitle_max_cps="toddler")


def test_chained_cues_count_the_two_frames_the_gap_takes():
    # From the demo: each half of this line reads at just under 17 characters a second
    # back to back; the 2 frames between them push the first over unless it starts earlier.
    text = ("A knock at the door, at midnight. A young man stood on the step, soaked and "
            "shivering.")
    cues = [Cue(0, 0, 8.41, 12.83, "NARRATOR", "The lamp flickered. Somewhere in the dark, "
                "a bell rang out across the waves."),
            Cue(1, 0, 13.8, 18.7727, "NARRATOR", text)]
    shown = captions(cues, scene_cuts=[13.15])
    assert [c.lines[0] for c in shown][1:] == ["A knock at the door, at midnight.",
                                               "A young man stood on the step,"]
    assert 13.15 <= shown[1].start < 13.8
    assert check_cues(shown, fps=FPS, scene_cuts=[13.15]) == []
