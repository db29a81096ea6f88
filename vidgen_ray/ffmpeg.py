"""Run ffmpeg and ffprobe, and read what they say about a file."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

from vidgen_ray.errors import DependencyError
from vidgen_ray.tools import find_tool, install_hint, run_capture, run_tool


def ffmpeg(args: list[str], timeout: float | None = None, loglevel: str = "error") -> str:
    """Run ffmpeg (no prompts, no banner, overwriting outputs); return its stderr, where
    filters such as loudnorm report (at loglevel "info")."""
    common = ["-hide_banner", "-nostdin", "-y", "-v", loglevel]
    return run_capture("ffmpeg", [*common, *args], timeout=timeout)[1].decode("utf-8", "replace")


def probe(path: Path) -> dict:
    """ffprobe's view of a media file: {'format': {...}, 'streams': [...]}."""
    out = run_tool("ffprobe", ["-v", "error", "-print_format", "json", "-show_format",
                               "-show_streams", str(path)])
    return json.loads(out)


def decode_errors(path: Path) -> str:
    """Decode every frame and sample; the errors ffmpeg reports (empty when the file is whole).
    Metadata alone passes a truncated file: this does not."""
    return run_capture("ffmpeg", ["-hide_banner", "-nostdin", "-v", "error", "-i", str(path),
                                  "-f", "null", "-"])[1].decode("utf-8", "replace").strip()


@functools.cache
def ffmpeg_version() -> str:
    first = run_tool("ffmpeg", ["-hide_banner", "-version"]).decode().splitlines()[0]
    return first.split(" Copyright")[0]


# ---- is this FFmpeg good enough? ------------------------------------------------------------

MIN_VERSION = (4, 4)
# Every filter the graphs use: chunks (assembly.py), the soundtrack (audio/), Bark's speed
# change (speech/bark.py). tests/hardening/test_machine_checks.py keeps it in step with them.
FILTERS = frozenset({
    "ass", "concat", "crop", "fade", "format", "fps", "loop", "overlay", "pad", "perspective",
    "scale", "setpts", "setsar", "settb", "split", "trim",
    "acompressor", "adelay", "aecho", "aevalsrc", "afade", "aformat", "alimiter", "aloop",
    "amix", "anoisesrc", "anullsrc", "apad", "aresample", "asetnsamples", "asplit", "atempo",
    "atrim", "bandpass", "compand", "highpass", "loudnorm", "lowpass", "sidechaincompress",
    "tremolo", "volume",
})


def parse_version(first_line: str) -> tuple[int, ...] | None:
    """(major, minor, ...) from ``ffmpeg -version``'s first line ("ffmpeg version 5.1.6-0+deb12u1
    ...", "ffmpeg version n4.4.2 ..."); None for a git build ("N-113-g...") or anything else,
    whose version cannot be told (then the filters decide)."""
    found = re.match(r"ffmpeg version n?(\d+)\.(\d+)(?:\.(\d+))?", first_line.strip())
    return tuple(int(n) for n in found.groups() if n is not None) if found else None


def parse_filters(listing: str) -> set[str]:
    """Filter names from ``ffmpeg -filters``: rows of flags, name, pads, description."""
    names = set()
    for row in listing.splitlines():
        fields = row.split()
        if len(fields) >= 3 and re.fullmatch(r"[.A-Z|]{2,3}", fields[0]) and "->" in fields[2]:
            names.add(fields[1])
    return names


def ffmpeg_problems(first_line: str, filters: set[str]) -> list[str]:
    """What makes this FFmpeg unfit for our renders: too old, or without filters we use."""
    problems = []
    version = parse_version(first_line)
    if version is not None and version < MIN_VERSION:
        problems.append(f"it is version {'.'.join(map(str, version))}, older than "
                        f"{'.'.join(map(str, MIN_VERSION))}")
    missing = sorted(FILTERS - filters)
    if missing:
        problems.append(f"it lacks the filter{'s' if len(missing) > 1 else ''} "
                        f"{', '.join(missing)}")
    return problems


@functools.cache
def check_ffmpeg() -> None:
    """Refuse, before any work, an FFmpeg older than 4.4 or missing a filter the renders use
    (DependencyError naming what and the fix). Asked once per process."""
    first_line = ffmpeg_version()
    listing = run_tool("ffmpeg", ["-hide_banner", "-filters"]).decode("utf-8", "replace")
    problems = ffmpeg_problems(first_line, parse_filters(listing))
    if problems:
        raise DependencyError(
            f"the ffmpeg on PATH ({find_tool('ffmpeg')}) cannot make our videos: "
            f"{'; '.join(problems)}: install FFmpeg {'.'.join(map(str, MIN_VERSION))} or "
            f"newer with those filters ({install_hint('ffmpeg')}; or a static build from "
            "https://ffmpeg.org/download.html first on PATH, with its ffprobe)")
