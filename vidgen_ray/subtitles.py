"""Pure: subtitle cues to SRT and WebVTT text."""

from __future__ import annotations

import textwrap

from vidgen_ray.timeline import Cue

LINE_WIDTH = 42  # characters per subtitle line: the common broadcast guideline


def _stamp(seconds: float, separator: str) -> str:
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{separator}{ms:03d}"


def _wrap(text: str) -> str:
    return "\n".join(textwrap.wrap(" ".join(text.split()), LINE_WIDTH)) or text


def format_srt(cues: list[Cue] | tuple[Cue, ...]) -> str:
    blocks = [
        f"{n}\n{_stamp(c.start, ',')} --> {_stamp(c.end, ',')}\n{_wrap(c.text)}\n"
        for n, c in enumerate(cues, 1)
    ]
    return "\n".join(blocks)


def format_vtt(cues: list[Cue] | tuple[Cue, ...]) -> str:
    blocks = [
        f"{_stamp(c.start, '.')} --> {_stamp(c.end, '.')}\n{_wrap(c.text)}\n" for c in cues
    ]
    return "WEBVTT\n\n" + "\n".join(blocks)
