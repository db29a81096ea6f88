"""The worker pools every job of a Farm shares: one per (kind, backend, backend options),
started by the first job that needs it and kept resident for the next ones, within the GPU
budget (budget.py): a pool that does not fit retires idle pools (least recently used
first), or waits until a running job leaves one; a pool no job has used for
``pool_idle_timeout_s`` is retired. A pool a running job uses is never retired.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable

import ray

from vidgen_ray.config import RenderSettings, backend_options
from vidgen_ray.errors import SettingsError
from vidgen_ray.farm import budget
from vidgen_ray.farm.actors import ffmpeg_tasks
from vidgen_ray.farm.actors.executor import Pools
from vidgen_ray.farm.actors.pool import WorkerPool
from vidgen_ray.farm.placement import on_gpu, pool_size, sized, worker_options

__all__ = ["SharedPools", "pool_label"]


class SharedPools:
    def __init__(self, factories: dict[str, Callable] | None = None):
        self.factories = factories or {}  # kind -> backend factory (tests, benchmarks)
        self.starts: dict[tuple, asyncio.Future] = {}  # (kind, backend, options) -> its start
        self.holds: dict[tuple, budget.Hold] = {}  # what each pool holds, who uses it
        self.retired: list[tuple] = []  # keys of the pools retired, oldest first
        self._room: asyncio.Event | None = None  # set when a job leaves its pools

    @property
    def started(self) -> dict[tuple, WorkerPool]:
        """The pools that have started, by (kind, backend, backend options)."""
        return {key: start.result() for key, start in self.starts.items()
                if start.done() and not start.cancelled() and start.exception() is None}

    def check_fits(self, settings: RenderSettings) -> None:
        """Refuse, at submit, a job whose model workers fit on no card of the cluster even
        with every other pool retired: it would wait for room that never comes."""
        if ray.is_initialized() and budget.takes_gpu(settings):
            problem = budget.never_fits(budget.cards_of(ray.nodes(), settings), settings)
            if problem:
                raise SettingsError(f"this job cannot run on this cluster: {problem}",
                                    field="gpu_memory_gb")

    async def check_encoder(self, settings: RenderSettings, client: bool = False) -> None:
        """Refuse, at submit, encoder nvenc where chunks would run without it (SettingsError
        naming the node's problem and the fix; ``client``: a service client's message and
        field), asked of a node where chunk tasks run. The job flow asks again when the job
        starts, and each chunk task of its own node."""
        if settings.encoder != "nvenc" or not ray.is_initialized():
            return
        try:
            await ffmpeg_tasks.resolve_encoder(ray.cluster_resources(), "nvenc")
        except SettingsError as exc:
            if not client:
                raise
            raise SettingsError(exc.public or exc.message, field="settings.encoder") from None

    async def for_settings(self, settings: RenderSettings, user: str = "",
                           motion: bool = False, beds: bool = False,
                           talking: bool = False) -> Pools:
        """The pools for these backends, started once and shared by every job (the first
        job's pool settings size them), used by ``user`` (a job id) until it ``leave``s;
        ``motion``: the job has scenes its video model animates (a motion pool too);
        ``beds``: the job has beds a bed model makes (a bed pool too); ``talking``: the
        job has lines that cut to talking shots (a talking pool too).
        Shielded: one job's cancel does not stop a start that other jobs wait on."""
        cluster = ray.cluster_resources()
        settings = sized(settings, cluster)  # batch sizes chosen for each share
        kinds = ("image", "speech", *(("motion",) if motion else ()),
                 *(("talking",) if talking else ()), *(("beds",) if beds else ()))
        keys = [(kind, *backend_options(settings, kind)) for kind in kinds]
        for key in keys:  # in use from now on: never retired to make room for another
            self.holds.setdefault(key, budget.Hold(key)).users.add(user)
        while True:
            missing = [k for k in keys if self._needs_start(k)]
            sizes = self._plan(missing, settings, cluster)
            if sizes is not None:
                break
            await self._wait_for_room()
        for key, size in zip(missing, sizes, strict=True):
            self.starts[key] = asyncio.ensure_future(self._start(key, settings, cluster, size))
        started = dict(zip(kinds, [await asyncio.shield(self.starts[k]) for k in keys],
                           strict=True))
        return Pools(started["image"], started["speech"], cluster,
                     motion=started.get("motion"), beds=started.get("beds"),
                     talking=started.get("talking"))

    def leave(self, user: str) -> None:
        """A job is done with its pools: they may be retired once idle."""
        now = time.monotonic()
        for hold in self.holds.values():
            if user in hold.users:
                hold.users.discard(user)
                if not hold.users:
                    hold.last_used = now
                    if hold.idle_timeout_s is not None:
                        asyncio.get_running_loop().call_later(
                            hold.idle_timeout_s + 0.01, self._expire)
        self._room_event().set()

    def _needs_start(self, key: tuple) -> bool:
        start = self.starts.get(key)
        return start is None or (start.done() and start.exception() is not None)

    def _plan(self, missing: list[tuple], settings: RenderSettings,
              cluster: dict[str, float]) -> list[int] | None:
        """Workers for each missing pool, after retiring the idle pools that make room for
        them; None when they must wait for a running job to leave a pool."""
        gpu = [k for k in missing if on_gpu(k[0], settings, cluster)]
        asks = [budget.Ask(worker_options(k[0], settings, cluster)["num_gpus"],
                           pool_size(k[0], settings, cluster)) for k in gpu]
        if not asks:
            return [pool_size(k[0], settings, cluster) for k in missing]
        cards = budget.cards_of(ray.nodes(), settings)
        holds = [h for k, h in self.holds.items() if not self._needs_start(k)]
        room = budget.make_room(cards, holds, asks)
        if room is None:
            if not any(h.users for h in holds):  # nothing will ever leave: say so
                raise SettingsError("this job cannot run on this cluster: "
                                    f"{budget.never_fits(cards, settings) or 'no room'}",
                                    field="gpu_memory_gb")
            return None
        retire, counts, placed = room
        for key in retire:
            self._retire(key)
        timeout = settings.pool_idle_timeout_s
        for key, where, ask in zip(gpu, placed, asks, strict=True):
            hold = self.holds[key]
            hold.cards, hold.share, hold.idle_timeout_s = where, ask.share, timeout
        sizes = dict(zip(gpu, counts, strict=True))
        for key in missing:
            self.holds[key].idle_timeout_s = timeout
        return [sizes.get(k) or pool_size(k[0], settings, cluster) for k in missing]

    async def _start(self, key: tuple, settings: RenderSettings, cluster: dict[str, float],
                     size: int) -> WorkerPool:
        kind = key[0]
        pool = WorkerPool(kind, settings, cluster=cluster, size=size,
                          factory=self.factories.get(kind))
        try:
            await pool.start()
        except GeneratorExit:  # the process is going: nothing may be awaited now
            raise
        except BaseException:  # failed half way: no orphan actors
            await pool.shutdown()
            raise
        hold = self.holds.get(key)
        if hold is not None and hold.cards:  # where Ray put them, not where we planned
            hold.cards = [f"{info['node_id']}:{info['gpu_ids'][0]}"
                          for info in pool.ready_info if info.get("gpu_ids")]
        return pool

    def _retire(self, key: tuple) -> None:
        """Stop an idle pool: its workers are killed and its cards free."""
        start = self.starts.pop(key, None)
        self.holds.pop(key, None)
        self.retired.append(key)
        if start is not None:  # a start still under way is stopped when it ends
            start.add_done_callback(_shut_down)

    def _expire(self) -> None:
        for key in budget.expired(list(self.holds.values()), time.monotonic()):
            if key in self.starts:
                self._retire(key)

    async def _wait_for_room(self) -> None:
        event = self._room_event()
        event.clear()
        await event.wait()

    def _room_event(self) -> asyncio.Event:
        if self._room is None:
            self._room = asyncio.Event()
        return self._room

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
        self.holds.clear()


def _shut_down(start: asyncio.Future) -> None:
    if not start.cancelled() and start.exception() is None:
        asyncio.ensure_future(start.result().shutdown())


def pool_label(key: tuple) -> str:
    """kind:backend, plus a short digest of the backend's options when it has any."""
    kind, backend, options = key
    label = f"{kind}:{backend}"
    if options:
        label += ":" + hashlib.sha256(repr(options).encode()).hexdigest()[:8]
    return label
