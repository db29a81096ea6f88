"""Ctrl-C during ``vidgen render``: one line that says what was kept and how to resume, exit
130 (the shell's code for SIGINT), and no traceback from the tasks that were stopped."""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import typer

EXIT_INTERRUPTED = 130


def interrupted_line(out_dir: Path) -> str:
    return (f"interrupted; finished parts kept in {out_dir / 'parts'}; run the same command "
            "to resume")


@contextlib.contextmanager
def resumable(out_dir: Path) -> Iterator[None]:
    """Turns a KeyboardInterrupt inside into the one line and exit 130. The render's tasks
    were cancelled by asyncio.run; what they leave to the log on the way out (asyncio's
    "Task exception was never retrieved", Ray's shutdown) is noise to a person who asked
    to stop, so it is silenced, and a second Ctrl-C cannot break the shutdown."""
    try:
        yield
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        logging.getLogger("asyncio").disabled = True
        logging.getLogger("ray").disabled = True
        sys.stderr.write("\n" + interrupted_line(out_dir) + "\n")
        sys.stderr.flush()
        _stop_ray()
        raise typer.Exit(EXIT_INTERRUPTED) from None


def _stop_ray() -> None:
    """Stop this process's Ray now (its workers with it), so nothing prints after the line."""
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        with contextlib.suppress(Exception):
            ray.shutdown()
