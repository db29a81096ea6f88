"""Retries with exponential backoff and full jitter, honouring the server's Retry-After.

Pure apart from the ``sleep`` and ``clock`` a caller passes in. A backend turns each failure
into a ``Failure`` (retryable or not, and how long the server asked us to wait); this module
decides whether and when to try again.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from vidgen_ray.errors import Failure

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 5          # tries after the first
    base: float = 1.0         # seconds: the first backoff's ceiling
    cap: float = 60.0         # seconds: no backoff waits longer (Retry-After may)
    max_retry_after: float = 300.0  # a server asking for more than this is a spent quota


def backoff(attempt: int, policy: RetryPolicy, rng: random.Random,
            retry_after: float | None = None) -> float:
    """Seconds to wait before try ``attempt + 1`` (attempt 0 is the first retry).

    Full jitter (uniform in [0, min(cap, base * 2**attempt)]) spreads many clients' retries;
    a Retry-After from the server is a floor, since it knows when the window opens again.
    """
    jittered = rng.uniform(0.0, min(policy.cap, policy.base * 2 ** attempt))
    return max(jittered, retry_after) if retry_after is not None else jittered


def call_with_retries(call: Callable[[], T], policy: RetryPolicy, *,
                      rng: random.Random | None = None,
                      sleep: Callable[[float], None] = time.sleep,
                      on_retry: Callable[[Failure, float], None] | None = None) -> T:
    """``call()`` until it returns; a retryable Failure waits and tries again, up to
    ``policy.retries`` times. The last Failure (or a non-retryable one) is raised."""
    rng = rng or random.Random()
    attempt = 0
    while True:
        try:
            return call()
        except Failure as failure:
            too_long = (failure.retry_after is not None
                        and failure.retry_after > policy.max_retry_after)
            if not failure.retryable or attempt >= policy.retries or too_long:
                raise
            delay = backoff(attempt, policy, rng, failure.retry_after)
            if on_retry:
                on_retry(failure, delay)
            sleep(delay)
            attempt += 1
