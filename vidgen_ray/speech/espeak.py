"""Speech with espeak-ng: offline, instant, 130 languages. The embedded default.

Voices are ``LANG`` or ``LANG+VARIANT`` (``en+m3``, ``fr+f2``). espeak-ng quietly falls back to
its default voice for an unknown variant, so every voice is checked against what
``espeak-ng --voices`` and ``--voices=variant`` list before it is used.
"""

from __future__ import annotations

import functools
import re
import struct
from dataclasses import dataclass

import numpy as np

from vidgen_ray.errors import SettingsError, ToolError
from vidgen_ray.programs import find_tool, run_tool
from vidgen_ray.speech.base import Speech, SpeechRequest
from vidgen_ray.speech.voice_casting import assign_voices
from vidgen_ray.storyboard import Character, Storyboard

DEFAULT_WPM = 175  # espeak-ng's own default rate: speed 1.0
MIN_WPM, MAX_WPM = 80, 450
TIMEOUT_S = 120.0

# Auto-casting order. The classic m*/f* variants first (clear, distinct pitches); then the
# newer named ones. Novelty variants (robots, whisper, Demonic) are never picked unasked.
NARRATOR_VARIANTS = ("m1", "m2", "m7")
MALE_VARIANTS = ("m3", "m2", "m4", "m6", "m7", "m5", "m8", "m1", "Alex", "Andy", "adam",
                 "david", "edward", "john", "paul", "robert", "max", "benjamin", "caleb")
FEMALE_VARIANTS = ("f2", "f3", "f4", "f1", "f5", "Alicia", "Andrea", "Annie", "anika",
                   "belinda", "linda", "steph", "aunty")

_LIST_HINT = "run 'espeak-ng --voices' for languages and 'espeak-ng --voices=variant' for variants"


@dataclass(frozen=True)
class VoiceCatalog:
    """What this espeak-ng installation can speak: language codes and variant genders."""

    languages: frozenset[str]  # lower case
    variants: dict[str, str | None]  # file name (case matters) -> "male" / "female" / None


def parse_languages(listing: str) -> frozenset[str]:
    """Language codes from ``espeak-ng --voices``: the Language column plus the aliases in
    "Other Languages" such as ``(en 2)``, which is how plain ``en`` and ``fr`` resolve."""
    codes = set()
    for line in listing.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 5:
            codes.add(fields[1].lower())
            codes.update(alias.lower() for alias in re.findall(r"\((\S+) \d+\)", line))
    return frozenset(codes)


def parse_variants(listing: str) -> dict[str, str | None]:
    """Variant file names and genders from ``espeak-ng --voices=variant``."""
    variants: dict[str, str | None] = {}
    for line in listing.splitlines()[1:]:
        found = re.search(r"!v/(\S.*?)\s*(?:\(|$)", line)
        fields = line.split()
        if found and len(fields) >= 3:
            sex = fields[2].rpartition("/")[2]
            variants[found.group(1)] = {"M": "male", "F": "female"}.get(sex)
    return variants


def split_voice(voice: str) -> tuple[str, str | None]:
    language, plus, variant = voice.partition("+")
    return language, (variant if plus else None)


def check_voice(voice: str, catalog: VoiceCatalog, field: str = "tts_voice") -> str:
    """Return the voice unchanged, or raise SettingsError saying what is wrong with it."""
    language, variant = split_voice(voice)
    if language.lower() not in catalog.languages:
        problem = f"espeak-ng has no language {language!r}"
    elif variant is not None and variant not in catalog.variants:
        problem = f"espeak-ng has no variant {variant!r} (variant names are case-sensitive)"
    else:
        return voice
    raise SettingsError(f"unknown espeak-ng voice {voice!r}: {problem}; {_LIST_HINT}",
                        field=field)


def voice_for_language(voice: str, language: str | None) -> str:
    """The speaker's voice in another language: same variant, that language.

    A voice already in the language (or a regional form of it: en-gb for en) is kept.
    """
    current, variant = split_voice(voice)
    if not language or current.lower() == language.lower() \
            or current.lower().startswith(language.lower() + "-"):
        return voice
    return f"{language}+{variant}" if variant else language


def words_per_minute(speed: float) -> int:
    return max(MIN_WPM, min(MAX_WPM, round(DEFAULT_WPM * speed)))


def espeak_args(voice: str, wpm: int) -> list[str]:
    """Arguments for one utterance. The text goes on stdin (UTF-8), so text starting with
    '-' is never read as an option and length is not limited by the command line."""
    return ["--stdout", "-b", "1", "-v", voice, "-s", str(wpm), "--stdin"]


def parse_wav(data: bytes) -> Speech:
    """espeak-ng streams its WAV, so the RIFF and data sizes in the header are placeholders
    (0x7ffff000): read to the end of the bytes rather than trusting them."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("espeak-ng did not return a WAV file")
    position, rate, samples = 12, None, None
    while position + 8 <= len(data):
        kind = data[position:position + 4]
        (size,) = struct.unpack("<I", data[position + 4:position + 8])
        body = data[position + 8:position + 8 + size]
        if kind == b"fmt ":
            fmt, channels, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
            if (fmt, channels, bits) != (1, 1, 16):
                raise ValueError(f"expected 16-bit mono PCM, got format {fmt}, "
                                 f"{channels} channels, {bits} bits")
        elif kind == b"data":
            samples = np.frombuffer(body[: len(body) // 2 * 2], dtype="<i2").astype(np.int16)
            break
        position += 8 + size + (size & 1)
    if rate is None or samples is None:
        raise ValueError("espeak-ng WAV has no fmt or data chunk")
    return Speech(samples, rate)


def cast_voices(characters: list[Character], language: str, narrator_voice: str | None,
                variants: dict[str, str | None]) -> dict[str, str]:
    """A distinct voice for every character and the narrator (rules in speech/voice_casting.py):
    the language with one of this installation's variants, novelty variants never."""
    pools = {sex: [f"{language}+{v}" for v in names if v in variants]
             for sex, names in (("male", MALE_VARIANTS), ("female", FEMALE_VARIANTS))}
    narrator_candidates = [f"{language}+{v}" for v in NARRATOR_VARIANTS + MALE_VARIANTS
                           if v in variants]
    return assign_voices(characters, narrator_voice, narrator_candidates, pools,
                         fallback=language)


@functools.cache
def _catalog(binary_path: str) -> VoiceCatalog:
    # Listing voices costs a few ms; once per process is plenty.
    languages = run_tool(binary_path, ["--voices"], timeout=TIMEOUT_S)
    variants = run_tool(binary_path, ["--voices=variant"], timeout=TIMEOUT_S)
    return VoiceCatalog(parse_languages(languages.decode("utf-8", "replace")),
                        parse_variants(variants.decode("utf-8", "replace")))


class EspeakBackend:
    """SpeechBackend over the espeak-ng program; ``binary`` names or points to it."""

    name = "espeak"

    def __init__(self, binary: str = "espeak-ng"):
        self.binary = binary

    def catalog(self) -> VoiceCatalog:
        return _catalog(find_tool(self.binary))

    def version(self) -> str:
        out = run_tool(self.binary, ["--version"], timeout=TIMEOUT_S).decode("utf-8", "replace")
        found = re.search(r"(\d+\.\d+(?:\.\d+)?)", out)
        return f"espeak-ng {found.group(1) if found else 'unknown'}"

    def cast(self, storyboard: Storyboard, narrator_voice: str | None) -> dict[str, str]:
        catalog = self.catalog()
        check_voice(storyboard.language, catalog, field="language")
        for voice in [narrator_voice] + [c.voice for c in storyboard.characters]:
            if voice:
                check_voice(voice, catalog)
        return cast_voices(storyboard.characters, storyboard.language, narrator_voice,
                           catalog.variants)

    def synthesize(self, requests: list[SpeechRequest]) -> list[Speech]:
        return [self._speak(request) for request in requests]

    def _speak(self, request: SpeechRequest) -> Speech:
        voice = check_voice(voice_for_language(request.voice, request.language), self.catalog())
        args = espeak_args(voice, words_per_minute(request.speed))
        wav = run_tool(self.binary, args, input=request.text.encode("utf-8"), timeout=TIMEOUT_S)
        try:
            return parse_wav(wav)
        except ValueError as exc:
            raise ToolError(self.binary, args, 0, f"unreadable output: {exc}") from exc
