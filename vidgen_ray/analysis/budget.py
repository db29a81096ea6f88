"""How much work one job may ask for, counted while the script is read.

A ``Budget`` is charged for every scene and every spoken line the moment the analyser makes
it, and raises ``TooLargeError`` as soon as one limit is passed: a 12,000-scene script stops
at the first scene over the limit instead of being analysed in full first. Storyboards
(submitted as they are) are charged the same way, scene by scene.

Narration time is estimated from the words spoken at ``WORDS_PER_MINUTE``, a calm narrator's
pace (espeak-ng's default of 175 is faster; the estimate errs on the long side).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass

from vidgen_ray.errors import TooLargeError
from vidgen_ray.storyboard import Storyboard

WORDS_PER_MINUTE = 150

# The budget of the analysis running in this thread (None: no limits, e.g. `vidgen render`).
# A context variable rather than a parameter of every parser function, because scenes and
# lines are made in many places of three parsers but counted at one (SceneDraft).
_CURRENT: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("budget", default=None)


@dataclass
class Budget:
    """Limits per job (None: no limit) and what has been counted so far. ``source`` names
    the request field the counts come from ("script" or "storyboard")."""

    max_scenes: int | None = None
    max_lines: int | None = None
    max_words: int | None = None
    max_minutes: float | None = None
    source: str = "script"
    scenes: int = 0
    lines: int = 0
    words: int = 0

    @property
    def minutes(self) -> float:
        return self.words / WORDS_PER_MINUTE

    def scene(self) -> None:
        self.scenes += 1
        if self.max_scenes is not None and self.scenes > self.max_scenes:
            self._refuse("max_scenes", f"more than {_count(self.max_scenes, 'scene')}",
                         "scenes")

    def line(self, text: str) -> None:
        self.lines += 1
        self.words += len(text.split())
        if self.max_lines is not None and self.lines > self.max_lines:
            self._refuse("max_lines", f"more than {_count(self.max_lines, 'spoken line')}")
        if self.max_words is not None and self.words > self.max_words:
            self._refuse("max_words", f"more than {_count(self.max_words, 'spoken word')}")
        if self.max_minutes is not None and self.minutes > self.max_minutes:
            self._refuse("max_minutes", f"more than about {self.max_minutes:g} minutes of "
                         f"narration (at {WORDS_PER_MINUTE} words a minute)")

    def _refuse(self, limit: str, what: str, field: str | None = None) -> None:
        error = TooLargeError(
            f"the {self.source} has {what}, this service's limit per job (reading stopped in "
            f"scene {self.scenes}): split it into several jobs",
            field=field or self.source)
        error.limit, error.scenes, error.lines, error.words = limit, self.scenes, self.lines, \
            self.words
        raise error

    @contextlib.contextmanager
    def charging(self) -> Iterator[Budget]:
        """Charge this budget for what the analysis in this block makes."""
        token = _CURRENT.set(self)
        try:
            yield self
        finally:
            _CURRENT.reset(token)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def current() -> Budget | None:
    return _CURRENT.get()


def charge_storyboard(storyboard: Storyboard, budget: Budget) -> None:
    """Charge ``budget`` for a storyboard's scenes and lines, in order, stopping at the first
    one over a limit."""
    for scene in storyboard.scenes:
        budget.scene()
        for line in scene.lines:
            budget.line(line.text)
