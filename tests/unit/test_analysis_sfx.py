"""Sound cues in scripts: [SFX: ...] in Markdown and prose, [[SFX: ...]] notes in Fountain."""

import pytest

from vidgen_ray.analysis import analyze_script
from vidgen_ray.errors import ScriptError


def cues(text: str, filename: str) -> list[list[tuple[str, int]]]:
    board = analyze_script(text, filename)
    return [[(cue.name, cue.line) for cue in scene.sfx] for scene in board.scenes]


def test_markdown_cue_on_its_own_line_sits_between_the_lines_around_it():
    text = "## Storm\n\nRain falls.\n[SFX: thunder]\n\nHANK: Who's there?\n\n[SFX: Door]\n"
    assert cues(text, "s.md") == [[("thunder", 1), ("door", 2)]]


def test_markdown_cue_inside_a_line_sounds_before_its_paragraph_and_is_not_spoken():
    board = analyze_script("## A\n\nHi.\n\nHANK: Who [SFX: knock, bell] is it?\n", "s.md")
    assert [(c.name, c.line) for c in board.scenes[0].sfx] == [("knock", 1), ("bell", 1)]
    assert [line.text for line in board.scenes[0].lines] == ["Hi.", "Who is it?"]


def test_markdown_cue_before_the_first_heading_goes_to_the_first_scene():
    assert cues("[SOUND: bell]\n\n## A\n\nHi.\n", "s.md") == [[("bell", 0)]]


def test_prose_cues():
    text = "It rained.\n[sfx: thunder]\nThen quiet.\n\n[FX: phone]\n\nRing."
    assert cues(text, "s.txt") == [[("thunder", 1)], [("phone", 0)]]


def test_fountain_sfx_notes_are_cues_and_other_notes_are_not():
    text = ("INT. LIGHTHOUSE - NIGHT\n\nRain lashes the glass.\n[[SFX: thunder]]\n\n"
            "HANK\nWho is there? [[SFX: knock]]\n\n[[SFX: door]]\n\nMARY\nOnly me.\n\n"
            "EXT. CLIFF - DAY\n\nGulls circle. [[a note, not a cue]]\n[[SFX: bell]]\n")
    board = analyze_script(text, "s.fountain")
    assert [[(c.name, c.line) for c in s.sfx] for s in board.scenes] == [
        [("thunder", 1), ("knock", 1), ("door", 2)], [("bell", 1)]]
    assert [line.text for line in board.scenes[1].lines] == ["Gulls circle."]


@pytest.mark.parametrize("heading", ["EXT. SEA - NIGHT", ".THE SEA"])
def test_a_fountain_cue_right_under_a_heading_belongs_to_that_scene(heading):
    text = f"INT. ROOM - DAY\n\nShe waits.\n\n{heading}\n[[SFX: thunder]]\nWaves crash.\n"
    assert cues(text, "s.fountain") == [[], [("thunder", 0)]]


@pytest.mark.parametrize(("text", "filename"), [("## A\n\nHi.\n[SFX: gulls]\n", "s.md"),
                                                ("Hi.\n[SFX: gulls]\n", "s.txt"),
                                                ("INT. A - DAY\n\nHi.\n\n[[SFX: gulls]]\n",
                                                 "s.fountain")])
def test_an_unknown_effect_names_the_known_ones(text, filename):
    with pytest.raises(ScriptError, match="sound effect 'gulls' is unknown: use one of thunder, "
                                          "door, footsteps, knock, phone, explosion, bell"):
        analyze_script(text, filename)
