"""A client-side rate limit: at most ``limit`` requests in any sliding ``window`` of seconds.

``admit`` is the pure sliding-window decision. ``FileRateLimiter`` keeps the window's
timestamps in a small JSON file under an exclusive ``fcntl`` lock, so every process that
analyses scripts on this machine (CLI renders, the job service's replicas) draws from one
budget; wall-clock time (``time.time``) is the clock they share. On a cluster the window
lives in one named actor instead (``actors/rate_limiter.py``): any ``RateLimiter`` will do.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from vidgen_ray.errors import AnalysisError


class RateLimiter(Protocol):
    def acquire(self) -> float:
        """Block until a request may go; return the time it was admitted."""


def admit(stamps: list[float], now: float, limit: int, window: float) -> tuple[float, list[float]]:
    """(seconds to wait, the window's stamps). Wait 0 means admitted now: ``now`` is then
    the last stamp. Otherwise the oldest stamp must leave the window first."""
    recent = sorted(t for t in stamps if now - window < t <= now + window)
    if len(recent) < limit:
        return 0.0, [*recent, now]
    return recent[-limit] + window - now, recent


class FileRateLimiter:
    def __init__(self, path: Path, limit: int, window: float = 60.0,
                 clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep):
        if limit < 1 or window <= 0:
            raise ValueError(f"rate limit {limit} per {window} s: both must be positive")
        self.path, self.limit, self.window = Path(path), limit, window
        self.clock, self.sleep = clock, sleep

    def acquire(self) -> float:
        """Block until a request may go; returns the time it was admitted (``clock()``)."""
        while True:
            wait, admitted = self._try_admit()
            if wait <= 0:
                return admitted
            self.sleep(wait)

    def _try_admit(self) -> tuple[float, float]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a+", encoding="utf-8") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes
                handle.seek(0)
                stamps = _read(handle.read())
                now = self.clock()
                wait, stamps = admit(stamps, now, self.limit, self.window)
                if wait <= 0:
                    handle.seek(0)
                    handle.truncate()
                    handle.write(json.dumps(stamps))
                    handle.flush()
                    os.fsync(handle.fileno())
                return wait, now
        except OSError as exc:
            raise AnalysisError(f"cannot use the rate limiter's file {self.path}: "
                                f"{exc.strerror}: set --llm-cache-dir to a writable "
                                "folder") from exc


def _read(text: str) -> list[float]:
    try:
        stamps = json.loads(text) if text.strip() else []
    except json.JSONDecodeError:
        return []  # a torn file from a killed process: start the window afresh
    return [float(t) for t in stamps if isinstance(t, int | float)]
