"""Pure: what FFmpeg's measuring filters print, and SRT text, read into numbers.

ffmpeg writes filter reports to stderr, at log level info:
- ebur128 (peak=true): a closing "Summary:" with "I: -16.0 LUFS", "LRA: 3.2 LU" and, under
  "True peak:", "Peak: -1.5 dBFS";
- blackdetect: "black_start:2 black_end:4.04 black_duration:2.04";
- freezedetect: "lavfi.freezedetect.freeze_start: 2", "...freeze_end: 4.04";
- silencedetect: "silence_start: 3.008", "silence_end: 5.01 | silence_duration: 2.0".
A stretch still open when the file ends has a start and no end: it ends at the file's end.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from vidgen_ray.errors import InputError

NUMBER = r"(-?(?:\d+(?:\.\d*)?|\.\d+)|-?inf|nan)"


@dataclass(frozen=True)
class Loudness:
    integrated: float  # LUFS
    range: float  # LU
    true_peak: float  # dBTP


@dataclass(frozen=True)
class Stretch:
    """A time span, in seconds from the start of the file."""

    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class SrtCue:
    index: int
    start: float
    end: float
    text: str


def parse_ebur128(log: str) -> Loudness:
    """The integrated loudness, loudness range and true peak from ebur128's summary."""
    _, found, summary = log.rpartition("Summary:")
    if not found:
        raise InputError("ffmpeg's ebur128 printed no summary: the file may have no audio")
    values = {}
    for key, pattern in (("integrated", rf"\bI:\s*{NUMBER} LUFS"),
                         ("range", rf"\bLRA:\s*{NUMBER} LU\b"),
                         ("true_peak", rf"True peak:\s*Peak:\s*{NUMBER} dBFS")):
        match = re.search(pattern, summary)
        if not match:
            raise InputError(f"ffmpeg's ebur128 summary has no {key.replace('_', ' ')}")
        values[key] = float(match.group(1))
    return Loudness(**values)


def _stretches(log: str, start_pattern: str, end_pattern: str,
               file_end: float) -> list[Stretch]:
    events = sorted([(m.start(), "start", float(m.group(1)))
                     for m in re.finditer(start_pattern, log)]
                    + [(m.start(), "end", float(m.group(1)))
                       for m in re.finditer(end_pattern, log)])
    out, opened = [], None
    for _, kind, seconds in events:
        if kind == "start":
            opened = seconds
        elif opened is not None:
            out.append(Stretch(max(0.0, opened), seconds))
            opened = None
    if opened is not None and file_end > opened:
        out.append(Stretch(max(0.0, opened), file_end))
    return out


def parse_black(log: str, file_end: float) -> list[Stretch]:
    """blackdetect prints start and end on one line."""
    found = [Stretch(float(a), float(b))
             for a, b in re.findall(rf"black_start:\s*{NUMBER}\s+black_end:\s*{NUMBER}", log)]
    return found or _stretches(log, rf"black_start:\s*{NUMBER}", r"$^", file_end)


def parse_freeze(log: str, file_end: float) -> list[Stretch]:
    return _stretches(log, rf"freezedetect\.freeze_start:\s*{NUMBER}",
                      rf"freezedetect\.freeze_end:\s*{NUMBER}", file_end)


def parse_silence(log: str, file_end: float) -> list[Stretch]:
    return _stretches(log, rf"silence_start:\s*{NUMBER}", rf"silence_end:\s*{NUMBER}",
                      file_end)


_SRT_TIME = r"(\d+):(\d{2}):(\d{2})[,.](\d{1,3})"


def _seconds(h: str, m: str, s: str, ms: str) -> float:
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms.ljust(3, "0")) / 1000


def parse_srt(text: str) -> list[SrtCue]:
    """SubRip cues in file order; a block without a valid time line is an error that names
    the block."""
    cues = []
    blocks = [b for b in re.split(r"\r?\n\s*\r?\n", text.lstrip("\ufeff").strip()) if b.strip()]
    for number, block in enumerate(blocks, 1):
        lines = block.strip().splitlines()
        at = next((i for i, line in enumerate(lines[:2]) if "-->" in line), None)
        match = re.match(rf"\s*{_SRT_TIME}\s*-->\s*{_SRT_TIME}", lines[at]) if at is not None \
            else None
        if match is None:
            raise InputError(f"subtitle block {number} has no 'HH:MM:SS,mmm --> HH:MM:SS,mmm' "
                             "line: check the .srt file")
        groups = match.groups()
        start, end = _seconds(*groups[:4]), _seconds(*groups[4:])
        cues.append(SrtCue(number, start, end, "\n".join(lines[at + 1:]).strip()))
    return cues


def finite(value: float) -> float | None:
    """JSON has no infinities: silence measures as -inf LUFS."""
    return value if math.isfinite(value) else None
