"""Markdown → Storyboard: headings, speakers, cleanup, title rule, unicode, errors."""

from __future__ import annotations

import pytest

from vidgen_ray.analysis import analyze_script, detect_format
from vidgen_ray.errors import ScriptError
from vidgen_ray.storyboard import NARRATOR, Storyboard

LIGHTHOUSE = """\
# The Lighthouse

## The storm

Rain lashes the **old** lighthouse. Hank climbs the [stairs](https://example.com/stairs).
[SFX: thunder]

HANK: Who's there?
Mary (whispering): Only me.
I brought the lamp.

- the sea below
- the wind above

## INT. LAMP ROOM - NIGHT

HANK: Light it.
"""


def analyze(text: str, filename: str = "story.md") -> Storyboard:
    return analyze_script(text, filename)


def spoken(board: Storyboard) -> list[tuple[str, str]]:
    return [(line.speaker, line.text) for scene in board.scenes for line in scene.lines]


def test_headings_become_scenes_under_the_title():
    board = analyze(LIGHTHOUSE)
    assert board.title == "The Lighthouse"
    assert board.source_format == "markdown"
    assert [s.title for s in board.scenes] == ["The storm", "INT. LAMP ROOM - NIGHT"]


def test_speakers_narration_and_list_items():
    board = analyze(LIGHTHOUSE)
    assert spoken(board) == [
        (NARRATOR, "Rain lashes the old lighthouse. Hank climbs the stairs."),
        ("HANK", "Who's there?"),
        ("MARY", "Only me. I brought the lamp."),  # the next line continues the speech
        (NARRATOR, "the sea below"),
        (NARRATOR, "the wind above"),
        ("HANK", "Light it."),
    ]
    assert board.scenes[0].lines[2].parenthetical == "whispering"


def test_cast_is_upper_case_in_order_with_description():
    board = analyze(LIGHTHOUSE)
    assert [c.name for c in board.characters] == ["HANK", "MARY"]
    assert board.character("HANK").description == "Hank climbs the stairs."
    assert board.character("MARY").description == ""
    assert board.scenes[0].characters == ["HANK", "MARY"]


def test_description_mood_and_ambience():
    first, second = analyze(LIGHTHOUSE).scenes
    assert first.description == "Rain lashes the old lighthouse. Hank climbs the stairs."
    assert (first.mood, first.ambience) == ("epic", "rain")  # "storm" in the heading counts
    assert second.description == "interior, lamp room, night"
    assert second.ambience == "night"


def test_text_before_the_first_heading_is_a_scene():
    board = analyze("It begins at sea.\n\n## Harbor\n\nBoats.\n\n## Town\n\nStreets.\n")
    assert [s.title for s in board.scenes] == ["", "Harbor", "Town"]
    assert board.title == "story"  # no level-1 heading: the file name's stem


def test_text_under_the_title_heading_is_an_opening_scene():
    board = analyze("# The Bell\n\nA bell hangs in the tower.\n\n## Noon\n\nIt rings.\n")
    assert board.title == "The Bell"
    assert [s.title for s in board.scenes] == ["The Bell", "Noon"]


def test_a_lone_level_one_heading_is_title_and_scene():
    board = analyze("# The Bell\n\nIt rings.\n")
    assert board.title == "The Bell"
    assert [s.title for s in board.scenes] == ["The Bell"]


def test_several_level_one_headings_are_all_scenes():
    board = analyze("# Morning\n\nSun.\n\n# Evening\n\nMoon.\n", filename=None)
    assert [s.title for s in board.scenes] == ["Morning", "Evening"]
    assert board.title == "Untitled"


@pytest.mark.parametrize(("line", "speaker"), [
    ("HANK: Hi.", "HANK"),
    ("Hank: Hi.", "HANK"),
    ("Old Tom Bombadil: Hi.", "OLD TOM BOMBADIL"),
    ("Dr. Watson: Hi.", "DR. WATSON"),
    ("O'Neil: Hi.", "O'NEIL"),
    ("**HANK:** Hi.", "HANK"),
    ("NARRATOR: Hi.", NARRATOR),
    ("The Old Sea Captain: Hi.", NARRATOR),  # four words
    ("Then he said: Hi.", NARRATOR),  # lower-case words
    ("Note: Hi.", NARRATOR),
    ("Chapter One: Hi.", NARRATOR),
    ("Time: 10:30 sharp.", NARRATOR),
    ("Wait, Hank: Hi.", NARRATOR),  # sentence punctuation
    ("R2D2: Hi.", NARRATOR),  # digits
    ("HANK:Hi.", NARRATOR),  # no space after the colon
])
def test_speaker_rule(line, speaker):
    board = analyze(f"## Scene\n\n{line}\n")
    assert board.scenes[0].lines[0].speaker == speaker


def test_speaker_names_are_one_character_whatever_their_case():
    board = analyze("## Scene\n\nHank: One.\n\nHANK: Two.\n")
    assert [c.name for c in board.characters] == ["HANK"]


def test_markdown_markup_is_not_spoken():
    text = ("## Scene\n\n<!-- a comment -->\n> A *quiet* `harbor`, ~~loud~~ __still__ "
            "![boat](boat.png) [SFX: bell] [the pier](http://x.org) <https://y.org>.\n\n"
            "---\n\n* * *\n\n1. First item\n2. Second item\n")
    assert spoken(analyze(text)) == [
        (NARRATOR, "A quiet harbor, loud still the pier https://y.org."),
        (NARRATOR, "First item"),
        (NARRATOR, "Second item"),
    ]


def test_snake_case_words_keep_their_underscores():
    assert spoken(analyze("## Scene\n\nThe file_name_here stays.\n")) == [
        (NARRATOR, "The file_name_here stays."),
    ]


def test_language_comment():
    board = analyze("<!-- language: fr -->\n# Le Phare\n\nLa mer gronde.\n")
    assert board.language == "fr"
    assert spoken(board) == [(NARRATOR, "La mer gronde.")]


def test_bad_language_comment():
    with pytest.raises(ScriptError, match="language 'français' is not a language code: "):
        analyze("<!-- language: français -->\n# Le Phare\n\nLa mer.\n")


def test_arabic_script_with_arabic_speaker():
    text = ("<!-- language: ar -->\n# المنارة\n\n## الليل\n\nكانت العاصفة قوية في الليل.\n\n"
            "أحمد: مرحبا، من هناك؟\n")
    board = analyze(text)
    assert (board.title, board.language) == ("المنارة", "ar")
    assert [s.title for s in board.scenes] == ["الليل"]
    assert spoken(board) == [
        (NARRATOR, "كانت العاصفة قوية في الليل."),
        ("أحمد", "مرحبا، من هناك؟"),
    ]
    assert [c.name for c in board.characters] == ["أحمد"]


def test_hebrew_with_marks_passes_through_unchanged():
    line = "\u05e9\u05b8\u05c1\u05dc\u05d5\u05b9\u05dd \u200fעולם."  # niqqud and an RLM
    board = analyze(f"## פתיחה\n\n{line}\n")
    assert spoken(board) == [(NARRATOR, line)]
    assert board.scenes[0].title == "פתיחה"


def test_heading_with_no_text():
    with pytest.raises(ScriptError) as error:
        analyze("# Title\n\n## Harbor\n\nBoats.\n\n## Empty\n\n[SFX: bell]\n\n## Town\n\nHi.\n")
    assert str(error.value) == ("scene 2 ('Empty') has no text: add a line under it or delete "
                                "the heading")


def test_only_headings_is_nothing_to_speak():
    with pytest.raises(ScriptError, match="^the script has nothing to speak: "):
        analyze("# Title\n\n<!-- nothing here -->\n")


def test_same_text_same_storyboard():
    assert analyze(LIGHTHOUSE).model_dump() == analyze(LIGHTHOUSE).model_dump()


@pytest.mark.parametrize(("text", "filename", "expected"), [
    ("just words", "a.md", "markdown"),
    ("just words", "a.MARKDOWN", "markdown"),
    ("# Heading\n\ntext", None, "markdown"),
    ("# Heading\n\ntext", "a.txt", "markdown"),
    ("## INT. HOUSE\n\ntext", "a.txt", "markdown"),
])
def test_detect_markdown(text, filename, expected):
    assert detect_format(text, filename) == expected


def test_an_image_under_a_heading_is_the_scenes_own_picture_or_clip():
    board = analyze_script(
        "# Film\n\n## Quay\n\n![the quay at dawn](pictures/quay.JPG)\n\nThe boats came home.\n"
        "\n## Sea\n\nThe waves ![](<clips/my waves.mp4> \"title\") rolled in.\n"
        "\n## Night\n\nDark.\n", "film.md")
    assert [(s.media.path, s.media.kind) if s.media else None for s in board.scenes] == [
        ("pictures/quay.JPG", "image"), ("clips/my waves.mp4", "video"), None]
    assert [line.text for line in board.scenes[1].lines] == ["The waves rolled in."]


def test_two_images_in_a_scene_or_an_unknown_kind_are_refused():
    with pytest.raises(ScriptError, match="names two pictures or clips"):
        analyze_script("## Quay\n\n![](a.png)\n![](b.png)\n\nBoats.\n", "film.md")
    with pytest.raises(ScriptError, match="cannot tell a picture from a clip"):
        analyze_script("## Quay\n\n![](notes.txt)\n\nBoats.\n", "film.md")
