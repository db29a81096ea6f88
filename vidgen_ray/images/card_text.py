"""What a card says, in the script's language: its labels, and its words under the title.

A card adds to what is heard and read, it does not repeat it: with subtitles on screen
(burned in, or the service's page offering the track) a card shows the scene's title, its
place and its characters, and leaves the narration to the subtitles (``card_text``).
"""

from __future__ import annotations

import re
import unicodedata

# language -> (the word "scene", then the mood labels in PALETTES order after neutral)
_MOODS = ("neutral", "calm", "tense", "joyful", "sad", "mysterious", "epic")
LABELS: dict[str, tuple[str, tuple[str, ...]]] = {
    "en": ("SCENE", ("NEUTRAL", "CALM", "TENSE", "JOYFUL", "SAD", "MYSTERIOUS", "EPIC")),
    "fr": ("SCÈNE", ("NEUTRE", "CALME", "TENDU", "JOYEUX", "TRISTE", "MYSTÉRIEUX", "ÉPIQUE")),
    "de": ("SZENE", ("NEUTRAL", "RUHIG", "ANGESPANNT", "FRÖHLICH", "TRAURIG", "GEHEIMNISVOLL",
                     "EPISCH")),
    "es": ("ESCENA", ("NEUTRO", "SERENO", "TENSO", "ALEGRE", "TRISTE", "MISTERIOSO", "ÉPICO")),
    "it": ("SCENA", ("NEUTRO", "CALMO", "TESO", "GIOIOSO", "TRISTE", "MISTERIOSO", "EPICO")),
    "pt": ("CENA", ("NEUTRO", "CALMO", "TENSO", "ALEGRE", "TRISTE", "MISTERIOSO", "ÉPICO")),
}


def _labels(language: str) -> tuple[str, tuple[str, ...]]:
    return LABELS.get((language or "en").split("-")[0].lower(), LABELS["en"])


def scene_label(language: str, number: int) -> str:
    """``SCÈNE 07`` for a French script; English for a language without a table."""
    return f"{_labels(language)[0]} {number:02d}"


def mood_label(language: str, mood: str) -> str:
    labels = _labels(language)[1]
    return labels[_MOODS.index(mood)] if mood in _MOODS else mood.upper()


def shows_narration(card_text: str, burn_subtitles: bool) -> bool:
    """``narration`` always, ``title`` never; ``auto``: only without burned-in subtitles."""
    return card_text == "narration" or (card_text == "auto" and not burn_subtitles)


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in text if not unicodedata.combining(c))


_SENTENCE = re.compile(r"(?<=[.!?…。])\s+")
_WORDS = re.compile(r"[^\W_]+")


def card_words(description: str, spoken: list[str], narration: bool) -> str:
    """The words under a card's title: the description, less every sentence of it that is
    also spoken (the subtitles show those) when the card does not show the narration. What
    stays is the place ("interior, lighthouse, night") and any visual note not read out."""
    if narration:
        return description
    heard = " ".join(" ".join(_WORDS.findall(fold(line))) for line in spoken)
    kept = []
    for sentence in _SENTENCE.split(description):
        words = " ".join(_WORDS.findall(fold(sentence)))
        if words and words not in heard:
            kept.append(sentence)
    return " ".join(kept)
