"""External programs (ffmpeg, ffprobe, espeak-ng): find them, run them, explain failures,
and read what ffmpeg and ffprobe say about a file. The one module that starts a program."""

from __future__ import annotations

import contextlib
import functools
import json
import platform
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

from vidgen_ray.errors import DependencyError, ToolError

# Which package provides each program, per package manager.
_PACKAGES = {
    "ffmpeg": {"apt-get": "ffmpeg", "brew": "ffmpeg"},
    "ffprobe": {"apt-get": "ffmpeg", "brew": "ffmpeg"},
    "espeak-ng": {"apt-get": "espeak-ng", "brew": "espeak-ng"},
}


def install_hint(program: str) -> str:
    packages = _PACKAGES.get(program, {})
    if platform.system() == "Darwin":
        return f"install it with: brew install {packages.get('brew', program)}"
    if shutil.which("apt-get"):
        return f"install it with: sudo apt-get install {packages.get('apt-get', program)}"
    return f"install {program} with your system's package manager, then put it on PATH"


@functools.cache
def find_tool(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        raise DependencyError(f"{program} is not installed or not on PATH: {install_hint(program)}")
    return path


def run_tool(program: str, args: list[str], *, input: bytes | None = None,
             timeout: float | None = None) -> bytes:
    """Run a program to completion and return its stdout; a failure raises ToolError."""
    return run_capture(program, args, input=input, timeout=timeout)[0]


def run_capture(program: str, args: list[str], *, input: bytes | None = None,
                timeout: float | None = None) -> tuple[bytes, bytes]:
    """Like run_tool, but return (stdout, stderr): ffmpeg reports measurements on stderr."""
    command = [find_tool(program), *args]
    try:
        code, out, err = _interruptible(command, input, timeout)
    except subprocess.TimeoutExpired as exc:
        raise ToolError(program, args, -1, f"timed out after {timeout} s") from exc
    if code != 0:
        raise ToolError(program, args, code, err.decode("utf-8", "replace"))
    return out, err


def _interruptible(command: list[str], input: bytes | None, timeout: float | None
                   ) -> tuple[int, bytes, bytes]:
    """subprocess.run, but waiting in short slices: Ray cancels a task by raising
    KeyboardInterrupt between Python steps, which a single long wait would only see once the
    program ended. Any exception kills the program before it is raised."""
    deadline = None if timeout is None else time.monotonic() + timeout
    with subprocess.Popen(command, stdin=subprocess.PIPE if input is not None else None,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        if input is not None:
            # Fed by a thread, not by communicate(): a communicate() call that times out
            # before all input is written does not write the rest on the next call (CPython
            # only watches stdin when that call passes input, which a retry may not), so
            # input over a pipe's 64 KB hung until the timeout.
            stdin, process.stdin = process.stdin, None
            threading.Thread(target=_feed, args=(stdin, input), daemon=True).start()
        try:
            while True:
                left = 0.2 if deadline is None else deadline - time.monotonic()
                try:
                    out, err = process.communicate(timeout=max(0.0, min(0.2, left)))
                    return process.returncode, out, err
                except subprocess.TimeoutExpired:
                    if deadline is not None and time.monotonic() >= deadline:
                        raise
        except BaseException:
            process.kill()
            process.wait()
            raise


def _feed(stdin, data: bytes) -> None:
    """Write all of ``data`` to a program's stdin, then close it (a program that exits early,
    or is killed, closes the pipe: nothing more to write)."""
    try:
        with contextlib.suppress(OSError, ValueError):  # BrokenPipeError is an OSError
            stdin.write(data)
    finally:
        with contextlib.suppress(OSError):
            stdin.close()

# ---- ffmpeg and ffprobe ----------------------------------------------------------------------


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
# Every filter the graphs use: chunks (assembly.py, camera.py), fitted clips (clip_fit.py),
# the soundtrack (audio/), Bark's speed change (speech/bark.py).
# tests/hardening/test_machine_checks.py keeps it in step with them.
FILTERS = frozenset({
    "ass", "concat", "crop", "fade", "fillborders", "format", "fps", "loop", "overlay", "pad",
    "scale", "sendcmd", "setpts", "setsar", "settb", "split", "tpad", "trim",
    "acompressor", "adelay", "aecho", "aevalsrc", "afade", "aformat", "alimiter", "aloop",
    "amix", "anoisesrc", "anullsrc", "apad", "aresample", "asetnsamples", "asplit", "atempo",
    "atrim", "bandpass", "compand", "highpass", "loudnorm", "lowpass", "sidechaincompress",
    "tremolo", "volume",
})


# Sizes that change every frame, as the camera moves make them (pipeline/camera.py): crop's
# size set by sendcmd's [expr] commands, scale's from each frame's time (eval=frame, t). A
# build with every filter may still lack these options: a tiny trial (3 frames) tells.
FRAME_SIZING_TRIAL = [
    "-hide_banner", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "color=s=64x64:r=30:d=0.1",
    "-vf", "sendcmd=c='0 [expr] crop@trial w 32+2*floor(T*30)',crop@trial=w=64:h=64,"
    "scale=w=16+2*floor(t*30):h=16:eval=frame,crop=w=16:h=16",
    "-f", "rawvideo", "-pix_fmt", "gray", "-"]
FRAME_SIZING_BYTES = 3 * 16 * 16


def sizes_each_frame() -> bool:
    """Whether this FFmpeg runs FRAME_SIZING_TRIAL and makes its three 16x16 frames."""
    try:
        out, _ = run_capture("ffmpeg", FRAME_SIZING_TRIAL, timeout=30)
    except ToolError:
        return False
    return len(out) == FRAME_SIZING_BYTES


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


def ffmpeg_problems(first_line: str, filters: set[str], sizes_frames: bool = True) -> list[str]:
    """What makes this FFmpeg unfit for our renders: too old, without filters we use, or
    (``sizes_frames`` False) unable to size each frame as the camera moves do."""
    problems = []
    version = parse_version(first_line)
    if version is not None and version < MIN_VERSION:
        problems.append(f"it is version {'.'.join(map(str, version))}, older than "
                        f"{'.'.join(map(str, MIN_VERSION))}")
    missing = sorted(FILTERS - filters)
    if missing:
        problems.append(f"it lacks the filter{'s' if len(missing) > 1 else ''} "
                        f"{', '.join(missing)}")
    elif not sizes_frames:  # with a filter missing, the trial fails anyway
        problems.append("its crop and scale cannot change size every frame (sendcmd's "
                        "[expr] commands, scale's eval=frame with t), as camera moves need")
    return problems


@functools.cache
def check_ffmpeg() -> None:
    """Refuse, before any work, an FFmpeg older than 4.4, missing a filter the renders use or
    unable to size frames as they do (DependencyError naming what and the fix). Asked once
    per process."""
    first_line = ffmpeg_version()
    listing = run_tool("ffmpeg", ["-hide_banner", "-filters"]).decode("utf-8", "replace")
    problems = ffmpeg_problems(first_line, parse_filters(listing), sizes_each_frame())
    if problems:
        raise DependencyError(
            f"the ffmpeg on PATH ({find_tool('ffmpeg')}) cannot make our videos: "
            f"{'; '.join(problems)}: install FFmpeg {'.'.join(map(str, MIN_VERSION))} or "
            f"newer with those filters ({install_hint('ffmpeg')}; or a static build from "
            "https://ffmpeg.org/download.html first on PATH, with its ffprobe)")
