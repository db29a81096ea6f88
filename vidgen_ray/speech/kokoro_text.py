"""Kokoro's side of text and voices, without the model: phonemes from espeak-ng, and what a
voice name says (``af_heart``: American English, female).

Kokoro reads IPA phonemes. Its own pipeline gets them from the misaki package, whose English
front end needs spaCy and downloads a spaCy model at run time; for every other language
misaki itself asks espeak-ng. Here every language asks espeak-ng (``--ipa --tie=^``) and the
output is mapped to Kokoro's symbols the way misaki's espeak front end maps it
(diphthongs to single letters, ``r`` to ``ɹ`` in English...). Punctuation, which espeak-ng
does not write, is put back between the phonemized stretches so Kokoro pauses on it.
"""

from __future__ import annotations

import re

from vidgen_ray.errors import SettingsError
from vidgen_ray.programs import run_tool

TIMEOUT_S = 60
MAX_PHONEMES = 510  # Kokoro's context is 512 tokens, two of them the start and end marks

# Voice name prefix letter -> (language, espeak-ng voice). Japanese and Chinese voices need
# misaki's own front ends (not espeak-ng), so they are not offered.
VOICE_LANGUAGES = {"a": ("en", "en-us"), "b": ("en", "en-gb"), "e": ("es", "es"),
                   "f": ("fr", "fr-fr"), "h": ("hi", "hi"), "i": ("it", "it"),
                   "p": ("pt", "pt-br")}
ESPEAK_FOR = {"en": "en-us", "es": "es", "fr": "fr-fr", "hi": "hi", "it": "it", "pt": "pt-br"}
# Casting order within a language and gender: Kokoro's own quality grades, best first
# (voices not named here follow in name order).
PREFERRED = ("af_heart", "af_bella", "bf_emma", "af_nicole", "af_aoede", "af_kore",
             "af_sarah", "bf_isabella", "am_fenrir", "am_michael", "am_puck", "bm_george",
             "bm_fable", "am_echo", "bm_lewis", "am_eric")
NARRATOR_VOICES = ("am_michael", "bm_george", "em_alex", "im_nicola", "pm_alex", "hm_omega")

_PUNCTUATION = re.compile(r"\s*([.,!?;:…—()\"“”«»¡¿]+)\s*")
_DIPHTHONGS = (("a^ɪ", "I"), ("a^ʊ", "W"), ("d^z", "ʣ"), ("d^ʒ", "ʤ"), ("e^ɪ", "A"),
               ("o^ʊ", "O"), ("ə^ʊ", "Q"), ("s^s", "S"), ("t^s", "ʦ"), ("t^ʃ", "ʧ"),
               ("ɔ^ɪ", "Y"))
_ENGLISH = (("ə^l", "ᵊl"), ("ʲ", ""), ("ɚ", "əɹ"), ("r", "ɹ"), ("x", "k"), ("ç", "k"),
            ("ɐ", "ə"), ("ɬ", "l"), ("\u0303", ""))


def voice_language(voice: str) -> str | None:
    """``af_heart`` -> ``en``; None for a name that is no Kokoro voice we can speak."""
    if len(voice) > 3 and voice[2] == "_" and voice[1] in "fm":
        found = VOICE_LANGUAGES.get(voice[0])
        return found[0] if found else None
    return None


def voice_gender(voice: str) -> str:
    return "female" if voice[1] == "f" else "male"


def _rank(voice: str) -> tuple[int, str]:
    return (PREFERRED.index(voice) if voice in PREFERRED else len(PREFERRED), voice)


def pools(voices: list[str], language: str) -> dict[str, list[str]]:
    """The language's voices by gender, in casting order."""
    language = language.lower().split("-")[0]
    ours = sorted((v for v in voices if voice_language(v) == language), key=_rank)
    return {sex: [v for v in ours if voice_gender(v) == sex] for sex in ("male", "female")}


def check_language(language: str) -> str:
    primary = language.lower().split("-")[0]
    if primary not in ESPEAK_FOR:
        raise SettingsError(
            f"Kokoro does not speak language {language!r}: it speaks "
            f"{', '.join(sorted(ESPEAK_FOR))}; use --voice espeak (about 100 languages) or "
            "--voice bark for this script", field="language")
    return primary


def espeak_voice(language: str, voice: str) -> str:
    """The espeak-ng voice that phonemizes a line: the voice's own accent (en-gb for a
    British voice) when the line is in the voice's language, else the line's language."""
    primary = check_language(language)
    own = VOICE_LANGUAGES.get(voice[:1])
    return own[1] if own and own[0] == primary else ESPEAK_FOR[primary]


def phonemize(text: str, espeak: str) -> str:
    """Kokoro's phonemes for ``text`` read with espeak-ng voice ``espeak``."""
    parts = _PUNCTUATION.split(text)
    out = []
    for index, part in enumerate(parts):
        if index % 2:  # punctuation, kept as Kokoro's pause marks
            out.append(part.replace("«", "“").replace("»", "”").replace("¡", "").replace(
                "¿", ""))
        elif part.strip():
            out.append((" " if out else "") + _ipa(part, espeak))
    joined = re.sub(r"\s+", " ", "".join(out).replace("(", " (").replace("“", " “"))
    return re.sub(r"([“(]) ", r"\1", joined).strip()


def _ipa(text: str, espeak: str) -> str:
    raw = run_tool("espeak-ng", ["-q", "--ipa", "--tie=^", "-v", espeak, "--", text],
                   timeout=TIMEOUT_S).decode("utf-8", "replace")
    phonemes = " ".join(raw.split())
    for old, new in _DIPHTHONGS:
        phonemes = phonemes.replace(old, new)
    if espeak.startswith("en"):
        for old, new in _ENGLISH:
            phonemes = phonemes.replace(old, new)
        phonemes = phonemes.replace("ɾ", "T").replace("ʔ", "t")
        if espeak == "en-us":
            phonemes = phonemes.replace("ː", "")
    return phonemes.replace("^", "").replace("-", "")


def split_phonemes(phonemes: str, limit: int = MAX_PHONEMES) -> list[str]:
    """Pieces of at most ``limit`` symbols, cut after punctuation, else at a space."""
    pieces = []
    while len(phonemes) > limit:
        window = phonemes[:limit]
        cut = max(window.rfind(mark) for mark in ".!?;:,—…")
        cut = cut + 1 if cut > limit // 3 else (window.rfind(" ") if " " in window else limit)
        pieces.append(phonemes[:cut].strip())
        phonemes = phonemes[cut:].strip()
    return pieces + ([phonemes] if phonemes else [])
