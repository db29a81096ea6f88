"""Casting: a distinct voice for every speaker, decided by order and gender. Pure code, shared by
every speech backend; backends only say which voices exist and of what gender.

Rules: written voices (storyboard, cast file, --voice) are kept. The narrator is chosen
next, so characters avoid it. Each other character takes the first free voice of its
gender (alternating male and female when the analysis gave none), then of the other
gender; a voice is shared only once every voice is taken. Genders come from the storyboard
(written there, or inferred from the script by analysis/gender.py). Since the order of characters is
the order of the storyboard, the same script casts the same way in every job; a cast file
pins voices so later jobs keep them even when characters are added.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from vidgen_ray.errors import SettingsError
from vidgen_ray.storyboard import NARRATOR, Character, Storyboard

Gender = str  # "male" / "female"

# Bark's v2 presets: speaker number -> gender, per language, from Suno's speaker library.
# A hint for casting only; any preset can speak any part.
_M, _F = "male", "female"
BARK_GENDERS: dict[str, tuple[str, ...]] = {
    "en": (_M, _M, _M, _M, _M, _M, _M, _M, _M, _F),
    "de": (_M, _M, _M, _F, _M, _M, _M, _M, _F, _M),
    "es": (_M, _M, _M, _M, _M, _M, _M, _M, _F, _F),
    "fr": (_M, _F, _F, _M, _M, _F, _M, _M, _M, _M),
    "hi": (_F, _F, _M, _F, _F, _M, _M, _M, _M, _F),
    "it": (_M, _M, _F, _M, _M, _M, _M, _F, _M, _F),
    "ja": (_F, _F, _M, _F, _F, _F, _M, _F, _F, _F),
    "ko": (_F, _M, _M, _M, _M, _M, _M, _M, _M, _M),
    "pl": (_M, _M, _M, _M, _F, _M, _F, _M, _M, _F),
    "pt": (_M, _M, _M, _M, _M, _M, _F, _M, _M, _M),
    "ru": (_M, _M, _M, _M, _M, _F, _F, _M, _M, _F),
    "tr": (_M, _M, _M, _M, _F, _F, _M, _M, _M, _M),
    "zh": (_M, _M, _M, _M, _F, _M, _F, _F, _M, _M),
}
BARK_NARRATOR_SPEAKER = 6  # v2/en_speaker_6, the voice users know; same number elsewhere


def assign_voices(characters: list[Character], narrator: str | None,
                  narrator_candidates: list[str], pools: dict[Gender, list[str]],
                  fallback: str) -> dict[str, str]:
    """Voices for every character and NARRATOR (see the module's rules).

    ``narrator`` is a voice given outright (or None); ``narrator_candidates`` are tried in
    order otherwise; ``pools`` lists each gender's voices in casting order; ``fallback``
    speaks when no pool has any voice.
    """
    written = {c.name: c.voice for c in characters if c.voice}
    taken = set(written.values())
    narrator = narrator or written.get(NARRATOR) or _first_free(narrator_candidates, taken) \
        or fallback
    taken.add(narrator)
    cast: dict[str, str] = {}
    unsexed = 0
    for character in characters:
        if character.name == NARRATOR:
            continue
        if character.voice:
            cast[character.name] = character.voice
            continue
        sex = character.gender or ("male", "female")[unsexed % 2]
        unsexed += character.gender is None
        other = "female" if sex == "male" else "male"
        candidates = pools.get(sex, []) + pools.get(other, []) or [fallback]
        voice = _first_free(candidates, taken) or candidates[len(cast) % len(candidates)]
        taken.add(voice)
        cast[character.name] = voice
    cast[NARRATOR] = narrator
    return cast


def _first_free(candidates: list[str], taken: set[str]) -> str | None:
    return next((voice for voice in candidates if voice not in taken), None)


# ---- Bark ------------------------------------------------------------------------------

def bark_language(voice: str) -> str | None:
    """``v2/de_speaker_3`` -> ``de``; None for a custom .npz voice."""
    name = voice.rpartition("/")[2]
    language, sep, _ = name.partition("_speaker_")
    return language if sep else None


def bark_voice_for_language(voice: str, language: str | None, presets: list[str]) -> str:
    """The same speaker number in another language (``v2/en_speaker_3`` -> ``v2/de_speaker_3``)
    when that preset exists; custom voices and voices already in the language are kept."""
    current = bark_language(voice)
    if not language or current is None or current == language.lower().split("-")[0]:
        return voice
    candidate = voice.replace(f"{current}_speaker_", f"{language.lower().split('-')[0]}_speaker_")
    return candidate if candidate in presets else voice


def bark_pools(language: str, presets: list[str]) -> dict[Gender, list[str]]:
    """The language's v2 presets by gender, in speaker order."""
    language = language.lower().split("-")[0]
    genders = BARK_GENDERS.get(language, ())
    pools: dict[Gender, list[str]] = {"male": [], "female": []}
    ours = sorted((p for p in presets if bark_language(p) == language and p.startswith("v2/")),
                  key=_speaker_number)
    for preset in ours:
        number = _speaker_number(preset)
        sex = genders[number] if number < len(genders) else ("male", "female")[number % 2]
        pools[sex].append(preset)
    return pools


def _speaker_number(preset: str) -> int:
    tail = preset.rpartition("_speaker_")[2]
    return int(tail) if tail.isdigit() else 10_000


def bark_cast(storyboard: Storyboard, narrator_voice: str | None, presets: list[str],
              check: Callable[[str], str]) -> dict[str, str]:
    language = storyboard.language.lower().split("-")[0]
    for voice in [narrator_voice] + [c.voice for c in storyboard.characters]:
        if voice:
            check(voice)
    pools = bark_pools(language, presets)
    ours = pools["male"] + pools["female"]
    written = [c.voice for c in storyboard.characters if c.voice] + [narrator_voice]
    if not ours and not all(written):
        languages = sorted({bark_language(p) for p in presets if bark_language(p)})
        raise SettingsError(
            f"Bark has no voice presets for language {storyboard.language!r}: its presets "
            f"cover {', '.join(languages) or 'no language'}; give every character a voice "
            "(a preset or an .npz), or use --voice espeak", field="language")
    preferred = f"v2/{language}_speaker_{BARK_NARRATOR_SPEAKER}"
    narrator_candidates = ([preferred] if preferred in ours else []) + pools["male"] + \
        pools["female"]
    return assign_voices(storyboard.characters, narrator_voice, narrator_candidates, pools,
                         fallback=ours[0] if ours else narrator_voice or "")


# ---- Kokoro ----------------------------------------------------------------------------

def kokoro_cast(storyboard: Storyboard, narrator_voice: str | None, voices: list[str],
                check: Callable[[str], str]) -> dict[str, str]:
    """Kokoro voices by the script's language and each character's gender (voice names say
    both: ``af_heart`` is American English, female); the narrator takes a male voice of the
    language (am_michael in English) unless ``narrator_voice`` names one."""
    from vidgen_ray.speech import kokoro_text

    for voice in [narrator_voice] + [c.voice for c in storyboard.characters]:
        if voice:
            check(voice)
    pools = kokoro_text.pools(voices, storyboard.language)
    ours = pools["male"] + pools["female"]
    if not ours and not all([narrator_voice, *(c.voice for c in storyboard.characters)]):
        raise SettingsError(
            f"the Kokoro model has no voices for language {storyboard.language!r}: give every "
            "character a voice, or use --voice espeak", field="language")
    preferred = [v for v in kokoro_text.NARRATOR_VOICES if v in ours]
    return assign_voices(storyboard.characters, narrator_voice,
                         preferred + pools["male"] + pools["female"], pools,
                         fallback=ours[0] if ours else narrator_voice or "")


# ---- cast files ------------------------------------------------------------------------

def read_cast(path: Path) -> dict:
    """``{"backend": ..., "voices": {speaker: voice}}`` from a cast file, checked."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"cast file {str(path)!r} does not exist: pass the cast.json a "
                            "render wrote, or leave --voices out", field="voices") from None
    except (OSError, ValueError) as exc:
        raise SettingsError(f"cast file {str(path)!r} is not readable JSON ({exc}): fix it or "
                            "delete it", field="voices") from None
    voices = data.get("voices") if isinstance(data, dict) else None
    if not isinstance(voices, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and k and v for k, v in voices.items()):
        raise SettingsError(f"cast file {str(path)!r} needs {{\"backend\": \"bark\", \"voices\": "
                            "{\"NAME\": \"voice\", ...}}: fix it or delete it", field="voices")
    backend = data.get("backend")
    if backend is not None and not isinstance(backend, str):
        raise SettingsError(f"cast file {str(path)!r}: backend must be a name such as 'bark'",
                            field="voices")
    return {"backend": backend, "voices": dict(voices)}


def write_cast(path: Path, backend: str, voices: dict[str, str]) -> None:
    path = Path(path)
    path.write_text(json.dumps({"backend": backend, "voices": voices}, indent=2,
                               ensure_ascii=False) + "\n", encoding="utf-8")


def check_cast_backend(pinned: dict, backend: str) -> None:
    made_for = pinned.get("backend")
    if made_for and made_for != backend:
        raise SettingsError(f"the cast file was made for the {made_for!r} voices, this render "
                            f"speaks with {backend!r}: render with --voice {made_for}, or pass "
                            "no --voices to cast anew", field="voices")


def load_cast(path: Path, backend: str) -> dict[str, str]:
    """The voices a cast file pins, refused when it was made for another backend."""
    pinned = read_cast(path)
    check_cast_backend(pinned, backend)
    return pinned["voices"]


def apply_cast(storyboard: Storyboard, pinned: dict, backend: str,
               narrator_voice: str | None) -> tuple[Storyboard, str | None]:
    """The storyboard to cast from, with the cast file's voices written in wherever the
    script wrote none, and the narrator's voice (``narrator_voice`` wins over the file).
    Characters the file lacks stay empty, so casting assigns them (and they are added to
    the cast the render writes); names the script lacks are ignored. A file made for
    another backend is refused."""
    check_cast_backend(pinned, backend)
    voices = pinned["voices"]
    board = storyboard.model_copy(deep=True)
    for character in board.characters:
        if not character.voice and character.name in voices:
            character.voice = voices[character.name]
    written_narrator = board.character(NARRATOR)
    if narrator_voice is None and not (written_narrator and written_narrator.voice):
        narrator_voice = voices.get(NARRATOR)
    return board, narrator_voice
