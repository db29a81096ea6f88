"""Word tables and rules: a scene's mood, ambience and setting, and who is a speaker.

The mood and ambience tables are ordered: when two entries score the same count, the
earlier one wins, so the same text always gives the same answer. A table word also matches
its simple inflections (storm → storms, stormy; cry → cries, cried; rise → rising).
"""

from __future__ import annotations

import re
import unicodedata

from vidgen_ray.storyboard import Ambience, Mood

MOODS: dict[Mood, tuple[str, ...]] = {
    "tense": ("fear", "afraid", "terror", "panic", "scream", "danger", "creep", "tremble",
              "chase", "threat", "gun", "blood"),
    "mysterious": ("dark", "darkness", "shadow", "mist", "fog", "secret", "strange", "whisper",
                   "mystery", "ghost", "unknown", "eerie"),
    "joyful": ("laugh", "laughter", "joy", "sun", "sunny", "sunshine", "celebrate", "smile",
               "happy", "dance", "delight", "cheer"),
    "sad": ("cry", "tears", "grief", "loss", "lost", "mourn", "weep", "wept", "sorrow",
            "funeral", "alone", "goodbye"),
    "epic": ("battle", "storm", "roar", "rise", "risen", "thunder", "war", "army", "charge",
             "triumph", "hero", "clash"),
    "calm": ("quiet", "gentle", "peace", "peaceful", "calm", "soft", "serene", "breeze",
             "hush", "slow"),
}

AMBIENCES: dict[Ambience, tuple[str, ...]] = {
    "rain": ("rain", "storm", "drizzle", "downpour", "thunder", "shower", "puddle"),
    "ocean": ("wave", "sea", "shore", "harbor", "harbour", "ocean", "beach", "tide", "surf"),
    "forest": ("forest", "woods", "tree", "trees", "jungle", "grove", "leaves"),
    "city": ("street", "traffic", "city", "car", "cars", "downtown", "avenue", "subway"),
    "night": ("night", "stars", "midnight", "moon", "moonlight", "owl", "cricket"),
    "fire": ("fire", "fireplace", "campfire", "flame", "hearth", "embers", "bonfire"),
    "crowd": ("crowd", "market", "cheering", "audience", "festival", "bazaar", "party"),
    "wind": ("wind", "gale", "gust", "windy", "howl"),
}

# Words that look like a speaker before a colon but never are one ("Note: ...", "Chapter 2: ...").
NOT_SPEAKERS: tuple[str, ...] = (
    "NOTE", "NOTES", "SFX", "FX", "SOUND", "MUSIC", "CHAPTER", "PART", "SCENE", "ACT",
    "EPISODE", "WARNING", "TIP", "NB", "PS", "TITLE", "SETTING", "LOCATION", "TIME", "PLACE",
    "SUMMARY", "LANGUAGE", "THE END", "INT", "EXT",
)

_SLUG = re.compile(r"^(INT\.?/EXT|INT/EXT|I/E|INT|EXT|EST)(?:\.|\s)\s*(.*)$", re.IGNORECASE)
_PREFIXES = {"INT": "interior", "EXT": "exterior", "EST": "exterior"}
_PART_SEPARATOR = re.compile(r"\s+(?:-+|–|—)\s+")
_WORD = re.compile(r"[^\W\d_]+")
_CUE = re.compile(
    r"^(?P<name>[^:：()]{1,60}?)\s*(?:\((?P<note>[^)]*)\))?\s*[:：]\s+(?P<text>\S.*)$")


def _forms(word: str) -> list[str]:
    forms = [word, word + "s", word + "es", word + "ed", word + "ing", word + "y"]
    if word.endswith("e"):
        forms += [word[:-1] + "ing", word + "d"]
    if word.endswith("y"):
        forms += [word[:-1] + "ies", word[:-1] + "ied"]
    return forms


def _index(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    index: dict[str, str] = {}
    for category, words in table.items():
        for word in words:
            for form in _forms(word):
                index.setdefault(form, category)
    return index


_MOOD_INDEX = _index(MOODS)
_AMBIENCE_INDEX = _index(AMBIENCES)


def _best(table: dict, index: dict[str, str], text: str) -> str | None:
    counts = dict.fromkeys(table, 0)
    for token in _WORD.findall(text.lower()):
        if token in index:
            counts[index[token]] += 1
    best = max(counts, key=counts.__getitem__)  # max keeps the first of equals: table order
    return best if counts[best] else None


def mood_of(text: str) -> Mood:
    """The mood whose words the text uses most; ``neutral`` when it uses none."""
    return _best(MOODS, _MOOD_INDEX, text) or "neutral"


def ambience_of(text: str, interior: bool = False) -> Ambience:
    """The ambience whose words the text uses most; ``room`` indoors, else ``none``."""
    return _best(AMBIENCES, _AMBIENCE_INDEX, text) or ("room" if interior else "none")


def is_slug(heading: str) -> bool:
    """True for an INT./EXT.-style scene heading."""
    return bool(_SLUG.match(heading.strip()))


def setting_of(heading: str, forced: bool = False) -> tuple[str, bool]:
    """``INT. LIGHTHOUSE - NIGHT`` → ``("interior, lighthouse, night", True)``.

    The bool says whether the place is indoors. A heading that is not INT./EXT.-style gives
    no setting unless ``forced`` (a Fountain ``.HEADING``), which keeps its parts as they are.
    """
    match = _SLUG.match(heading.strip())
    if match:
        prefix, rest = match.group(1).upper(), match.group(2)
        where = _PREFIXES.get(prefix, "interior and exterior")
        parts = [where] + _PART_SEPARATOR.split(rest.strip())
        return ", ".join(p.strip().lower() for p in parts if p.strip()), where == "interior"
    if forced and heading.strip():
        parts = _PART_SEPARATOR.split(heading.strip())
        return ", ".join(p.strip().lower() for p in parts if p.strip()), False
    return "", False


def speaker_cue(line: str) -> tuple[str, str | None, str] | None:
    """``HANK (quietly): Hello.`` → ``("HANK", "quietly", "Hello.")``; None if not a cue.

    A cue is 1-3 name words before a colon at the start of a line: letters only (plus
    ``' . -``), no sentence punctuation, each word capitalised or in a caseless script.
    """
    match = _CUE.match(line)
    if not match:
        return None
    words = match.group("name").split()
    if not 1 <= len(words) <= 3 or not all(_is_name_word(w) for w in words):
        return None
    name = " ".join(words).upper()
    if name in NOT_SPEAKERS or words[0].upper() in NOT_SPEAKERS:
        return None
    note = " ".join((match.group("note") or "").split()) or None
    return name, note, match.group("text")


def _is_name_word(word: str) -> bool:
    # Letters (with their marks) and ' . - only, starting with a capital or a caseless letter
    # (Arabic, Hebrew and CJK have no case, so any word of theirs may be a name).
    if not unicodedata.category(word[0]).startswith("L") or word[0].islower():
        return False
    return all(unicodedata.category(c)[0] in "LM" or c in "'’.-" for c in word)
