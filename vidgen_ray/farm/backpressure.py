"""How much work a pool may have in flight: a pure policy, tested without Ray.

A pool of N workers keeps at most K calls in flight per worker (one running, the rest
queued at the worker so it never idles between calls) and sends at most B requests per
call. Callers wait when every worker is full, so a 500-scene job holds at most N * K * B
requests' worth of results in memory and in the object store at any moment.

FFmpeg tasks (chunks, mixes, finishing) are held to the slots the assembly nodes offer
(``assembly_slots``): the rest wait in the farm (pipeline/slots.py), not in Ray's queue
with their inputs pinned in the object store.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from vidgen_ray.errors import SettingsError


@dataclass(frozen=True)
class Backpressure:
    per_worker: int = 2  # K: calls in flight per worker
    batch_size: int = 4  # B: requests per call

    def __post_init__(self) -> None:
        if self.per_worker < 1:
            raise SettingsError(f"max_in_flight={self.per_worker} must be at least 1",
                                field="max_in_flight")
        if self.batch_size < 1:
            raise SettingsError(f"batch size {self.batch_size} must be at least 1",
                                field="batch_size")

    def capacity(self, workers: int) -> int:
        """Calls the whole pool may have in flight."""
        return workers * self.per_worker

    def pick(self, in_flight: Sequence[int]) -> int | None:
        """The worker for the next call: the least loaded one below K, lowest index on ties;
        None when every worker is full (the caller waits)."""
        best = None
        for index, load in enumerate(in_flight):
            if load < self.per_worker and (best is None or load < in_flight[best]):
                best = index
        return best

    def batch(self, queued: int) -> int:
        """How many of ``queued`` requests go in the next call."""
        return min(queued, self.batch_size)

    def balanced_batch(self, total: int, workers: int) -> int:
        """Batch size for sending ``total`` requests at once: at most B, and even enough that
        the last round of calls gives every worker work. 48 requests, B=4, 8 workers: 16
        calls of 3 (two full rounds) instead of 12 of 4, which leave 4 workers idle in the
        second round and take 4/3 as long."""
        if total <= 0:
            return 0
        calls = math.ceil(total / self.batch_size)
        rounds = math.ceil(calls / max(1, workers))
        return math.ceil(total / (rounds * max(1, workers)))


def assembly_slots(nodes: Sequence[dict[str, float]], threads: int) -> int:
    """FFmpeg tasks the cluster runs at once: on the nodes offering the custom resource
    ``assembly`` when any does (placement.assembly_options sends FFmpeg there), else on
    every node with CPUs; each node runs CPUs // ``threads`` of them, and an assembly node no
    more than its ``assembly`` count (each task asks for one). ``nodes``: each live node's
    resources (``ray.nodes()``'s "Resources"). At least one, so that work moves (and an
    autoscaler is asked for a node) while a cluster's CPU nodes are still coming up."""
    if threads < 1:
        raise SettingsError(f"ffmpeg_threads={threads} must be at least 1",
                            field="ffmpeg_threads")
    assembly = [n for n in nodes if n.get("assembly", 0) > 0]
    slots = sum(min(int(n["assembly"]), int(n.get("CPU", 0)) // threads) for n in assembly)
    if not assembly:
        slots = sum(int(n.get("CPU", 0)) // threads for n in nodes)
    return max(1, slots)
