"""The Farm: one driver that owns the resident worker pools and runs jobs on them.

Jobs wait in a priority queue; at most ``max_running`` run at once, each as a JobRun
(recipe.py) on the shared pools; past ``max_queued`` waiting jobs, ``submit`` raises
FarmSaturated with a retry-after hint. A job can be cancelled: its Ray work is cancelled and
its finished parts are kept.

Locally the Farm lives in the caller's process (``render`` below). Joining a cluster it is a
named, detached async actor in namespace ``vidgen``, so every client shares one set of
resident models: ``farm_handle()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import ray

from vidgen_ray.config import FarmSettings, RenderSettings, backend_options, ray_runtime_env
from vidgen_ray.errors import (
    NotFoundError,
    OutputError,
    RenderError,
    SettingsError,
    VidgenError,
    client_message,
)
from vidgen_ray.farm.actors.executor import Pools, RayExecutor
from vidgen_ray.farm.actors.listen import prepare_local_start
from vidgen_ray.farm.actors.pool import WorkerPool
from vidgen_ray.farm.jobs import (
    IllegalTransition,
    JobQueue,
    JobRecord,
    JobStatus,
    check_capacity,
    new_job_id,
    save_record,
)
from vidgen_ray.pipeline import media, scratch
from vidgen_ray.pipeline.flow import PART_SUFFIXES, JobRun, RenderResult
from vidgen_ray.pipeline.source import load_storyboard, require_speech
from vidgen_ray.programs import check_ffmpeg, find_tool
from vidgen_ray.storage import LocalStore
from vidgen_ray.storyboard import Storyboard

__all__ = ["Farm", "RenderResult", "connect", "farm_handle", "render", "running_farm"]

FARM_NAME, FARM_NAMESPACE = "farm", "vidgen"
log = logging.getLogger("vidgen.farm")
Progress = Callable[[str, int, int], None]  # (stage, done, total)
POLL_SECONDS = 0.25


def connect(address: str | None) -> None:
    """Join the cluster at ``address``, or start a Ray on this machine, on loopback only."""
    if ray.is_initialized():
        return
    if address:
        os.environ.update(ray_runtime_env(local=False))  # workers inherit the driver's environment
        ray.init(address=address, namespace=FARM_NAMESPACE, logging_level="WARNING",
                 log_to_driver=False)
        return
    os.environ.pop("RAY_ADDRESS", None)  # a stale address makes a local start hang
    prepare_local_start()
    ray.init(address="local", namespace=FARM_NAMESPACE, include_dashboard=False,
             logging_level="WARNING", log_to_driver=False, _node_ip_address="127.0.0.1",
             object_store_memory=_object_store_bytes())


def _object_store_bytes() -> int:
    """Ray's default (30 % of memory) overflows a small /dev/shm (containers) and then warns;
    a render's parts are small, so 2 GiB or less is plenty for one machine."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return int(min(2 * 1024**3, 0.3 * memory))


@dataclass
class _Job:
    record: JobRecord
    storyboard: Storyboard
    settings: RenderSettings
    out_dir: Path
    store: LocalStore
    task: asyncio.Task | None = None
    run: JobRun | None = None
    result: RenderResult | None = None
    error: VidgenError | None = None


class Farm:
    """Jobs in, videos out, on pools of resident workers. Every public method is async, so
    the same class serves as a local object and as a Ray async actor."""

    def __init__(self, max_running: int = 2, max_queued: int = 16,
                 retry_after: float = 30.0, factories: dict[str, Callable] | None = None):
        self.max_running, self.max_queued, self.retry_after = max_running, max_queued, retry_after
        self.factories = factories or {}  # kind -> backend factory (tests, benchmarks)
        self.jobs: dict[str, _Job] = {}
        self.queue = JobQueue()
        self._pool_starts: dict[tuple, asyncio.Future] = {}  # (kind, backend, options)
        self._closing = False

    @property
    def pools(self) -> dict[tuple, WorkerPool]:
        """The pools that have started, by (kind, backend, backend options)."""
        return {key: start.result() for key, start in self._pool_starts.items()
                if start.done() and not start.cancelled() and start.exception() is None}

    async def submit(self, storyboard: Storyboard, out_dir: str, settings: RenderSettings,
                     priority: int = 0, parts_dir: str | None = None,
                     job_id: str | None = None, owner: str | None = None) -> str:
        """Queue a job; returns its id. Raises FarmSaturated when the farm is full."""
        running = sum(j.record.status == JobStatus.running for j in self.jobs.values())
        check_capacity(len(self.queue), running, self.max_queued, self.max_running,
                       self.retry_after)
        if self._closing:
            raise RenderError("the farm is shutting down: submit to another farm")
        out = Path(out_dir).expanduser().resolve()  # the concat list needs absolute paths
        record = JobRecord(id=job_id or new_job_id(), priority=priority, out_dir=str(out),
                           owner=owner,
                           title=storyboard.title, created=time.time(),
                           scenes=["queued"] * len(storyboard.scenes))
        store = LocalStore(Path(parts_dir) if parts_dir else out / "parts", PART_SUFFIXES)
        job = _Job(record, storyboard, settings, out, store)
        save_record(record, store.root / "jobs")  # an unwritable folder is refused here
        self.jobs[record.id] = job
        self.queue.push(record.id, priority)
        self._schedule()
        return record.id

    async def status(self, job_id: str) -> JobRecord:
        return self._job(job_id).record.model_copy(deep=True)

    async def list_jobs(self) -> list[JobRecord]:
        return [j.record.model_copy(deep=True) for j in self.jobs.values()]

    async def wait(self, job_id: str) -> RenderResult:
        """The job's result once it is done; its error if it failed or was cancelled."""
        job = self._job(job_id)
        while job.task is None and job.record.status == JobStatus.queued:
            await asyncio.sleep(POLL_SECONDS)
        if job.task is not None:
            await asyncio.wait([job.task])  # not gather: a cancelled waiter must not cancel it
        if job.result is None:
            raise job.error or RenderError(f"job {job_id} was {job.record.status.value}")
        return job.result

    async def cancel(self, job_id: str) -> JobRecord:
        job = self._job(job_id)
        if job.record.status == JobStatus.queued:
            self.queue.remove(job_id)
            job.record.cancel()
            job.error = RenderError(f"job {job_id} was cancelled before it started")
            self._save(job.record)
        elif job.record.status == JobStatus.running and job.task is not None:
            job.task.cancel()
            await asyncio.gather(job.task, return_exceptions=True)
            if job.record.status == JobStatus.running:  # cancelled before its first step
                self._cancelled(job)
                self._save(job.record)
                self._schedule()
        return job.record.model_copy(deep=True)

    async def set_priority(self, job_id: str, priority: int) -> JobRecord:
        """Move a queued job up or down the queue (priority decides only when a job starts)."""
        job = self._job(job_id)
        if job.record.status != JobStatus.queued:
            raise IllegalTransition(
                f"job {job_id} is {job.record.status.value}: only a queued job can change "
                "priority (it decides when a job starts)", job.record.status.value, "queued")
        job.record.priority = priority  # validated first: -100..100
        self.queue.reprioritize(job_id, priority)
        self._save(job.record)
        return job.record.model_copy(deep=True)

    async def placement(self) -> dict:
        """Where the workers run: per pool, each worker's node and GPU ids."""
        return {_pool_label(key): pool.ready_info for key, pool in self.pools.items()}

    async def workers(self) -> list[dict]:
        """One row per worker of every started pool: pool label, kind, backend, index, node,
        GPU ids and share, calls served and in flight, loaded, memory (``Resident.stats``)."""
        rows = []
        for key, pool in self.pools.items():
            stats_of = await pool.stats()
            for index, (ready, stats) in enumerate(zip(pool.ready_info, stats_of, strict=True)):
                rows.append({"pool": _pool_label(key), "kind": key[0], "backend": key[1],
                             "index": index, "node_id": ready.get("node_id"),
                             "node_ip": ready.get("node_ip"), "gpu_ids": ready.get("gpu_ids"),
                             "gpu_share": pool.options.get("num_gpus", 0.0),
                             "version": ready.get("backend"), **stats})
        return rows

    async def release(self) -> list[dict]:
        """Every worker drops its model and frees its GPU memory; each loads it again on its
        next request (``vidgen farm release``). Returns ``workers()`` afterwards."""
        await asyncio.gather(*[pool.release() for pool in self.pools.values()])
        return await self.workers()

    async def shutdown(self) -> None:
        """Cancel every job (their finished parts stay), then stop the workers."""
        self._closing = True
        for job in list(self.jobs.values()):
            if job.record.status in (JobStatus.queued, JobStatus.running):
                await self.cancel(job.record.id)
        for pool in await asyncio.gather(*self._pool_starts.values(), return_exceptions=True):
            if isinstance(pool, WorkerPool):
                await pool.shutdown()
        self._pool_starts.clear()

    # ---- scheduling ------------------------------------------------------------------------

    def _schedule(self) -> None:
        running = sum(j.record.status == JobStatus.running for j in self.jobs.values())
        while not self._closing and running < self.max_running and len(self.queue):
            job = self.jobs[self.queue.pop()]
            job.record.start()
            job.task = asyncio.get_running_loop().create_task(self._run(job))
            running += 1

    async def _run(self, job: _Job) -> None:
        try:
            self._save(job.record)
            pools = await self._pools_for(job.settings)
            job.run = JobRun(job.record, job.storyboard, job.settings, job.out_dir, job.store,
                             RayExecutor(pools, job.record.id), self._changed)
            job.result = await job.run.run()
            job.record.timings = dict(job.result.timings)
            await self._publish(job)
            job.record.finish()
        except asyncio.CancelledError:
            self._cancelled(job)
        except VidgenError as exc:
            job.error = self._failure(job, exc)
        except Exception as exc:  # a bug, not the user's fault: keep the job record honest
            log.exception("job %s: unexpected error in the %s stage", job.record.id,
                          job.run.stage if job.run else "setup")
            job.error = self._failure(job, RenderError(
                f"{type(exc).__name__}: {exc}",
                public="an unexpected error stopped it (the farm's log has the details)"))
        finally:
            # Whatever its tasks on this node left (a killed task cannot clean up itself).
            scratch.remove_job_root(job.record.id)
            with contextlib.suppress(VidgenError):  # its folder went away: never stall others
                self._save(job.record)
            self._schedule()

    async def _publish(self, job: _Job) -> None:
        """Hand a finished job's files on before it is called done (durable.py: to S3)."""

    def _cancelled(self, job: _Job) -> None:
        job.record.cancel()
        job.error = RenderError(f"job {job.record.id} was cancelled; its finished parts are "
                                "kept for a retry", stage="cancelled")

    def _failure(self, job: _Job, exc: VidgenError) -> VidgenError:
        """Record the failure for clients (no paths, no program output; the scene whose part
        failed is marked). Returns what ``wait`` raises: the client's message, with the
        operator's whole story as ``detail`` (a local render prints it; the service logs it)."""
        stage = getattr(exc, "stage", None) or (job.run.stage if job.run else "setup")
        scene = getattr(exc, "scene", None)
        if scene is None:  # a part failed and marked its scene before the error was raised
            scene = next((i for i, s in enumerate(job.record.scenes) if s == "failed"), None)
        message = client_message(exc, self._private(job))
        if isinstance(exc, RenderError):
            message = f"the {stage} stage failed: {message}"
            failure = RenderError(message, stage=stage, scene=scene)
            failure.detail = f"the {stage} stage failed: {exc}"  # for a local render's user
        else:  # typed errors (settings, dependencies) keep their type for the API's status
            failure = exc
            failure.public = message
        job.record.fail(message, scene=scene)
        return failure

    def _private(self, job: _Job) -> list[str]:
        """Folders a client must not see in a message: the parts store, the job's folder,
        the temporary folder."""
        return [str(job.store.root), str(job.out_dir), tempfile.gettempdir()]

    async def _pools_for(self, settings: RenderSettings) -> Pools:
        """The pools for these backends, started once and shared by every job (the first
        job's pool settings size them). Shielded: one job's cancel does not stop a start
        that other jobs wait on."""
        cluster = ray.cluster_resources()
        keys = [(kind, *backend_options(settings, kind)) for kind in ("image", "speech")]
        for key in keys:
            start = self._pool_starts.get(key)
            if start is None or (start.done() and start.exception() is not None):
                start = asyncio.ensure_future(self._start_pool(key[0], settings, cluster))
                self._pool_starts[key] = start
        image, speech = [await asyncio.shield(self._pool_starts[k]) for k in keys]
        return Pools(image, speech, cluster)

    async def _start_pool(self, kind: str, settings: RenderSettings,
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

    def _job(self, job_id: str) -> _Job:
        if job_id not in self.jobs:
            raise NotFoundError(f"no job {job_id!r} on this farm: list jobs to see their ids")
        return self.jobs[job_id]

    def _changed(self, record: JobRecord, state_changed: bool = True) -> None:
        """A running job's record moved (its status, or only its progress counts)."""
        self._save(record)

    def _save(self, record: JobRecord) -> None:
        job = self.jobs.get(record.id)
        if job is not None:
            save_record(record, job.store.root / "jobs")


def _pool_label(key: tuple) -> str:
    """kind:backend, plus a short digest of the backend's options when it has any."""
    kind, backend, options = key
    label = f"{kind}:{backend}"
    if options:
        label += ":" + hashlib.sha256(repr(options).encode()).hexdigest()[:8]
    return label


def farm_handle(settings: FarmSettings | None = None):
    """The cluster's one Farm: a named, detached async actor, created by the first client
    (whose FarmSettings it keeps; later clients get the running one)."""
    settings = settings or FarmSettings()
    remote = ray.remote(Farm).options(
        name=FARM_NAME, namespace=FARM_NAMESPACE, lifetime="detached", get_if_exists=True,
        num_cpus=0, max_concurrency=1000)
    return remote.remote(max_running=settings.max_running_jobs,
                         max_queued=settings.max_queued_jobs, retry_after=settings.retry_after)


def running_farm(address: str | None):
    """The Farm already running on the cluster at ``address`` (never starts one)."""
    if not address:
        raise SettingsError("say which cluster's farm: --address ray://head:10001 (or "
                            "RAY_ADDRESS); a local render's farm lives only while it runs",
                            field="ray_address")
    connect(address)
    try:
        return ray.get_actor(FARM_NAME, namespace=FARM_NAMESPACE)
    except ValueError:
        raise NotFoundError(f"no farm is running on {address}: it starts with the first "
                            "'vidgen render --address' or with the job service") from None


# ---- the one-call API: render a script into a folder ----------------------------------------

def render(source: str | Path | Storyboard, out_dir: Path, settings: RenderSettings,
           progress: Progress | None = None, priority: int = 0) -> RenderResult:
    """Render on a Farm in this process, or on the cluster's Farm when an address is set."""
    started = time.perf_counter()
    limiter = None
    if settings.ray_address and settings.llm != "local":  # share the cluster's model budget
        from vidgen_ray.farm.actors.rate_limiter import farm_limiter

        connect(settings.ray_address)
        limiter = farm_limiter(settings)
    storyboard = load_storyboard(source, settings, limiter)
    require_speech(storyboard)
    for program in ("ffmpeg", "ffprobe"):  # fail before any work, not after it
        find_tool(program)
    # The user's own pictures, clips and music: found and checked before any work.
    storyboard, music = media.for_local_render(storyboard, settings.music, source)
    settings = settings.model_copy(update={"music": music})
    check_ffmpeg()  # new enough, with every filter the renders use
    out_dir = _prepare_output(out_dir)
    analyze_seconds = time.perf_counter() - started
    if not settings.ray_address:
        _refuse_running_loop()  # before starting Ray, not after
    connect(settings.ray_address)
    report = progress or (lambda stage, done, total: None)
    try:
        if settings.ray_address:
            result = _on_cluster(storyboard, out_dir, settings, priority, report)
        else:
            result = asyncio.run(_locally(storyboard, out_dir, settings, priority, report))
    except RenderError as exc:
        raise _with_resume_hint(exc, out_dir) from None
    result.timings = {"analyze": analyze_seconds, **result.timings}
    return result


async def _locally(storyboard, out_dir, settings, priority, report) -> RenderResult:
    farm = Farm(max_running=1)
    try:
        job_id = await farm.submit(storyboard, str(out_dir), settings, priority)
        waiter = asyncio.ensure_future(farm.wait(job_id))
        while not waiter.done():
            _forward(await farm.status(job_id), report)
            await asyncio.wait([waiter], timeout=POLL_SECONDS)
        _forward(await farm.status(job_id), report)
        return waiter.result()
    finally:
        await farm.shutdown()


def _on_cluster(storyboard, out_dir, settings, priority, report) -> RenderResult:
    from vidgen_ray.farm.actors.errors import unwrap

    farm = farm_handle()
    try:
        job_id = ray.get(farm.submit.remote(storyboard, str(out_dir), settings, priority))
    except ray.exceptions.RayTaskError as exc:
        raise unwrap(exc) from None
    try:
        waiter = farm.wait.remote(job_id)
        while not ray.wait([waiter], timeout=POLL_SECONDS)[0]:
            _forward(ray.get(farm.status.remote(job_id)), report)
        _forward(ray.get(farm.status.remote(job_id)), report)
        return ray.get(waiter)
    except ray.exceptions.RayTaskError as exc:
        raise unwrap(exc) from None
    except KeyboardInterrupt:  # Ctrl-C stops the job on the shared farm too, not just us
        ray.get(farm.cancel.remote(job_id), timeout=30)
        raise


def _with_resume_hint(exc: RenderError, out_dir: Path) -> RenderError:
    """A failed job's error as this machine's user needs it: the whole story (program
    output, paths), where the finished parts are and how to resume."""
    if exc.stage is None:  # not a job's failure (the farm is shutting down, ...)
        return exc
    detail = getattr(exc, "detail", None) or exc.message
    return RenderError(f"{detail}\nFinished parts are kept in {out_dir / 'parts'}: run the "
                       "same command again to resume.", stage=exc.stage, scene=exc.scene)


def _refuse_running_loop() -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RenderError("render() blocks, so it cannot run inside an event loop (Jupyter, an "
                      "async app): there, use 'await Farm().submit(...)' and "
                      "'await farm.wait(job_id)'")


def _forward(record: JobRecord, report: Progress) -> None:
    for stage, progress in record.progress.items():
        report(stage, progress.done, progress.total)


def _prepare_output(out_dir: Path) -> Path:
    out_dir = Path(out_dir).expanduser().resolve()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe_file = out_dir / ".vidgen-write-test"
        probe_file.write_bytes(b"")
        probe_file.unlink()
    except OSError as exc:
        raise OutputError(f"cannot write to the output folder {out_dir}: {exc.strerror}: "
                          "choose another folder with -o") from exc
    return out_dir
