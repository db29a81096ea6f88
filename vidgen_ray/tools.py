"""External programs (ffmpeg, ffprobe, espeak-ng): find them, run them, explain failures."""

from __future__ import annotations

import functools
import platform
import shutil
import subprocess
import time

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
        try:
            while True:
                left = 0.2 if deadline is None else deadline - time.monotonic()
                try:
                    out, err = process.communicate(input, timeout=max(0.0, min(0.2, left)))
                    return process.returncode, out, err
                except subprocess.TimeoutExpired:
                    input = None  # sent with the first call; later calls must not resend
                    if deadline is not None and time.monotonic() >= deadline:
                        raise
        except BaseException:
            process.kill()
            process.wait()
            raise
