"""Casting: distinct, deterministic, gender-aware voices; cast files; Bark presets by language;
the --voice option."""

from __future__ import annotations

import json

import pytest

from vidgen_ray.errors import SettingsError
from vidgen_ray.speech import parse_voice_option
from vidgen_ray.speech.voice_casting import (
    apply_cast,
    assign_voices,
    bark_cast,
    bark_pools,
    bark_voice_for_language,
    load_cast,
    read_cast,
    write_cast,
)
from vidgen_ray.storyboard import NARRATOR, Character, Storyboard

PRESETS = [f"v2/{lang}_speaker_{n}" for lang in ("en", "de", "fr") for n in range(10)]


def board(*names_and_genders, language="en", voices=None) -> Storyboard:
    voices = voices or {}
    return Storyboard(language=language, characters=[
        Character(name=name, gender=gender, voice=voices.get(name))
        for name, gender in names_and_genders])


def cast(storyboard: Storyboard, narrator: str | None = None) -> dict[str, str]:
    return bark_cast(storyboard, narrator, PRESETS, check=lambda voice: voice)


def test_every_speaker_gets_a_distinct_voice_and_the_narrator_speaker_6():
    voices = cast(board(("MARA", None), ("ELIAS", None), ("TOM", "male"), ("ANN", "female")))
    assert voices[NARRATOR] == "v2/en_speaker_6"
    assert len(set(voices.values())) == 5
    assert all(v.startswith("v2/en_speaker_") for v in voices.values())


def test_gender_hints_pick_from_the_matching_presets():
    voices = cast(board(("ANN", "female"), ("TOM", "male")))
    assert voices["ANN"] == "v2/en_speaker_9"  # the one female English preset
    assert voices["TOM"] == "v2/en_speaker_0"
    # Without hints, genders alternate: the second character takes the female preset.
    voices = cast(board(("A", None), ("B", None)))
    assert voices == {"A": "v2/en_speaker_0", "B": "v2/en_speaker_9", NARRATOR: "v2/en_speaker_6"}


def test_when_a_gender_runs_out_the_other_is_used_before_any_voice_repeats():
    voices = cast(board(("A", "female"), ("B", "female"), ("C", "female")))
    assert voices["A"] == "v2/en_speaker_9"
    assert len(set(voices.values())) == 4


def test_more_speakers_than_presets_share_only_then():
    many = board(*[(f"C{i}", None) for i in range(12)])
    voices = cast(many)
    assert len(set(voices.values())) == 10  # all ten presets in use before sharing


def test_casting_is_deterministic_and_stable_when_characters_are_added():
    first = cast(board(("MARA", None), ("ELIAS", "male")))
    assert cast(board(("MARA", None), ("ELIAS", "male"))) == first
    # A later job with a new character, the first job's cast pinned: old voices stay.
    grown = board(("MARA", None), ("NEW", "male"), ("ELIAS", "male"))
    pinned_board, narrator = apply_cast(grown, {"voices": first}, "bark", None)
    later = cast(pinned_board, narrator)
    assert {k: later[k] for k in first} == first
    assert later["NEW"] not in first.values()


def test_written_voices_are_kept_and_avoided():
    voices = cast(board(("MARA", None), ("ELIAS", None), voices={"MARA": "v2/en_speaker_0"}),
                  narrator="v2/en_speaker_1")
    assert voices["MARA"] == "v2/en_speaker_0" and voices[NARRATOR] == "v2/en_speaker_1"
    assert voices["ELIAS"] not in ("v2/en_speaker_0", "v2/en_speaker_1")


def test_the_storyboard_language_picks_its_presets():
    voices = cast(board(("HANS", "male"), ("GRETA", "female"), language="de"))
    assert voices[NARRATOR] == "v2/de_speaker_6"
    assert voices["GRETA"] == "v2/de_speaker_3"  # the first female German preset
    assert all(v.startswith("v2/de_") for v in voices.values())
    assert bark_pools("fr", PRESETS)["female"] == [
        "v2/fr_speaker_1", "v2/fr_speaker_2", "v2/fr_speaker_5"]


def test_a_language_without_presets_is_a_clear_error():
    with pytest.raises(SettingsError) as error:
        cast(board(("A", None), language="ar"))
    assert "no voice presets for language 'ar'" in str(error.value)
    assert "de, en, fr" in str(error.value) and "--voice espeak" in str(error.value)


def test_a_line_in_another_language_keeps_its_speaker_number():
    assert bark_voice_for_language("v2/en_speaker_3", "de", PRESETS) == "v2/de_speaker_3"
    assert bark_voice_for_language("v2/en_speaker_3", "en", PRESETS) == "v2/en_speaker_3"
    assert bark_voice_for_language("v2/en_speaker_3", "ja", PRESETS) == "v2/en_speaker_3"
    assert bark_voice_for_language("/voices/me.npz", "de", PRESETS) == "/voices/me.npz"


def test_espeak_and_bark_share_the_rules():
    pools = {"male": ["m1", "m2"], "female": ["f1"]}
    voices = assign_voices(board(("A", None), ("B", None), ("C", None)).characters, None,
                           ["n1"], pools, fallback="x")
    assert voices == {"A": "m1", "B": "f1", "C": "m2", NARRATOR: "n1"}


def test_cast_files_round_trip_and_pin_voices(tmp_path):
    path = tmp_path / "cast.json"
    write_cast(path, "bark", {"MARA": "v2/en_speaker_3", NARRATOR: "v2/en_speaker_1"})
    assert read_cast(path) == {"backend": "bark", "voices": {
        "MARA": "v2/en_speaker_3", NARRATOR: "v2/en_speaker_1"}}
    pinned_board, narrator = apply_cast(board(("MARA", None), ("ELIAS", None)),
                                        read_cast(path), "bark", None)
    assert narrator == "v2/en_speaker_1"
    assert pinned_board.character("MARA").voice == "v2/en_speaker_3"
    assert pinned_board.character("ELIAS").voice is None  # new: cast as usual
    # --voice wins over the file for the narrator.
    assert apply_cast(board(), read_cast(path), "bark", "v2/en_speaker_2")[1] == \
        "v2/en_speaker_2"


def test_a_cast_file_for_another_backend_or_malformed_is_refused(tmp_path):
    path = tmp_path / "cast.json"
    write_cast(path, "espeak", {"MARA": "en+f2"})
    with pytest.raises(SettingsError, match="made for the 'espeak' voices"):
        load_cast(path, "bark")
    assert load_cast(path, "espeak") == {"MARA": "en+f2"}
    path.write_text(json.dumps({"voices": ["not", "a", "map"]}))
    with pytest.raises(SettingsError, match="needs"):
        read_cast(path)
    path.write_text("{oops")
    with pytest.raises(SettingsError, match="not readable JSON"):
        read_cast(path)
    with pytest.raises(SettingsError, match="does not exist"):
        read_cast(tmp_path / "absent.json")


@pytest.mark.parametrize(("value", "expected"), [
    ("bark", ("bark", None)),
    ("espeak", ("espeak", None)),
    ("bark:v2/en_speaker_3", ("bark", "v2/en_speaker_3")),
    ("espeak:en+m3", ("espeak", "en+m3")),
    ("en+m3", (None, "en+m3")),
    ("v2/de_speaker_1", (None, "v2/de_speaker_1")),
    ("C:/voices/me.npz", (None, "C:/voices/me.npz")),
])
def test_the_voice_option_names_a_backend_a_voice_or_both(value, expected):
    assert parse_voice_option(value) == expected


def test_the_voice_option_needs_a_voice_after_the_colon():
    with pytest.raises(SettingsError, match="bark:VOICE"):
        parse_voice_option("bark:")
