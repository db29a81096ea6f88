"""FFmpeg tasks in flight, bounded: a gate of N slots that work enters and leaves.

Without it every chunk of a long video is handed to the runner at once, each with its
stills: the queue, not the CPUs, decides how much is held in memory and in the object store.
Work waits here, first come first served, until a slot is free; the size may change while
work waits (nodes join or leave a cluster), and a bigger size lets waiters in at once.
Pure asyncio: the in-process executor and the Ray executor (farm/actors/executor.py) share it.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from contextlib import asynccontextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """One FFmpeg task: its kind (chunk, mix, finish), node, and when it was handed to the
    runner, started and ended (``time.time()`` of the machine that ran it)."""

    kind: str
    node: str
    submitted: float
    started: float
    ended: float


def most_at_once(spans: list[Span]) -> int:
    """The most spans in flight at one moment, from handing over to end."""
    edges = sorted([(s.submitted, 1) for s in spans] + [(s.ended, -1) for s in spans],
                   key=lambda edge: (edge[0], edge[1]))  # an end before a start at a tie
    most = now = 0
    for _, step in edges:
        now += step
        most = max(most, now)
    return most


class SlotGate:
    """At most ``size`` holders at once (never fewer than one, so work always moves)."""

    def __init__(self, size: int):
        self.size = max(1, size)
        self.in_flight = 0
        self.checked = time.monotonic()  # when the size was last read from the nodes
        self._waiters: deque[asyncio.Future] = deque()

    def resize(self, size: int) -> None:
        self.size, self.checked = max(1, size), time.monotonic()
        self._hand_over()

    @asynccontextmanager
    async def slot(self):
        await self._enter()
        try:
            yield
        finally:
            self.in_flight -= 1
            self._hand_over()

    async def _enter(self) -> None:
        if self.in_flight < self.size and not self._waiters:
            self.in_flight += 1
            return
        turn = asyncio.get_running_loop().create_future()
        self._waiters.append(turn)
        try:
            await turn  # the slot is handed over: in_flight counts this holder already
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():  # handed a slot as it was cancelled
                self.in_flight -= 1
                self._hand_over()
            elif turn in self._waiters:
                self._waiters.remove(turn)
            raise

    def _hand_over(self) -> None:
        while self._waiters and self.in_flight < self.size:
            turn = self._waiters.popleft()
            if not turn.done():
                self.in_flight += 1
                turn.set_result(None)
