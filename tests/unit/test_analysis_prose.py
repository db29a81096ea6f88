"""Prose → Storyboard, plus what every format shares: input checks, keywords, determinism."""

from __future__ import annotations

import pytest

from vidgen_ray.analysis import analyze_script, detect_format
from vidgen_ray.analysis.drafts import chunk_for_speech, split_sentences
from vidgen_ray.analysis.keywords import ambience_of, mood_of, setting_of
from vidgen_ray.errors import ScriptError
from vidgen_ray.storyboard import NARRATOR

STORY = """\
The old keeper climbed the stairs as the storm rolled in from the sea.

"Who is there?" he called into the dark. Only the wind answered.

At dawn the sun came out, and the village laughed again.
"""


def test_paragraphs_become_scenes_of_narration():
    board = analyze_script(STORY, "keeper.txt")
    assert board.source_format == "prose"
    assert board.title == "keeper"
    assert board.characters == []
    assert [[(ln.speaker, ln.text) for ln in s.lines] for s in board.scenes] == [
        [(NARRATOR, "The old keeper climbed the stairs as the storm rolled in from the sea.")],
        [(NARRATOR, '"Who is there?" he called into the dark. Only the wind answered.')],
        [(NARRATOR, "At dawn the sun came out, and the village laughed again.")],
    ]


def test_moods_ambiences_and_descriptions():
    scenes = analyze_script(STORY).scenes
    assert [(s.mood, s.ambience) for s in scenes] == [
        ("epic", "rain"), ("mysterious", "wind"), ("joyful", "none"),
    ]
    assert scenes[1].description == (
        '"Who is there?" he called into the dark. Only the wind answered.')
    assert all(s.title == "" and s.transition is None for s in scenes)


def test_a_one_line_story_is_one_scene():
    board = analyze_script("Once.")
    assert (board.title, len(board.scenes)) == ("Untitled", 1)
    assert board.scenes[0].lines[0].text == "Once."


def test_lines_inside_a_paragraph_are_joined():
    board = analyze_script("The sea\nwas calm\n   that night.")
    assert [ln.text for ln in board.scenes[0].lines] == ["The sea was calm that night."]


def test_long_paragraph_is_cut_at_sentence_ends_under_300_characters():
    paragraph = " ".join(f"Sentence {n} tells of the long road north." for n in range(30))
    lines = analyze_script(paragraph).scenes[0].lines
    assert len(lines) > 1
    assert all(len(ln.text) <= 300 and ln.text.endswith("north.") for ln in lines)
    assert " ".join(ln.text for ln in lines) == paragraph


def test_a_sentence_longer_than_the_limit_is_cut_at_commas_then_spaces():
    clauses = ", ".join(["and the road went on"] * 30) + "."
    pieces = chunk_for_speech(clauses)
    assert all(len(p) <= 300 for p in pieces) and pieces[0].endswith(",")
    assert chunk_for_speech("x" * 650) == ["x" * 300, "x" * 300, "x" * 50]


def test_sentences_keep_abbreviations_and_quotes():
    assert split_sentences('Dr. Lee waved. "Go!" she said. ¿Qué? Fin') == [
        "Dr. Lee waved.", '"Go!" she said.', "¿Qué?", "Fin",
    ]
    assert split_sentences("Hello. ") == ["Hello."]


def test_description_is_trimmed_to_about_200_characters():
    sentence = "The " + "very " * 60 + "long night."
    description = analyze_script(sentence).scenes[0].description
    assert len(description) <= 201 and description.endswith("…")


def test_unicode_and_right_to_left_text_pass_through():
    text = "كان البحر هادئا في الليل.\n\nהים היה שקט.\n\n海はしずかだった。"
    board = analyze_script(text)
    assert [s.lines[0].text for s in board.scenes] == text.split("\n\n")


def test_language_comment_and_default():
    assert analyze_script("Bonjour.").language == "en"
    board = analyze_script("<!-- language: FR -->\nIl pleut sur la ville.")
    assert board.language == "fr"
    assert analyze_script("<!-- language: pt-BR -->\nChove.").language == "pt-BR"
    assert [ln.text for s in board.scenes for ln in s.lines] == ["Il pleut sur la ville."]


def test_byte_order_mark_and_windows_newlines():
    board = analyze_script("\ufeffOne.\r\n\r\nTwo.\rStill two.")
    assert [s.lines[0].text for s in board.scenes] == ["One.", "Two. Still two."]


def test_same_text_same_storyboard():
    assert analyze_script(STORY).model_dump() == analyze_script(STORY).model_dump()


# --- input checks ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t\n", "\ufeff"])
def test_empty_script(text):
    with pytest.raises(ScriptError) as error:
        analyze_script(text)
    assert str(error.value) == "the script is empty: write at least one line of text"


@pytest.mark.parametrize("text", ["PK\x03\x04\x00\x00binary", "\x1b\x01\x02\x03 some text"])
def test_binary_script(text):
    with pytest.raises(ScriptError, match="^the script looks like a binary file .*: give a"):
        analyze_script(text, "movie.txt")


def test_a_stray_control_character_is_not_binary():
    text = "A long enough story about the sea and its tides. " * 3 + "\x0b"
    assert analyze_script(text).scenes[0].lines[0].text.startswith("A long")


def test_html_comment_only_is_nothing_to_speak():
    with pytest.raises(ScriptError, match="^the script has nothing to speak: "):
        analyze_script("<!-- language: fr -->\n\n")


# --- format detection --------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "filename", "expected"), [
    ("Once upon a time.\n\nThe end.", None, "prose"),
    ("Once upon a time.", "tale.txt", "prose"),
    ("HANK: Hi.\n\nMARY: Hello.", None, "prose"),  # NAME: lines alone are not Markdown
    ("CHAPTER ONE\nIt was dark.\n\nCHAPTER TWO\nIt was light.", None, "prose"),
    ("# not fountain", "a.fountain", "fountain"),
    ("plain", "a.spmd", "fountain"),
    ("Title: The Bell\nAuthor: Me\n\nIt rings.", None, "fountain"),
    ("A night.\n\nEXT. HARBOR - NIGHT\n\nWaves.", "a.txt", "fountain"),
    ("A night.\n\n.THE DREAM\n\nWaves.", None, "fountain"),
    ("HANK\nHi.\n\nMARY (V.O.)\nHello.\n", None, "fountain"),
    ("HANK\nHi.\n", None, "prose"),  # one cue is not enough
])
def test_detect_format(text, filename, expected):
    assert detect_format(text, filename) == expected


# --- keyword tables ----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "mood"), [
    ("She was afraid of the footsteps.", "tense"),
    ("Shadows crept over the dark hall.", "mysterious"),
    ("They laughed and celebrated in the sun.", "joyful"),
    ("He cried; the grief was too much.", "sad"),
    ("The armies rise to battle.", "epic"),
    ("A quiet, gentle evening.", "calm"),
    ("He read the paper.", "neutral"),
    ("Fear and joy.", "tense"),  # a tie: the earlier table entry wins
])
def test_mood_of(text, mood):
    assert mood_of(text) == mood


@pytest.mark.parametrize(("text", "interior", "ambience"), [
    ("A light drizzle.", False, "rain"),
    ("Waves hit the shore.", False, "ocean"),
    ("Deep in the woods.", False, "forest"),
    ("Traffic fills the street.", False, "city"),
    ("Stars at midnight.", False, "night"),
    ("The campfire burns.", False, "fire"),
    ("The market crowd cheers.", False, "crowd"),
    ("A gale blows.", False, "wind"),
    ("A desk and a chair.", True, "room"),
    ("A desk and a chair.", False, "none"),
    ("Rain at night, and more rain.", False, "rain"),  # the highest count wins
    ("Fire at night.", False, "night"),  # a tie: table order
])
def test_ambience_of(text, interior, ambience):
    assert ambience_of(text, interior) == ambience


@pytest.mark.parametrize(("heading", "forced", "setting"), [
    ("INT. LIGHTHOUSE - NIGHT", False, ("interior, lighthouse, night", True)),
    ("EXT. HARBOR -- DAWN", False, ("exterior, harbor, dawn", False)),
    ("INT./EXT. CAR - MOVING", False, ("interior and exterior, car, moving", False)),
    ("i/e boat", False, ("interior and exterior, boat", False)),
    ("THE DREAM - 1990", True, ("the dream, 1990", False)),
    ("The Harbor", False, ("", False)),
])
def test_setting_of(heading, forced, setting):
    assert setting_of(heading, forced) == setting
