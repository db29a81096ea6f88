"""External programs (ffmpeg, ffprobe, espeak-ng): find them, run them, explain failures."""

from __future__ import annotations

import functools
import platform
import shutil
import subprocess

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
        done = subprocess.run(command, input=input, capture_output=True, timeout=timeout,
                              check=False)
    except subprocess.TimeoutExpired as exc:
        raise ToolError(program, args, -1, f"timed out after {timeout} s") from exc
    if done.returncode != 0:
        raise ToolError(program, args, done.returncode, done.stderr.decode("utf-8", "replace"))
    return done.stdout, done.stderr
