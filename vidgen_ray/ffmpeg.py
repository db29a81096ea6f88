"""Run ffmpeg and ffprobe, and read what they say about a file."""

from __future__ import annotations

import functools
import json
from pathlib import Path

from vidgen_ray.tools import run_capture, run_tool


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
