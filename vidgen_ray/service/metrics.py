"""The job service's /metrics: Prometheus text built from the farm's job records and stats.

Each scrape builds its metric families from a snapshot (the records and stats the farm gives
the API then) on a fresh registry, so there is no global state: the farm, not this process,
knows the jobs, and several API replicas must all answer the same numbers. prometheus_client
writes the exposition format (escaping, ``+Inf``, HELP and TYPE lines).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from vidgen_ray.farm.jobs import JobRecord, JobStatus

SCENE_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 120, 300, math.inf)


def metrics_text(records: list[JobRecord], stats: dict, now: float | None = None) -> str:
    """Prometheus text exposition: jobs by state, queue depth, running jobs, workers per pool,
    a histogram of seconds per scene of finished jobs (job wall time / scenes) and the age of
    the oldest waiting job."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FarmSnapshot(records, stats, time.time() if now is None else now))
    return generate_latest(registry).decode()


class FarmSnapshot(Collector):
    """The metric families of one scrape: ``stats`` is the farm's (queued, running, workers
    per pool)."""

    def __init__(self, records: list[JobRecord], stats: dict, now: float):
        self.records, self.stats, self.now = records, stats, now

    def collect(self) -> Iterator[Metric]:
        jobs = GaugeMetricFamily("vidgen_jobs", "Jobs the farm knows, by state.",
                                 labels=["state"])
        for status in JobStatus:
            jobs.add_metric([status.value], sum(r.status == status for r in self.records))
        yield jobs
        yield GaugeMetricFamily("vidgen_queue_depth", "Jobs waiting to run.",
                                value=self.stats["queued"])
        yield GaugeMetricFamily("vidgen_jobs_running", "Jobs rendering now.",
                                value=self.stats["running"])
        workers = GaugeMetricFamily("vidgen_workers", "Ready workers per pool.",
                                    labels=["pool"])
        for pool, count in sorted(self.stats["workers"].items()):
            workers.add_metric([pool], count)
        yield workers
        yield self._scene_seconds()
        oldest = min((r.created for r in self.records if r.status == JobStatus.queued),
                     default=self.now)
        yield GaugeMetricFamily("vidgen_oldest_queued_seconds",
                                "Age of the oldest waiting job.",
                                value=max(0.0, self.now - oldest))

    def _scene_seconds(self) -> HistogramMetricFamily:
        per_scene = [(r.finished - r.started) / len(r.scenes) for r in self.records
                     if r.status == JobStatus.done and r.started and r.finished and r.scenes]
        buckets = [("+Inf" if bound == math.inf else f"{bound:g}",
                    sum(s <= bound for s in per_scene)) for bound in SCENE_BUCKETS]
        return HistogramMetricFamily("vidgen_scene_seconds",
                                     "Seconds per scene of finished jobs.",
                                     buckets=buckets, sum_value=sum(per_scene))
