"""Which font file draws a piece of text: a font per writing system.

Pillow draws a string with one font and no fallback, so the font must cover every letter
of it. Text is sorted by its main script (Arabic, Hebrew, Devanagari, Thai, Chinese,
Japanese, Korean, else Latin); that script's Noto font is used (Debian: fonts-noto-core and
fonts-noto-cjk, which scripts/install-system-deps.sh installs), unless it lacks some of the
text's letters and another candidate has them all (Arabic with an English name in it is
drawn with DejaVu Sans, which has both). Coverage is read from the font's cmap with
fontTools. Also the language tag for shaping (raqm/HarfBuzz pick local glyph forms by it).
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from pathlib import Path

# Where Debian/Ubuntu, Fedora, Arch and Homebrew put the Noto fonts.
NOTO_DIRS = (
    Path("/usr/share/fonts/truetype/noto"),
    Path("/usr/share/fonts/opentype/noto"),
    Path("/usr/share/fonts/noto"),
    Path("/usr/share/fonts/google-noto"),
    Path("/usr/share/fonts/google-noto-cjk"),
    Path("/usr/share/fonts/noto-cjk"),
    Path("/usr/local/share/fonts"),
    Path("/opt/homebrew/share/fonts"),
    Path("/Library/Fonts"),
    Path.home() / "Library" / "Fonts",
)

# script -> (regular file, bold file, face name inside a .ttc collection or "", language)
NOTO: dict[str, tuple[str, str, str, str]] = {
    "arabic": ("NotoSansArabic-Regular.ttf", "NotoSansArabic-Bold.ttf", "", "ar"),
    "hebrew": ("NotoSansHebrew-Regular.ttf", "NotoSansHebrew-Bold.ttf", "", "he"),
    "devanagari": ("NotoSansDevanagari-Regular.ttf", "NotoSansDevanagari-Bold.ttf", "", "hi"),
    "thai": ("NotoSansThai-Regular.ttf", "NotoSansThai-Bold.ttf", "", "th"),
    "chinese": ("NotoSansCJK-Regular.ttc", "NotoSansCJK-Bold.ttc", "Noto Sans CJK SC", "zh"),
    "japanese": ("NotoSansCJK-Regular.ttc", "NotoSansCJK-Bold.ttc", "Noto Sans CJK JP", "ja"),
    "korean": ("NotoSansCJK-Regular.ttc", "NotoSansCJK-Bold.ttc", "Noto Sans CJK KR", "ko"),
    "latin": ("NotoSans-Regular.ttf", "NotoSans-Bold.ttf", "", "en"),
}

# (first, last, script) code point ranges of the letters that decide a text's script.
RANGES = (
    (0x0590, 0x05FF, "hebrew"), (0xFB1D, 0xFB4F, "hebrew"),
    (0x0600, 0x06FF, "arabic"), (0x0750, 0x077F, "arabic"), (0x08A0, 0x08FF, "arabic"),
    (0xFB50, 0xFDFF, "arabic"), (0xFE70, 0xFEFF, "arabic"),
    (0x0900, 0x097F, "devanagari"), (0xA8E0, 0xA8FF, "devanagari"),
    (0x0E00, 0x0E7F, "thai"),
    (0x3040, 0x30FF, "kana"), (0x31F0, 0x31FF, "kana"), (0xFF66, 0xFF9F, "kana"),
    (0x1100, 0x11FF, "hangul"), (0x3130, 0x318F, "hangul"), (0xAC00, 0xD7AF, "hangul"),
    (0x3400, 0x4DBF, "han"), (0x4E00, 0x9FFF, "han"), (0xF900, 0xFAFF, "han"),
    (0x20000, 0x3134F, "han"),
)


@dataclass(frozen=True)
class FontFace:
    """One face of a font file (.ttc collections hold several)."""

    path: Path
    index: int = 0

    @property
    def name(self) -> str:
        return f"{self.path.name}#{self.index}" if self.index else self.path.name


def _script_of_char(char: str) -> str | None:
    code = ord(char)
    for first, last, script in RANGES:
        if first <= code <= last:
            return script
    return "latin" if unicodedata.category(char).startswith("L") else None


def script_of(text: str) -> str:
    """The text's main writing system, one of NOTO's keys. Kana makes Han text Japanese and
    Hangul makes it Korean; Han alone reads as Chinese."""
    counts: dict[str, int] = {}
    for char in text:
        script = _script_of_char(char)
        if script:
            counts[script] = counts.get(script, 0) + 1
    if counts.get("kana"):
        return "japanese"
    if counts.get("hangul"):
        return "korean"
    counts["chinese"] = counts.pop("han", 0)
    best = max(counts, key=lambda s: (counts[s], s != "latin"), default="latin")
    return best if counts[best] else "latin"


def language_of(text: str) -> str:
    """BCP 47 language tag for shaping the text (its script's usual language)."""
    return NOTO[script_of(text)][3]


@functools.cache
def find_noto(script: str, bold: bool) -> FontFace | None:
    """The installed Noto face for a script, or None."""
    regular, heavy, face_name, _ = NOTO[script]
    for folder in NOTO_DIRS:
        path = folder / (heavy if bold else regular)
        if path.is_file():
            return FontFace(path, _face_index(path, face_name))
    return None


def _face_index(path: Path, face_name: str) -> int:
    if not face_name:
        return 0
    from fontTools.ttLib import TTCollection

    collection = TTCollection(str(path), lazy=True)
    for index, font in enumerate(collection.fonts):
        if font["name"].getDebugName(1) == face_name:
            return index
    return 0


@functools.lru_cache(maxsize=32)
def _cmap(face: FontFace) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    font = TTFont(str(face.path), fontNumber=face.index, lazy=True)
    return frozenset(font.getBestCmap() or ())


def covers(face: FontFace, text: str) -> bool:
    """Whether the face has a glyph for every visible character of text."""
    cmap = _cmap(face)
    return all(ord(c) in cmap for c in text
               if not (c.isspace() or unicodedata.category(c) in ("Cf", "Cc", "Zs")))


def face_for(text: str, bold: bool, base: Path | None) -> FontFace | None:
    """The face to draw text with: the base font (DejaVu Sans or the user's) for Latin text,
    the script's Noto font otherwise; the first candidate that covers every character wins,
    else the first one found (some letters then show as boxes)."""
    script = script_of(text)
    candidates = [find_noto(script, bold)] if script != "latin" else []
    candidates += [FontFace(base) if base else None, find_noto("latin", bold)]
    candidates += [find_noto(s, bold) for s in ("japanese", "arabic", "devanagari")]
    found = [face for face in dict.fromkeys(candidates) if face is not None]
    for face in found:
        if covers(face, text):
            return face
    return found[0] if found else None


def _run_script(char: str) -> str | None:
    """The script a character ties its run to; None for spaces, digits, punctuation and
    marks, which go with the run they are in. One CJK font draws kana, Han and Hangul."""
    script = _script_of_char(char)
    if script == "latin" or script is None:  # a script's own signs (the danda) keep theirs
        script = None if unicodedata.category(char)[0] in "MNPSZC" else script
    return "cjk" if script in ("kana", "han", "hangul") else script


def font_runs(text: str, bold: bool, base: Path | None) -> list[tuple[str, FontFace | None]]:
    """The text in runs, each with a face that covers it: one run when one font covers the
    whole text (so it is shaped as one), else a run per change of script (Hindi with an
    English word in it: Noto Sans Devanagari has no Latin letters)."""
    whole = face_for(text, bold, base)
    if whole is None or covers(whole, text):
        return [(text, whole)]
    pieces: list[list] = []  # [text, script]
    for char in text:
        script = _run_script(char)
        if pieces and (script is None or pieces[-1][1] in (None, script)):
            pieces[-1][0] += char
            pieces[-1][1] = pieces[-1][1] or script
        else:
            pieces.append([char, script])
    runs: list[tuple[str, FontFace | None]] = []
    for piece, _ in pieces:
        face = face_for(piece, bold, base)
        if runs and runs[-1][1] == face:
            runs[-1] = (runs[-1][0] + piece, face)
        else:
            runs.append((piece, face))
    return runs
