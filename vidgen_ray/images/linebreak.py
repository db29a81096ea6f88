"""Where a line of text may break, per writing system (pure, plus libthai when present).

Most scripts break at spaces. Chinese and Japanese have none: a line may break between
any two characters, except that closing punctuation and small kana never start a line and
opening brackets never end one (kinsoku). Thai has no spaces between words either: its
words come from libthai's dictionary when the library is installed, else the text breaks
between grapheme clusters. No break ever falls inside a cluster (a letter and its marks, a
Devanagari conjunct, a Thai leading vowel and its consonant). Right-to-left text is kept
in logical order here; the shaper (raqm) orders each line for display.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import unicodedata
from collections.abc import Callable

# A piece of a line: its text, and whether a space separates it from the piece before.
Piece = tuple[str, bool]

NO_LINE_START = set("、。，．,.!?！？:;：；)）]］}｝〕〉》」』】〙〗〟’”ヽヾー"
                    "ァィゥェォッャュョヮヵヶぁぃぅぇぉっゃゅょゎゕゖ"
                    "ㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ々〻‐゠–〜～…‥")
NO_LINE_END = set("(（[［{｛〔〈《「『【〘〖〝‘“")
VIRAMAS = {"\u094d"}  # Devanagari: a virama joins its consonant to the next one
THAI_LEADING_VOWELS = set("\u0e40\u0e41\u0e42\u0e43\u0e44")
THAI_FOLLOWERS = set("\u0e33\u0e45")  # sara am, lakkhangyao: never begin a cluster
JOINERS = {"\u200c", "\u200d"}


def is_ideographic(char: str) -> bool:
    """Chinese/Japanese characters, between which a line may break."""
    code = ord(char)
    return (0x2E80 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0xFF00 <= code <= 0xFF9F
            or 0x20000 <= code <= 0x3134F) and not (0x3130 <= code <= 0x318F)


def is_thai(char: str) -> bool:
    return 0x0E00 <= ord(char) <= 0x0E7F


def clusters(text: str) -> list[str]:
    """Text cut into grapheme clusters (extended: marks, joiners and conjuncts stay with
    their base letter), an approximation of UAX #29 that needs no library."""
    out: list[str] = []
    for char in text:
        joined = out and (
            unicodedata.category(char) in ("Mn", "Mc", "Me") or char in JOINERS
            or char in THAI_FOLLOWERS or out[-1][-1] in JOINERS
            or (out[-1][-1] in VIRAMAS and unicodedata.category(char) == "Lo")
            or out[-1][-1] in THAI_LEADING_VOWELS)
        if joined:
            out[-1] += char
        else:
            out.append(char)
    return out


@functools.lru_cache(maxsize=1)
def _libthai():
    name = ctypes.util.find_library("thai")
    if not name:
        return None
    try:
        lib = ctypes.CDLL(name)
        lib.th_brk_new.restype = ctypes.c_void_p
        lib.th_brk_new.argtypes = [ctypes.c_char_p]
        lib.th_brk_wc_find_breaks.restype = ctypes.c_int
        lib.th_brk_wc_find_breaks.argtypes = [ctypes.c_void_p, ctypes.c_wchar_p,
                                              ctypes.POINTER(ctypes.c_int), ctypes.c_size_t]
        breaker = lib.th_brk_new(None)  # libthai's own dictionary
    except (OSError, AttributeError):
        return None
    return (lib, breaker) if breaker else None


def thai_words(text: str) -> list[str]:
    """Thai text cut into words by libthai's dictionary, or into clusters without it."""
    thai = _libthai()
    if thai is None or ctypes.sizeof(ctypes.c_wchar) != 4:
        return clusters(text)
    lib, breaker = thai
    positions = (ctypes.c_int * (len(text) + 1))()
    count = lib.th_brk_wc_find_breaks(breaker, text, positions, len(text) + 1)
    cuts = [0, *sorted(p for p in positions[:max(0, count)] if 0 < p < len(text)), len(text)]
    return [text[a:b] for a, b in zip(cuts, cuts[1:], strict=False) if b > a]


def _word_units(word: str) -> list[str]:
    """Units of one space-free word between which a line may break."""
    units: list[str] = []
    run = ""  # characters that break nowhere among themselves (Latin inside CJK, Thai)
    for cluster in clusters(word):
        if is_ideographic(cluster[0]) or cluster[0] in NO_LINE_START | NO_LINE_END:
            if run:
                units += thai_words(run) if is_thai(run[0]) else [run]
                run = ""
            units.append(cluster)
        elif run and is_thai(run[0]) != is_thai(cluster[0]):
            units += thai_words(run) if is_thai(run[0]) else [run]
            run = cluster
        else:
            run += cluster
    if run:
        units += thai_words(run) if is_thai(run[0]) else [run]
    return _kinsoku(units)


def _kinsoku(units: list[str]) -> list[str]:
    out: list[str] = []
    for unit in units:
        if out and (unit[0] in NO_LINE_START or out[-1][-1] in NO_LINE_END):
            out[-1] += unit
        else:
            out.append(unit)
    return out


def pieces(text: str) -> list[Piece]:
    """The text as pieces a line may break between, each flagged when a space precedes it."""
    out: list[Piece] = []
    for word in text.split():
        for n, unit in enumerate(_word_units(word)):
            out.append((unit, n == 0 and bool(out)))
    return out


def join(pieces_: list[Piece]) -> str:
    return "".join((" " if space and n else "") + text for n, (text, space) in
                   enumerate(pieces_))


def is_rtl(text: str) -> bool:
    """Whether the first strongly directional character reads right to left."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False


def wrap_text(text: str, measure: Callable[[str], float], max_width: float,
              max_lines: int) -> list[str]:
    """Greedy wrap into at most max_lines lines no wider than max_width, breaking where the
    script allows (spaces; between CJK characters; Thai words); a piece wider than a line
    is split between grapheme clusters; cut text ends with '…'."""
    if max_lines <= 0:
        return []
    lines: list[str] = []
    current: list[Piece] = []
    for word, space in pieces(text):
        for n, piece in enumerate(_split_long(word, measure, max_width)):
            candidate = [*current, (piece, space and n == 0)]
            if measure(join(candidate)) <= max_width:
                current = candidate
                continue
            lines.append(join(current))
            current = [(piece, False)]
        if len(lines) > max_lines:  # enough to know it will be cut
            break
    if current:
        lines.append(join(current))
    lines = [line for line in lines if line]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = ellipsise(lines[-1] + " …", measure, max_width)
    return lines


def ellipsise(text: str, measure: Callable[[str], float], max_width: float) -> str:
    """The text if it fits, else as much as fits followed by '…'."""
    if measure(text) <= max_width:
        return text
    kept = clusters(text.rstrip(" …"))
    while kept and measure("".join(kept) + "…") > max_width:
        kept.pop()
        while kept and kept[-1].isspace():
            kept.pop()
    return "".join(kept) + "…"


def _split_long(word: str, measure: Callable[[str], float], max_width: float) -> list[str]:
    if measure(word) <= max_width:
        return [word]
    pieces, current = [], ""
    for cluster in clusters(word):
        if current and measure(current + cluster) > max_width:
            pieces.append(current)
            current = ""
        current += cluster
    return [*pieces, current]
