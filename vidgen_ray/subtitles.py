"""Pure: subtitle cues to SRT, WebVTT and ASS (for burning in) text.

A cue shows at most two lines of about 42 characters; a longer spoken line becomes several
cues over its time, split at sentence or clause ends where it can, each lasting in
proportion to its characters.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from vidgen_ray.config import RenderSettings
from vidgen_ray.timeline import Cue

LINE_WIDTH = 42  # characters per subtitle line: the common broadcast guideline
MAX_LINES = 2
CLAUSE_ENDS = ".!?;:,"
ASS_HEIGHT = 1080  # subtitle sizes are given in pixels of a 1080-line frame


@dataclass(frozen=True)
class Caption:
    """What one subtitle shows, and when."""

    start: float
    end: float
    lines: tuple[str, ...]


def _wrap(text: str) -> list[str]:
    return textwrap.wrap(text, LINE_WIDTH, break_long_words=True) or [text]


def _pieces(text: str) -> list[str]:
    """Split text into pieces of at most MAX_LINES wrapped lines, at a clause end when one
    falls in the second half of what fits."""
    words, pieces = text.split(), []
    while words:
        fits = 1
        while fits < len(words) and len(_wrap(" ".join(words[:fits + 1]))) <= MAX_LINES:
            fits += 1
        if fits < len(words):
            fits = next((j for j in range(fits, 0, -1)
                         if words[j - 1][-1] in CLAUSE_ENDS and j * 2 >= fits), fits)
        pieces.append(" ".join(words[:fits]))
        words = words[fits:]
    return pieces


def captions(cues: list[Cue] | tuple[Cue, ...]) -> list[Caption]:
    """Every cue as one or more captions of at most two lines, tiling the cue's time."""
    out = []
    for cue in cues:
        pieces = _pieces(" ".join(cue.text.split()) or cue.text)
        total = sum(len(p) for p in pieces)
        start, done = cue.start, 0
        for piece in pieces:
            done += len(piece)
            end = cue.start + (cue.end - cue.start) * done / total
            # A word longer than a line still wraps to more: cut it, never drop text.
            lines = _wrap(piece)
            if len(lines) > MAX_LINES:
                lines = [lines[0], " ".join(lines[1:])]
            out.append(Caption(start, end, tuple(lines)))
            start = end
    return out


def _stamp(seconds: float, separator: str) -> str:
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{separator}{ms:03d}"


def format_srt(cues: list[Cue] | tuple[Cue, ...]) -> str:
    blocks = [
        f"{n}\n{_stamp(c.start, ',')} --> {_stamp(c.end, ',')}\n" + "\n".join(c.lines) + "\n"
        for n, c in enumerate(captions(cues), 1)
    ]
    return "\n".join(blocks)


def format_vtt(cues: list[Cue] | tuple[Cue, ...]) -> str:
    blocks = [
        f"{_stamp(c.start, '.')} --> {_stamp(c.end, '.')}\n" + "\n".join(c.lines) + "\n"
        for c in captions(cues)
    ]
    return "WEBVTT\n\n" + "\n".join(blocks)


def _ass_time(seconds: float) -> str:
    cs = round(seconds * 100)
    h, rest = divmod(cs, 360_000)
    m, rest = divmod(rest, 6000)
    s, cs = divmod(rest, 100)
    return f"{h}:{m:02d}:{s:02d}.{cs:02d}"


def _ass_text(line: str) -> str:
    # Braces start override tags and a backslash an escape in ASS: show them as typed.
    return line.replace("\\", "\u29f5").replace("{", "(").replace("}", ")")


def format_ass(cues: list[Cue] | tuple[Cue, ...], settings: RenderSettings,
               size: tuple[int, int]) -> str:
    """An ASS script in the frame's own pixels, styled by the subtitle_* settings."""
    width, height = size
    scale = height / ASS_HEIGHT
    font_size = max(1, round(settings.subtitle_size * scale))
    outline = round(settings.subtitle_outline * scale, 2)
    # BorderStyle 3 draws an opaque box (in OutlineColour) instead of an outline.
    border, outline_colour = (3, "&H60000000") if settings.subtitle_box else (1, "&H00000000")
    if settings.subtitle_box:
        outline = max(outline, round(font_size * 0.2, 2))  # the box's padding
    alignment = 8 if settings.subtitle_position == "top" else 2
    margin = round(height * 0.06)
    style = (f"Style: Default,{settings.subtitle_font},{font_size},&H00FFFFFF,&H000000FF,"
             f"{outline_colour},&H80000000,0,0,0,0,100,100,0,0,{border},{outline},0,"
             f"{alignment},{margin},{margin},{margin},1")
    events = [f"Dialogue: 0,{_ass_time(c.start)},{_ass_time(c.end)},Default,,0,0,0,,"
              + "\\N".join(_ass_text(line) for line in c.lines) for c in captions(cues)]
    return "\n".join([
        "[Script Info]", "ScriptType: v4.00+", f"PlayResX: {width}", f"PlayResY: {height}",
        "WrapStyle: 2", "ScaledBorderAndShadow: yes", "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, "
        "BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, "
        "BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding",
        style, "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
        *events, ""])


def burn_script(cues: list[Cue] | tuple[Cue, ...], fps: int, start: int, end: int,
                settings: RenderSettings, size: tuple[int, int]) -> str:
    """The ASS script for frames [start, end): only the lines shown there, so a chunk made
    before later scenes were voiced is the same chunk, with the same key, as one made after."""
    shown = [c for c in cues if c.start * fps < end and c.end * fps > start]
    return format_ass(shown, settings, size)
