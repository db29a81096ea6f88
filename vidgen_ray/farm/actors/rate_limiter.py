"""The language model's rate limit for a whole cluster: one named, detached actor keeps the
sliding window, so every process that analyses scripts on the cluster (the job service's
replicas on any node, ``vidgen render --address`` drivers) draws from one budget.

The window is decided by the actor's own clock, so nodes whose clocks differ still agree.
Without a cluster, ``analysis/ratelimit.FileRateLimiter`` shares the budget on one machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import ray

from vidgen_ray.analysis.ratelimit import admit
from vidgen_ray.config import RenderSettings

LIMITER_NAME, LIMITER_NAMESPACE = "llm-ratelimit", "vidgen"
RESERVE_TIMEOUT = 60.0  # seconds; the actor answers in microseconds unless it is lost


class RateWindow:
    """The actor: one sliding window per name (the analysis backend)."""

    def __init__(self) -> None:
        self.windows: dict[str, list[float]] = {}

    def reserve(self, name: str, limit: int, window: float) -> tuple[float, float]:
        """(seconds to wait, now); a wait of 0 means admitted and counted."""
        now = time.time()
        wait, stamps = admit(self.windows.get(name, []), now, limit, window)
        if wait <= 0:
            self.windows[name] = stamps
        return wait, now

    def stamps(self, name: str) -> list[float]:
        return list(self.windows.get(name, []))


def window_actor():
    """The cluster's one RateWindow actor, created by the first caller."""
    return ray.remote(RateWindow).options(
        name=LIMITER_NAME, namespace=LIMITER_NAMESPACE, lifetime="detached",
        get_if_exists=True, num_cpus=0, max_restarts=-1).remote()


class RayRateLimiter:
    """``acquire()`` as FileRateLimiter's, against the cluster's RateWindow actor."""

    def __init__(self, name: str, limit: int, window: float = 60.0,
                 sleep: Callable[[float], None] = time.sleep):
        self.name, self.limit, self.window, self.sleep = name, limit, window, sleep
        self.actor = window_actor()

    def acquire(self) -> float:
        while True:
            wait, now = ray.get(self.actor.reserve.remote(self.name, self.limit, self.window),
                                timeout=RESERVE_TIMEOUT)
            if wait <= 0:
                return now
            self.sleep(wait)


def farm_limiter(settings: RenderSettings) -> RayRateLimiter | None:
    """The cluster-wide limiter for settings.llm when this process is connected to Ray; None
    (the per-machine file limiter) for the local analyser or without Ray."""
    if settings.llm == "local" or not ray.is_initialized():
        return None
    return RayRateLimiter(settings.llm, settings.llm_requests_per_minute)
