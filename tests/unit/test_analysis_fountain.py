"""Fountain → Storyboard: every element, and every gap of screenplain we work around."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from screenplain.parsers import fountain as screenplain

from vidgen_ray.analysis import analyze_script, detect_format
from vidgen_ray.errors import ScriptError
from vidgen_ray.storyboard import NARRATOR, Storyboard

EVERY_ELEMENT = Path(__file__).parents[1] / "data" / "every_element.fountain"


def analyze(text: str) -> Storyboard:
    return analyze_script(text, "script.fountain")


def spoken(board: Storyboard) -> list[tuple[str, str]]:
    return [(line.speaker, line.text) for scene in board.scenes for line in scene.lines]


def raw(text: str) -> tuple[list[str], dict]:
    """What screenplain alone makes of the text: element kinds and the title page."""
    screenplay = screenplain.parse(io.StringIO(text))
    return [type(p).__name__ for p in screenplay.paragraphs], screenplay.title_page


@pytest.fixture(scope="module")
def board() -> Storyboard:
    return analyze_script(EVERY_ELEMENT.read_text(encoding="utf-8"), str(EVERY_ELEMENT))


# --- the every-element sample ----------------------------------------------------------------


def test_title_page_gives_title_language_and_metadata(board):
    assert board.title == "The Last Lighthouse"  # **emphasis** stripped
    assert board.language == "en"
    assert board.source_format == "fountain"
    assert board.metadata == {
        "Title": "The Last Lighthouse", "Credit": "Written by", "Author": "Ada Keeper",
        "Draft date": "1 May 2026", "Language": "en", "Contact": "Harbor Road 1\nPort Ellen",
    }


def test_scene_headings_start_scenes(board):
    # INT./EXT. headings, the #1# scene number dropped, forced .FLASHBACK without its period.
    assert [s.title for s in board.scenes] == [
        "INT. LIGHTHOUSE - NIGHT", "EXT. HARBOR - NIGHT", "FLASHBACK - THE FIRST STORM",
        "EXT. CLIFF - DAWN",
    ]


def test_every_line_in_order(board):
    lines = [[(ln.speaker, ln.text, ln.extension, ln.parenthetical) for ln in s.lines]
             for s in board.scenes]
    assert lines == [
        [
            (NARRATOR, "MARY (40s, weathered) climbs the spiral stairs. Rain lashes the glass.",
             None, None),
            (NARRATOR, "SHE STOPS. Listens.", None, None),  # forced action, "!" dropped
            ("MARY", "Who's there?", None, "whispering"),
            ("MARY", "Show yourself.", None, "beat"),
            ("TOM", "Only me. The harbor is flooding.", "O.S.", None),
            ("MARY", "Then we ring the bell.", None, None),  # CONT'D dropped, note dropped
            (NARRATOR, "THE BELL TOLLS", None, None),  # centered text
            (NARRATOR, "Ring the bell, ring it loud", None, None),  # lyrics
        ],
        [
            (NARRATOR, "Waves crash over the pier. The crowd gathers on the shore.", None, None),
            ("TOM", "Hold the rope!", None, None),  # dual dialogue: left, then right
            ("MARY", "Pull!", None, None),
            ("MCCLANE", "Yippee.", None, None),  # forced @McCLANE
        ],
        [("GRANDFATHER", "I kept this light for forty years.", "V.O.", None)],
        [(NARRATOR, "The sun rises. Mary laughs for the first time in days.", None, None)],
    ]


def test_nothing_structural_is_spoken(board):
    text = " ".join(line.text for scene in board.scenes for line in scene.lines)
    for unspoken in ("FADE", "ACT ONE", "keeper and the storm", "lamp alive", "haul the boat",
                     "prop lamp", "louder", "runs", "Forget it", "CUT TO", "DISSOLVE", "===",
                     "[[", "/*", "#"):
        assert unspoken not in text


def test_transitions(board):
    # CUT TO: → cut; SMASH CUT TO: → cut; > DISSOLVE TO: → dissolve; FADE OUT. → fade_black.
    assert [s.transition for s in board.scenes] == ["cut", "cut", "dissolve", "fade_black"]


@pytest.mark.parametrize(("words", "transition"), [
    ("FADE OUT.", "fade_black"), ("FADE TO BLACK.", "fade_black"), ("FADE TO:", "fade_black"),
    ("FADE TO WHITE.", "dissolve"), ("DISSOLVE TO:", "dissolve"), ("MATCH CUT TO:", "cut"),
    ("> WIPE TO:", "dissolve")])
def test_each_transition_maps_to_the_nearest_one_we_draw(words, transition):
    board = analyze(f"INT. ROOM - DAY\n\nShe waits.\n\n{words}\n\nEXT. SEA - DAY\n\nWaves.\n")
    assert [s.transition for s in board.scenes][0] == transition


def test_cast_in_order_of_first_line_with_description(board):
    assert [c.name for c in board.characters] == ["MARY", "TOM", "MCCLANE", "GRANDFATHER"]
    assert board.character("MARY").description == "MARY (40s, weathered) climbs the spiral stairs."
    assert board.character("TOM").description == ""
    assert all(c.seed is not None for c in board.characters)


def test_descriptions_from_heading_and_synopsis_or_action(board):
    assert [s.description for s in board.scenes] == [
        "interior, lighthouse, night. Mary keeps the lamp alive through the storm.",
        "exterior, harbor, night. Tom and Mary haul the boat in.",
        "flashback, the first storm",
        "exterior, cliff, dawn. The sun rises. Mary laughs for the first time in days.",
    ]


def test_scene_characters_leave_out_voices_off_screen(board):
    # TOM speaks O.S. in scene 1, GRANDFATHER only V.O. in scene 3: neither is in view.
    assert [s.characters for s in board.scenes] == [
        ["MARY"], ["TOM", "MARY", "MCCLANE"], [], ["MARY"],
    ]


def test_moods_and_ambiences(board):
    assert [s.mood for s in board.scenes] == ["epic", "neutral", "epic", "joyful"]
    assert [s.ambience for s in board.scenes] == ["rain", "ocean", "rain", "none"]


def test_same_text_same_storyboard():
    text = EVERY_ELEMENT.read_text(encoding="utf-8")
    assert analyze(text).model_dump() == analyze(text).model_dump()


def test_sniffed_as_fountain_without_extension():
    text = EVERY_ELEMENT.read_text(encoding="utf-8")
    assert detect_format(text, "notes.txt") == "fountain"
    assert analyze_script(text, "notes.txt").title == "The Last Lighthouse"


# --- elements, one at a time -------------------------------------------------------------------


def test_extensions_are_normalised_and_contd_dropped():
    board = analyze("INT. ROOM - DAY\n\nMARY (v.o.) (CONT'D)\nHello.\n\nMARY (CONT’D)\nAgain.\n")
    assert [(ln.speaker, ln.extension) for ln in board.scenes[0].lines] == [
        ("MARY", "V.O."), ("MARY", None),
    ]


def test_parenthetical_over_two_lines_goes_with_the_next_speech():
    board = analyze("INT. ROOM - DAY\n\nMARY\n(beat,\nsmiling)\nHello.\nStill here.\n")
    [line] = board.scenes[0].lines
    assert (line.parenthetical, line.text) == ("beat, smiling", "Hello. Still here.")


def test_emphasis_is_stripped_from_spoken_text():
    board = analyze("EXT. SEA - DAY\n\nThe *tide* turns **fast** and _low_.\n")
    assert spoken(board) == [(NARRATOR, "The tide turns fast and low.")]


def test_narrator_cue_is_narration_not_a_character():
    board = analyze("INT. ROOM - DAY\n\nNARRATOR\nLong ago.\n")
    assert spoken(board) == [(NARRATOR, "Long ago.")]
    assert board.characters == []


def test_action_before_the_first_heading_is_its_own_scene():
    board = analyze("The sea, at dawn.\n\nEXT. BEACH - DAY\n\nGulls.\n")
    assert [s.title for s in board.scenes] == ["", "EXT. BEACH - DAY"]


def test_scene_with_dialogue_only_is_described_by_its_heading():
    board = analyze("INT. KITCHEN - DAY\n\nBOB\nCoffee?\n")
    assert board.scenes[0].description == "interior, kitchen, day"
    assert board.scenes[0].ambience == "room"  # indoors, no other sound named


def test_long_action_is_cut_at_sentence_ends():
    action = " ".join(f"Wave {n} rolls in over the black rocks below." for n in range(20))
    board = analyze(f"EXT. SEA - NIGHT\n\n{action}\n")
    lines = board.scenes[0].lines
    assert len(lines) > 1 and all(len(ln.text) <= 300 for ln in lines)
    assert all(ln.text.endswith(".") for ln in lines)
    assert " ".join(ln.text for ln in lines) == action


def test_title_from_filename_without_title_page():
    board = analyze_script("INT. ROOM - DAY\n\nA chair.\n", "stories/the_chair.fountain")
    assert board.title == "the_chair"


def test_language_key_on_the_title_page():
    board = analyze("Title: Le Phare\nLanguage: fr\n\nINT. PHARE - NUIT\n\nLa mer gronde.\n")
    assert (board.title, board.language) == ("Le Phare", "fr")


def test_arabic_forced_cue_passes_through():
    board = analyze("INT. بيت - ليل\n\n@أحمد\nمرحبا يا صديقي.\n")
    assert spoken(board) == [("أحمد", "مرحبا يا صديقي.")]
    assert board.scenes[0].title == "INT. بيت - ليل"


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "INT. HOUSE - DAY\n\nEXT. GARDEN - NIGHT\n",
    "[[Only a note.]]\n\n[[And another.]]\n",
    "Title: Nothing Here\nAuthor: Nobody\n",
    "# Act One\n\n= A synopsis.\n\n/* cut */\n",
])
def test_nothing_to_speak(text):
    with pytest.raises(ScriptError, match="^the script has nothing to speak: "):
        analyze(text)


def test_heading_without_text_names_the_scene():
    with pytest.raises(ScriptError) as error:
        analyze("INT. HOUSE - DAY\n\nA door.\n\nEXT. GARDEN - NIGHT\n\nINT. SHED - DAY\n\nDust.\n")
    assert str(error.value) == ("scene 2 ('EXT. GARDEN - NIGHT') has no text: add a line under "
                                "it or delete the heading")


def test_bad_language_key():
    with pytest.raises(ScriptError, match="language 'French' is not a language code"):
        analyze("Title: X\nLanguage: French\n\nINT. ROOM - DAY\n\nA chair.\n")


# --- screenplain's gaps: each test shows the gap, then our handling -----------------------------


def test_gap_boneyard_above_the_title_page():
    text = "/* draft 3 */\n\nTitle: The Bell\n\nINT. TOWER - DAY\n\nIt rings.\n"
    kinds, title_page = raw(text)
    assert title_page == {} and kinds[0] == "Action"  # the title page became spoken action
    board = analyze(text)
    assert board.title == "The Bell"
    assert spoken(board) == [(NARRATOR, "It rings.")]


def test_gap_blank_lines_above_the_title_page():
    text = "\n\nTitle: The Bell\n\nINT. TOWER - DAY\n\nIt rings.\n"
    assert raw(text)[1] == {}
    assert analyze(text).title == "The Bell"


def test_gap_any_colon_on_line_one_is_read_as_a_title_page():
    text = "Dawn: the sea is calm.\n\nEXT. SEA - DAY\n\nWaves.\n"
    assert raw(text)[1] == {"Dawn": ["the sea is calm."]}  # the first line vanished
    board = analyze(text)
    assert spoken(board)[0] == (NARRATOR, "Dawn: the sea is calm.")
    assert board.metadata == {}


def test_gap_note_across_a_blank_line():
    text = "INT. ROOM - DAY\n\nShe waits. [[fix this\n\nlater]] Then leaves.\n"
    screenplay = screenplain.parse(io.StringIO(text))
    assert "[[fix this" in str(screenplay.paragraphs[1].lines[0])
    assert spoken(analyze(text)) == [(NARRATOR, "She waits. Then leaves.")]


def test_gap_synopsis_after_action():
    text = "INT. ROOM - DAY\n\nShe waits.\n\n= She loses hope.\n"
    assert raw(text)[0] == ["Slug", "Action", "Action"]  # the synopsis would be spoken
    board = analyze(text)
    assert spoken(board) == [(NARRATOR, "She waits.")]
    assert board.scenes[0].description == "interior, room, day. She loses hope."


def test_gap_fade_in_and_fade_out_without_greater_than():
    text = "FADE IN:\n\nINT. ROOM - DAY\n\nShe waits.\n\nFADE OUT.\n"
    assert raw(text)[0] == ["Action", "Slug", "Action", "Action"]
    board = analyze(text)
    assert spoken(board) == [(NARRATOR, "She waits.")]
    assert len(board.scenes) == 1


def test_gap_dual_caret_with_no_dialogue_before_it():
    text = "INT. ROOM - DAY\n\nShe waits.\n\nBRICK ^\nNow!\n"
    screenplay = screenplain.parse(io.StringIO(text))
    assert str(screenplay.paragraphs[-1].character) == "BRICK ^"
    board = analyze(text)
    assert spoken(board)[-1] == ("BRICK", "Now!")
    assert [c.name for c in board.characters] == ["BRICK"]


def test_gap_indented_scene_heading():
    text = "INT. ROOM - DAY\n\nShe waits.\n\n    EXT. STREET - NIGHT\n\nCars pass.\n"
    assert raw(text)[0] == ["Slug", "Action", "Action", "Action"]
    board = analyze(text)
    assert [s.title for s in board.scenes] == ["INT. ROOM - DAY", "EXT. STREET - NIGHT"]


def test_gap_heading_with_no_blank_line_under_it():
    text = "INT. ROOM - DAY\nShe waits.\n\n.DREAM #4#\n= A dream of the sea.\nWaves.\n"
    screenplay = screenplain.parse(io.StringIO(text))
    assert str(screenplay.paragraphs[0].character) == "INT. ROOM - DAY"  # a "character"
    board = analyze(text)
    assert board.characters == []
    assert [(s.title, s.description) for s in board.scenes] == [
        ("INT. ROOM - DAY", "interior, room, day. She waits."),
        ("DREAM", "dream. A dream of the sea."),
    ]
    assert spoken(board) == [(NARRATOR, "She waits."), (NARRATOR, "Waves.")]


def test_gap_lyrics_keep_their_tilde():
    text = "INT. ROOM - DAY\n\n~Row, row, row your boat\n"
    assert str(screenplain.parse(io.StringIO(text)).paragraphs[1].lines[0]).startswith("~")
    assert spoken(analyze(text)) == [(NARRATOR, "Row, row, row your boat")]


# --- the Fountain syntax page's own character examples (fountain.io/syntax) -----------------

SYNTAX_PAGE_CHARACTERS = """INT. BRICK'S PATIO - DAY

STEEL
The man's a myth!

MOM (O. S.)
Luke! Come down for supper!

HANS (on the radio)
What was it you said?

@McCLANE
Yippie ki-yay! I got my lower-case C back!

R2D2
Beep.

STEEL
(starting the engine)
So much for retirement!

BRICK
Screw retirement.

STEEL ^
Screw retirement.
"""


def test_the_syntax_page_character_examples_are_all_dialogue():
    board = analyze(SYNTAX_PAGE_CHARACTERS)
    lines = [(ln.speaker, ln.extension, ln.parenthetical, ln.text)
             for ln in board.scenes[0].lines]
    assert lines == [
        ("STEEL", None, None, "The man's a myth!"),
        ("MOM", "O.S.", None, "Luke! Come down for supper!"),
        ("HANS", "ON THE RADIO", None, "What was it you said?"),
        ("MCCLANE", None, None, "Yippie ki-yay! I got my lower-case C back!"),
        ("R2D2", None, None, "Beep."),
        ("STEEL", None, "starting the engine", "So much for retirement!"),
        ("BRICK", None, None, "Screw retirement."),
        ("STEEL", None, None, "Screw retirement."),
    ]
    # MOM is off screen however the extension is spaced; HANS, on the radio, is in view.
    assert "MOM" not in board.scenes[0].characters and "HANS" in board.scenes[0].characters


def test_a_name_needs_a_letter():
    # The syntax page: "R2D2" works, but "23" does not.
    board = analyze("INT. ROOM - DAY\n\n23\nSkidoo.\n")
    assert spoken(board) == [(NARRATOR, "23 Skidoo.")]


@pytest.mark.parametrize(("cue", "speaker", "extension"), [
    ("MOM (O. S.)", "MOM", "O.S."),
    ("MOM (o. s.)", "MOM", "O.S."),
    ("DAD (V . O)", "DAD", "V.O."),
    ("HANS (on the radio...)", "HANS", "ON THE RADIO..."),
    ("DISPATCH (over the radio: unit 7)", "DISPATCH", "OVER THE RADIO: UNIT 7"),
    ("MARA (whispering) (V.O.)", "MARA", "WHISPERING, V.O."),
    ("@JOLENE (cont'd)", "JOLENE", None),
    ("BRICK & STEEL", "BRICK & STEEL", None),
    ("VARIOUS", "VARIOUS", None),
    ("CROWD (various)", "CROWD", "VARIOUS"),
    ("MR. & MRS. SMITH (in unison)", "MR. & MRS. SMITH", "IN UNISON"),
])
def test_any_extension_and_group_cues_are_speakers(cue, speaker, extension):
    board = analyze(f"INT. ROOM - DAY\n\n{cue}\nHello there.\n")
    [line] = board.scenes[0].lines
    assert (line.speaker, line.extension, line.text) == (speaker, extension, "Hello there.")
    assert speaker in [c.name for c in board.characters]


def test_sniffed_as_fountain_from_forced_and_lowercase_extension_cues():
    assert detect_format("MOM (O. S.)\nLuke!\n\nHANS (on the radio)\nWhat?\n") == "fountain"
    assert detect_format("@McCLANE\nYippie ki-yay!\n\n@DeVITO\nNo.\n") == "fountain"
    assert detect_format("23\nSkidoo.\n\n42\nHike.\n") == "prose"


def test_image_and_clip_notes_are_the_scenes_own_media():
    board = analyze("Title: Film\n\nINT. HOUSE - DAY\n[[IMAGE: pictures/house.png]]\n\n"
                    "Mara waits.\n\nMARA\nHello.\n\nEXT. SEA - NIGHT\n\n"
                    "Waves crash. [[CLIP: clips/sea.mov]]\n")
    assert [(s.media.path, s.media.kind) for s in board.scenes] == [
        ("pictures/house.png", "image"), ("clips/sea.mov", "video")]
    assert [line.text for line in board.scenes[0].lines] == ["Mara waits.", "Hello."]
    assert [line.text for line in board.scenes[1].lines] == ["Waves crash."]
    # The note's word sets the kind, whatever the extension says.
    board = analyze("EXT. SEA - NIGHT\n\n[[VIDEO: sea.dat]]\n\nWaves.\n")
    assert board.scenes[0].media.kind == "video"
    with pytest.raises(ScriptError, match="names two pictures or clips"):
        analyze("EXT. SEA - NIGHT\n\n[[IMAGE: a.png]]\n[[CLIP: b.mp4]]\n\nWaves.\n")
