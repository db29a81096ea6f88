"""espeak-ng speech: pure helpers tested directly, then the real program (marker ``ffmpeg``)."""

from __future__ import annotations

import shutil
import struct

import numpy as np
import pytest

from vidgen_ray.config import RenderSettings
from vidgen_ray.errors import DependencyError, SettingsError
from vidgen_ray.speech import create_speech_backend
from vidgen_ray.speech.base import SpeechRequest
from vidgen_ray.speech.espeak import (
    EspeakBackend,
    cast_voices,
    espeak_args,
    parse_languages,
    parse_variants,
    parse_wav,
    voice_for_language,
    words_per_minute,
)
from vidgen_ray.storyboard import NARRATOR, Character, Storyboard

SENTENCE = "The lamp turns slowly above the black sea, and the keeper counts every step."


@pytest.fixture(scope="module")
def espeak() -> EspeakBackend:
    return EspeakBackend()


def storyboard(*characters: Character, language: str = "en") -> Storyboard:
    return Storyboard(language=language, characters=list(characters))


# Pure helpers: no program needed.

def test_arguments_put_the_text_on_stdin_never_on_the_command_line():
    assert espeak_args("fr+f2", 210) == [
        "--stdout", "-b", "1", "-v", "fr+f2", "-s", "210", "--stdin",
    ]


def test_speed_maps_to_words_per_minute_within_espeak_limits():
    assert words_per_minute(1.0) == 175
    assert words_per_minute(1.2) == 210
    assert words_per_minute(0.1) == 80
    assert words_per_minute(5.0) == 450


def test_a_line_in_another_language_keeps_the_speakers_variant():
    assert voice_for_language("en+m3", "fr") == "fr+m3"
    assert voice_for_language("en", "de") == "de"
    assert voice_for_language("en+m3", "en") == "en+m3"
    assert voice_for_language("en-gb+f2", "en") == "en-gb+f2"
    assert voice_for_language("en+m3", "") == "en+m3"


def test_voice_listings_are_parsed_with_their_aliases_and_genders():
    languages = parse_languages(
        "Pty Language       Age/Gender VoiceName          File                 Other Languages\n"
        " 2  en-gb           --/M      English_(Great_Britain) gmw/en               (en 2)\n"
        " 5  cmn             --/M      Chinese_(Mandarin,_latin) sit/cmn  (zh-cmn 5)(zh 5)\n"
        " 5  fr-fr           --/M      French_(France)    roa/fr               (fr 5)\n"
    )
    assert languages == {"en-gb", "en", "cmn", "zh-cmn", "zh", "fr-fr", "fr"}
    variants = parse_variants(
        "Pty Language       Age/Gender VoiceName          File                 Other Languages\n"
        " 5  variant         --/M      Mr_Serious         !v/Mr serious        \n"
        " 5  variant         --/F      female2            !v/f2                \n"
        " 5  variant         70/M      male1              !v/m1                \n"
        " 5  variant         --/M      Storm              !v/Storm             (en-us 5)\n"
    )
    assert variants == {"Mr serious": "male", "f2": "female", "m1": "male", "Storm": "male"}


def test_streamed_wav_with_placeholder_sizes_is_read_to_the_end():
    samples = np.array([0, 1000, -1000, 32767, -32768], dtype="<i2")
    header = (b"RIFF" + struct.pack("<I", 0x7FFFF024) + b"WAVE"
              + b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 22050, 44100, 2, 16)
              + b"data" + struct.pack("<I", 0x7FFFF000))
    speech = parse_wav(header + samples.tobytes())
    assert speech.sample_rate == 22050 and speech.samples.tolist() == samples.tolist()
    with pytest.raises(ValueError, match="not return a WAV"):
        parse_wav(b"oops")


def test_casting_alone_is_distinct_and_follows_gender_and_order():
    variants = {"m1": "male", "m2": "male", "m3": "male", "f2": "female", "f3": "female"}
    characters = [Character(name="ANNA", gender="female"), Character(name="BEN"),
                  Character(name="CLEO"), Character(name="DAN", voice="en+m3")]
    cast = cast_voices(characters, "en", None, variants)
    assert cast == {"ANNA": "en+f2", "BEN": "en+m2", "CLEO": "en+f3", "DAN": "en+m3",
                    NARRATOR: "en+m1"}
    # More characters than variants: voices repeat only once every variant is taken.
    crowd = [Character(name=f"C{i}") for i in range(8)]
    crowded = cast_voices(crowd, "en", None, variants)
    assert len(set(crowded.values())) == len(variants)


# The real espeak-ng.

@pytest.mark.ffmpeg
@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
class TestRealEspeak:
    def test_version(self, espeak):
        assert espeak.version().startswith("espeak-ng 1.")

    def test_speech_is_16_bit_mono_and_slows_down_with_lower_speed(self, espeak):
        slow, normal, fast = espeak.synthesize(
            [SpeechRequest(SENTENCE, "en+m3", "en", speed) for speed in (0.5, 1.0, 2.0)])
        assert normal.sample_rate == 22050 and normal.samples.dtype == np.int16
        assert np.abs(normal.samples.astype(int)).max() > 1000
        assert slow.duration > 1.6 * normal.duration
        assert normal.duration > 1.6 * fast.duration
        assert 2.0 < normal.duration < 8.0

    def test_every_character_and_the_narrator_get_distinct_voices(self, espeak):
        board = storyboard(*[Character(name=f"PERSON {i}") for i in range(10)],
                           Character(name="GRANDMA", gender="female"))
        cast = espeak.cast(board, None)
        assert set(cast) == {f"PERSON {i}" for i in range(10)} | {"GRANDMA", NARRATOR}
        assert len(set(cast.values())) == len(cast)
        assert cast[NARRATOR] == "en+m1"
        assert espeak.catalog().variants[cast["GRANDMA"].split("+")[1]] == "female"
        again = storyboard(*[Character(name=f"PERSON {i}") for i in range(10)],
                           Character(name="GRANDMA", gender="female"))
        assert espeak.cast(again, None) == cast

    def test_written_and_narrator_voices_are_kept_and_avoided(self, espeak):
        board = storyboard(Character(name="MARA", voice="en-gb+f3"), Character(name="TOM"))
        cast = espeak.cast(board, "en+m3")
        assert cast["MARA"] == "en-gb+f3" and cast[NARRATOR] == "en+m3"
        assert cast["TOM"] not in {"en+m3", "en-gb+f3"}

    def test_storyboard_language_sets_the_cast_language(self, espeak):
        cast = espeak.cast(storyboard(Character(name="AMÉLIE"), language="fr"), None)
        assert cast == {"AMÉLIE": "fr+m3", NARRATOR: "fr+m1"}

    def test_distinct_voices_sound_different(self, espeak):
        voices = ["en+m3", "en+f2", "en+m1"]
        sounds = espeak.synthesize([SpeechRequest("Hello there.", v, "en") for v in voices])
        lengths = {len(s.samples) for s in sounds}
        hashes = {s.samples.tobytes() for s in sounds}
        assert len(hashes) == 3 and min(lengths) > 0

    @pytest.mark.parametrize("voice, problem", [
        ("en+nosuch", "no variant 'nosuch'"),
        ("en+M3", "no variant 'M3'"),
        ("xx+m3", "no language 'xx'"),
        ("+m3", "no language ''"),
    ])
    def test_unknown_narrator_voice_says_how_to_list_voices(self, espeak, voice, problem):
        with pytest.raises(SettingsError) as info:
            espeak.cast(storyboard(), voice)
        message = str(info.value)
        assert message.startswith("unknown espeak-ng voice")
        assert "espeak-ng --voices" in message and "espeak-ng --voices=variant" in message
        assert problem in message
        assert info.value.field == "tts_voice"

    def test_unknown_character_voice_and_language_are_settings_errors(self, espeak):
        with pytest.raises(SettingsError, match="unknown espeak-ng voice 'zz\\+m3'"):
            espeak.cast(storyboard(Character(name="X", voice="zz+m3")), None)
        with pytest.raises(SettingsError, match="no language 'qq'") as info:
            espeak.cast(storyboard(language="qq"), None)
        assert info.value.field == "language"
        with pytest.raises(SettingsError, match="unknown espeak-ng voice 'en\\+zz'"):
            espeak.synthesize([SpeechRequest("Hello.", "en+zz", "en")])

    def test_a_french_line_is_spoken_in_french_with_the_same_variant(self, espeak):
        text = "Bonjour, je m'appelle Amélie et j'habite à Paris."
        french, english = espeak.synthesize([SpeechRequest(text, "en+f2", "fr"),
                                             SpeechRequest(text, "en+f2", "en")])
        assert french.duration > 1.0
        assert french.samples.tobytes() != english.samples.tobytes()
        direct = espeak.synthesize([SpeechRequest(text, "fr+f2", "fr")])[0]
        assert direct.samples.tobytes() == french.samples.tobytes()

    def test_text_starting_with_a_dash_is_spoken_not_parsed(self, espeak):
        dashed, help_text = espeak.synthesize([
            SpeechRequest("-v nothing here, just words", "en+m3", "en"),
            SpeechRequest("--help", "en+m3", "en"),
        ])
        assert dashed.duration > 1.0 and help_text.duration > 0.2

    def test_unicode_text_in_several_scripts(self, espeak):
        lines = [("Ünïcödé façade — naïve café ✓ 🎬", "en"), ("مرحبا بالعالم", "ar"),
                 ("שלום עולם", "he"), ("你好，世界", "cmn"), ("Привет, мир", "ru")]
        sounds = espeak.synthesize([SpeechRequest(t, "en+m3", lang) for t, lang in lines])
        assert all(s.duration > 0.3 for s in sounds)

    def test_output_is_deterministic(self, espeak):
        one, two = espeak.synthesize([SpeechRequest(SENTENCE, "en+f3", "en")] * 2)
        assert one.samples.tobytes() == two.samples.tobytes()

    def test_factory_makes_espeak_and_names_the_choices(self):
        assert create_speech_backend("espeak", RenderSettings()).name == "espeak"
        with pytest.raises(SettingsError, match="unknown speech backend 'bork'.*espeak") as info:
            create_speech_backend("bork", RenderSettings())
        assert info.value.field == "tts_model"


def test_a_missing_program_is_a_dependency_error_with_an_install_hint():
    missing = EspeakBackend(binary="espeak-ng-not-installed-here")
    with pytest.raises(DependencyError, match="not installed or not on PATH: install"):
        missing.synthesize([SpeechRequest("Hello.", "en+m3", "en")])
    with pytest.raises(DependencyError):
        missing.cast(storyboard(), None)
    with pytest.raises(DependencyError):
        missing.version()
