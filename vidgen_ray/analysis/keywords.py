"""Word tables and rules: a scene's mood, ambience and setting, and who is a speaker.

Mood and ambience read the tables of the script's language (lexicon.py: English, French,
German, Spanish, Italian, Portuguese), on text folded to lower case without accents. A
word's weight counts unless a negator comes just before it ("no rain", "sans pluie") or its
clause says it is over ("the storm had passed", "der Sturm war vorbei"). A loud word right
before a sound ("a roaring fire") describes that sound, not the mood. Ties go to the
earlier table entry, so the same text always gives the same answer.
"""

from __future__ import annotations

import re
import unicodedata

from vidgen_ray.analysis import lexicon
from vidgen_ray.storyboard import Ambience, Mood

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


def fold(text: str) -> str:
    """Lower case without accents: "Tempête" → "tempete", "Straße" → "strasse"."""
    text = unicodedata.normalize("NFKD", text.lower().replace("ß", "ss"))
    return "".join(c for c in text if not unicodedata.combining(c))


def _english_forms(word: str) -> list[str]:
    forms = [word, word + "s", word + "es", word + "ed", word + "ing", word + "y"]
    if word.endswith("e"):
        forms += [word[:-1] + "ing", word + "d"]
    if word.endswith("y"):
        forms += [word[:-1] + "ies", word[:-1] + "ied"]
    return forms


class _Table:
    """One language's words for one table: exact forms, stems and their weights."""

    def __init__(self, language: str, entries: dict[str, str]):
        self.order = list(entries)
        self.exact: dict[str, tuple[str, float]] = {}
        self.stems: list[tuple[str, str, float]] = []
        for category, words in entries.items():
            for entry in words.split():
                word, _, weight = entry.partition("=")
                value = float(weight or 1)
                word = fold(word)
                if word.endswith("*"):
                    self.stems.append((word[:-1], category, value))
                    continue
                forms = (_english_forms(word) if language == "en"
                         else [word + end for end in lexicon.SUFFIXES[language]])
                for form in forms:
                    self.exact.setdefault(form, (category, value))

    def match(self, token: str) -> tuple[str, float] | None:
        if token in self.exact:
            return self.exact[token]
        for stem, category, value in self.stems:
            if token.startswith(stem):
                return category, value
        return None


def _tables(source: dict[str, dict[str, str]]) -> dict[str, _Table]:
    return {language: _Table(language, entries) for language, entries in source.items()}


_MOODS = _tables(lexicon.MOODS)
_AMBIENCES = _tables(lexicon.AMBIENCES)
_NEGATORS = {lang: frozenset(words.split()) for lang, words in lexicon.NEGATORS.items()}
_OVER = {lang: re.compile(pattern) for lang, pattern in lexicon.OVER.items()}
_CONJUNCTIONS = {lang: frozenset(words.split()) for lang, words in lexicon.CONJUNCTIONS.items()}
_STOP_WORDS = {lang: frozenset(words.split()) for lang, words in lexicon.STOP_WORDS.items()}
_CLAUSE_END = re.compile(r"[.;:!?,()\[\]«»\"“”—–]+|\s-\s")


def language_for_keywords(language: str | None, text: str) -> str:
    """The keyword language for a script's language code ("pt-BR" → "pt"); detected from
    stop words when the code is empty, English when it is a language without tables."""
    primary = (language or "").split("-")[0].lower()
    if primary in lexicon.LANGUAGES:
        return primary
    return (detect_language(text) or "en") if not primary else "en"


def detect_language(text: str) -> str | None:
    """The language whose common short words the text uses most, if it clearly leads."""
    counts = dict.fromkeys(lexicon.LANGUAGES, 0)
    for token in _WORD.findall(fold(text)):
        for language, words in _STOP_WORDS.items():
            counts[language] += token in words
    ranked = sorted(counts.items(), key=lambda item: -item[1])
    (best, first), (_, second) = ranked[0], ranked[1]
    return best if first >= 3 and first >= 1.3 * second else None


def _clauses(text: str, language: str) -> list[list[str]]:
    clauses: list[list[str]] = []
    for part in _CLAUSE_END.split(fold(text)):
        over = bool(_OVER[language].search(part))
        clause: list[str] = []
        for token in _WORD.findall(part):
            if token in _CONJUNCTIONS[language]:
                clauses.append([] if over else clause)
                clause = []
            else:
                clause.append(token)
        # A clause saying "the storm had passed" names what is no longer there.
        clauses.append([] if over else clause)
    return clauses


def _best(table: _Table, text: str, language: str) -> str | None:
    scores = dict.fromkeys(table.order, 0.0)
    negators, sounds = _NEGATORS[language], _AMBIENCES[language]
    for clause in _clauses(text, language):
        since_negator = 99
        for index, token in enumerate(clause):
            since_negator = 0 if token in negators else since_negator + 1
            found = table.match(token)
            if not found or since_negator <= 3:  # "no rain", "without a sound of the sea"
                continue
            following = clause[index + 1] if index + 1 < len(clause) else ""
            if (found[0] == "epic" and following and sounds.match(following)
                    and not sounds.match(token)):
                continue  # "a roaring fire", "thundering waves": the sound, not the mood
            scores[found[0]] += found[1]
    best = max(scores, key=scores.__getitem__)  # max keeps the first of equals: table order
    return best if scores[best] > 0 else None


def mood_of(text: str, language: str | None = "en") -> Mood:
    """The mood whose words weigh most in the text; ``neutral`` when it uses none."""
    language = language_for_keywords(language, text)
    return _best(_MOODS[language], text, language) or "neutral"  # type: ignore[return-value]


def ambience_of(text: str, interior: bool = False, language: str | None = "en") -> Ambience:
    """The ambience whose words weigh most; ``room`` indoors, else ``none``."""
    language = language_for_keywords(language, text)
    found = _best(_AMBIENCES[language], text, language)
    return found or ("room" if interior else "none")  # type: ignore[return-value]


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
