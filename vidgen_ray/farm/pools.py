"""The worker pools every job of a Farm shares: one per (kind, backend, backend options),
started by the first job that needs it and kept resident for the next ones.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable

import ray

from vidgen_ray.config import RenderSettings, backend_options
from vidgen_ray.farm.actors.executor import Pools
from vidgen_ray.farm.actors.pool import WorkerPool

__all__ = ["SharedPools", "pool_label"]


class SharedPools:
    def __init__(self, factories: dict[str, Callable] | None = None):
        self.factories = factories or {}  # kind -> backend factory (tests, benchmarks)
        self.starts: dict[tuple, asyncio.Future] = {}  # (kind, backend, options) -> its start

    @property
    def started(self) -> dict[tuple, WorkerPool]:
        """The pools that have started, by (kind, backend, backend options)."""
        return {key: start.result() for key, start in self.starts.items()
                if start.done() and not start.cancelled() and start.exception() is None}

    async def for_settings(self, settings: RenderSettings) -> Pools:
        """The pools for these backends, started once and shared by every job (the first
        job's pool settings size them). Shielded: one job's cancel does not stop a start
        that other jobs wait on."""
        cluster = ray.cluster_resources()
        keys = [(kind, *backend_options(settings, kind)) for kind in ("image", "speech")]
        for key in keys:
            start = self.starts.get(key)
            if start is None or (start.done() and start.exception() is not None):
                start = asyncio.ensure_future(self._start(key[0], settings, cluster))
                self.starts[key] = start
        image, speech = [await asyncio.shield(self.starts[k]) for k in keys]
        return Pools(image, speech, cluster)

    async def _start(self, kind: str, settings: RenderSettings,
                     cluster: dict[str, float]) -> WorkerPool:
        pool = WorkerPool(kind, settings, cluster=cluster, factory=self.factories.get(kind))
        try:
            await pool.start()
        except GeneratorExit:  # the process is going: nothing may be awaited now
            raise
        except BaseException:  # failed half way: no orphan actors
            await pool.shutdown()
            raise
        return pool

    def placement(self) -> dict[str, list[dict]]:
        """Where the workers run: per pool, each worker's node and GPU ids."""
        return {pool_label(key): pool.ready_info for key, pool in self.started.items()}

    def sizes(self) -> dict[str, int]:
        return {pool_label(key): len(pool.ready_info) for key, pool in self.started.items()}

    async def workers(self) -> list[dict]:
        """One row per worker of every started pool: pool label, kind, backend, index, node,
        GPU ids and share, calls served and in flight, loaded, memory (``Resident.stats``)."""
        rows = []
        for key, pool in self.started.items():
            stats_of = await pool.stats()
            for index, (ready, stats) in enumerate(zip(pool.ready_info, stats_of, strict=True)):
                rows.append({"pool": pool_label(key), "kind": key[0], "backend": key[1],
                             "index": index, "node_id": ready.get("node_id"),
                             "node_ip": ready.get("node_ip"), "gpu_ids": ready.get("gpu_ids"),
                             "gpu_share": pool.options.get("num_gpus", 0.0),
                             "version": ready.get("backend"), **stats})
        return rows

    async def release(self) -> None:
        await asyncio.gather(*[pool.release() for pool in self.started.values()])

    async def shutdown(self) -> None:
        for pool in await asyncio.gather(*self.starts.values(), return_exceptions=True):
            if isinstance(pool, WorkerPool):
                await pool.shutdown()
        self.starts.clear()


def pool_label(key: tuple) -> str:
    """kind:backend, plus a short digest of the backend's options when it has any."""
    kind, backend, options = key
    label = f"{kind}:{backend}"
    if options:
        label += ":" + hashlib.sha256(repr(options).encode()).hexdigest()[:8]
    return label
