"""Pure: subtitle cues to SRT, WebVTT and ASS (for burning in) text.

Captions follow the timed-text rules (subtitle_rules.py): at most two lines of 42
characters; a longer spoken line becomes several cues over its time, split at sentence or
clause ends where it can, each lasting in proportion to its characters; orphans are merged,
short cues kept up longer, and no cue runs across a scene cut.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from vidgen_ray.config import RenderSettings
from vidgen_ray.pipeline import subtitle_rules
from vidgen_ray.storyboard import NARRATOR
from vidgen_ray.timeline import Cue, Timeline

LINE_WIDTH = subtitle_rules.MAX_CHARS  # characters per subtitle line
MAX_LINES = subtitle_rules.MAX_LINES
ASS_HEIGHT = 1080  # subtitle sizes are given in pixels of a 1080-line frame
Cues = list[Cue] | tuple[Cue, ...]


@dataclass(frozen=True)
class Caption:
    """What one subtitle shows, and when."""

    start: float
    end: float
    lines: tuple[str, ...]


def scene_cuts(timeline: Timeline, next_fade: int | None = None) -> list[float]:
    """Where each scene gives way to the next (seconds): the middle of a transition, where
    the pictures are half and half, or the frame after a cut or a fade to black.
    ``next_fade``: for a timeline of the first scenes only (chunks made while later scenes
    are voiced), the frames the next scene's transition will overlap its last clip, so its
    last cut is known, and its captions are those of the whole timeline."""
    cuts = [(clip.start + clip.fade_in / 2) / timeline.fps for clip in timeline.clips[1:]]
    if next_fade is not None and timeline.clips:
        cuts.append((timeline.clips[-1].end - next_fade + next_fade / 2) / timeline.fps)
    return cuts


def plan(cues: Cues, *, fps: float = 30, max_cps: float = subtitle_rules.MAX_CPS,
         scene_cuts: Iterable[float] = (), speakers: bool = False) -> list[Caption]:
    """The captions for spoken lines, to the timed-text rules (subtitle_rules.py): each line
    split into cues of at most two lines, sharing its time in proportion to their
    characters; orphans merged, short cues kept up longer, 2 frames between cues. What the
    rules still find wrong is for ``check_cues`` to report."""
    rules = subtitle_rules.Rules(fps=fps, max_cps=max_cps)
    timed: list[subtitle_rules.Timed] = []
    previous = None
    for cue in sorted(cues, key=lambda c: c.start):
        text = " ".join(cue.text.split()) or cue.text
        # SDH style: a character is named where their turn begins (narration is not
        # dialogue: it goes unnamed); the name takes room on the first cue.
        named = speakers and cue.speaker not in (previous, NARRATOR)
        pieces = subtitle_rules.split_text(text, cue.end - cue.start, rules,
                                           f"{cue.speaker}: " if named else "")
        total = sum(len(p) + 1 for p in pieces)
        start, done = cue.start, 0
        for n, piece in enumerate(pieces):
            done += len(piece) + 1
            end = cue.start + (cue.end - cue.start) * done / total
            timed.append(subtitle_rules.Timed(start, end, [(cue.speaker, piece)], cue.scene,
                                              {0} if named and n == 0 else set()))
            start = end
        previous = cue.speaker
    return [Caption(t.start, t.end, tuple(t.shown(rules)))
            for t in subtitle_rules.retime(timed, rules, scene_cuts)]


def captions(cues: Cues, **options) -> list[Caption]:
    """Every cue as one or more captions of at most two lines (``plan``'s options)."""
    return plan(cues, **options)


def timeline_captions(timeline: Timeline, settings: RenderSettings) -> list[Caption]:
    """A render's captions, with its frame rate, scene cuts and subtitle settings."""
    return plan(timeline.cues, fps=timeline.fps, max_cps=settings.subtitle_max_cps,
                scene_cuts=scene_cuts(timeline), speakers=settings.subtitle_speakers)


def _stamp(seconds: float, separator: str) -> str:
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{separator}{ms:03d}"


def _shown(items: Sequence[Caption] | Cues) -> Sequence[Caption]:
    """Captions as given, or made from spoken-line cues with the default rules."""
    return captions(items) if items and isinstance(items[0], Cue) else items


def format_srt(cues: Sequence[Caption] | Cues) -> str:
    blocks = [
        f"{n}\n{_stamp(c.start, ',')} --> {_stamp(c.end, ',')}\n" + "\n".join(c.lines) + "\n"
        for n, c in enumerate(_shown(cues), 1)
    ]
    return "\n".join(blocks)


def format_vtt(cues: Sequence[Caption] | Cues) -> str:
    blocks = [
        f"{_stamp(c.start, '.')} --> {_stamp(c.end, '.')}\n" + "\n".join(c.lines) + "\n"
        for c in _shown(cues)
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


def format_ass(cues: Sequence[Caption] | Cues, settings: RenderSettings,
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
    margin, side = round(height * 0.06), round(min(width, height) * 0.06)
    font_size, shown = _fit_width(_shown(cues), font_size, width - 2 * side - 2 * outline)
    style = (f"Style: Default,{settings.subtitle_font},{font_size},&H00FFFFFF,&H000000FF,"
             f"{outline_colour},&H80000000,0,0,0,0,100,100,0,0,{border},{outline},0,"
             f"{alignment},{side},{side},{margin},1")
    events = [f"Dialogue: 0,{_ass_time(c.start)},{_ass_time(c.end)},Default,,0,0,0,,"
              + "\\N".join(_ass_text(line) for line in c.lines) for c in shown]
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


GLYPH_EM = 0.55  # a generous average advance of a sans-serif letter, in ems
MAX_BURN_LINES = 4  # a narrow frame may break a caption into this many lines


def _fit_width(captions: Sequence[Caption], font_size: int,
               room: float) -> tuple[int, Sequence[Caption]]:
    """Captions whose lines fit ``room`` pixels (ASS does not wrap here: WrapStyle 2): as
    they are when they fit, else broken again into shorter lines (a 9:16 frame holds about
    half a 16:9 line), and the font made smaller only if that needs too many lines."""
    longest = max((len(line) for c in captions for line in c.lines), default=0)
    if longest * font_size * GLYPH_EM <= room:
        return font_size, captions
    while True:
        per_line = max(8, int(room / (font_size * GLYPH_EM)))
        # Each line apart: a two-speaker cue keeps one "- NAME: ..." turn per line start.
        broken = [replace(c, lines=tuple(part for line in c.lines
                                         for part in _break(line, per_line)))
                  for c in captions]
        if font_size <= 8 or all(len(c.lines) <= MAX_BURN_LINES for c in broken):
            return font_size, broken
        font_size = max(8, int(font_size * 0.9))


def _break(text: str, per_line: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= per_line:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def burn_script(cues: Cues, fps: int, start: int, end: int, settings: RenderSettings,
                size: tuple[int, int], scene_cuts: Iterable[float] = ()) -> str:
    """The ASS script for frames [start, end): only the captions shown there, cut to them.
    A scene's captions depend only on its own lines and cuts (see ``scene_cuts``), so a
    chunk made before later scenes were voiced is the same chunk, with the same key, as
    one made after."""
    lo, hi = start / fps, end / fps
    shown = [replace(c, start=max(c.start, lo), end=min(c.end, hi))
             for c in plan(cues, fps=fps, max_cps=settings.subtitle_max_cps,
                           scene_cuts=scene_cuts, speakers=settings.subtitle_speakers)
             if c.start * fps < end and c.end * fps > start]
    return format_ass(shown, settings, size)
