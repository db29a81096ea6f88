"""Progress to the job's owner, throttled: state changes at once, counts a few times a second.

A 500-scene job reports thousands of counts; the farm journals each report it hears, so the
counts are passed on at most ``per_second`` times. Counts held back are not lost: the latest
is passed on when the interval is over (a timer, so a slow stage's monitor is not left
stale), when a status changes (the record carries them), and when a stage or the job ends.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from vidgen_ray.pipeline.job_record import JobRecord

# The farm's callback: the record, and whether its state (job or scene status) moved.
Changed = Callable[[JobRecord, bool], None]
# Call a function after some seconds; returns a handle with cancel() (loop.call_later).
Later = Callable[[float, Callable[[], None]], object]


def _call_later(seconds: float, then: Callable[[], None]) -> object | None:
    try:
        return asyncio.get_running_loop().call_later(seconds, then)
    except RuntimeError:  # no loop: the next report or the stage's end passes them on
        return None


class ThrottledReporter:
    def __init__(self, changed: Changed, per_second: float = 4.0,
                 clock: Callable[[], float] = time.monotonic, later: Later = _call_later):
        self._changed, self._clock, self._later = changed, clock, later
        self._interval = 1.0 / per_second
        self._last: float | None = None  # when counts were last passed on
        self._pending: JobRecord | None = None  # counts held back since then
        self._timer = None

    def state(self, record: JobRecord) -> None:
        """A status moved: pass it on now (the record carries any counts held back)."""
        self._hold(None)
        self._changed(record, True)

    def progress(self, record: JobRecord) -> None:
        """Counts moved: pass them on unless they were passed on a moment ago."""
        now = self._clock()
        if self._last is not None and now - self._last < self._interval:
            if self._timer is None:
                self._timer = self._later(self._interval - (now - self._last), self.flush)
            self._pending = record
            return
        self._hold(None)
        self._last = now
        self._changed(record, False)

    def flush(self) -> None:
        """Pass on the counts held back, if any (a stage or the job ended, or time is up)."""
        record = self._pending
        self._hold(None)
        if record is not None:
            self._last = self._clock()
            self._changed(record, False)

    def _hold(self, record: JobRecord | None) -> None:
        self._pending = record
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
