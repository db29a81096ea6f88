"""The Farm: one driver that owns the resident worker pools (pools.py) and runs jobs on them.

Jobs wait in a priority queue; at most ``max_running`` run at once, each as a JobRun
(pipeline/flow.py); past ``max_queued`` waiting jobs, ``submit`` raises FarmSaturated with a
retry-after hint. Cancelled jobs keep their finished parts. Its journal (journal.py) writes
every job down: beside its parts for a local render, or in the job service's home (and S3),
from which ``start`` takes the jobs up again after a restart. On a cluster the Farm is one
named, detached async actor (connect.py: ``farm_actor``) that every client shares.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from pathlib import Path

from vidgen_ray.config import RenderSettings
from vidgen_ray.errors import NotFoundError, RenderError, VidgenError
from vidgen_ray.farm.actors.executor import RayExecutor
from vidgen_ray.farm.actors.pool import WorkerPool
from vidgen_ray.farm.farm_job import FarmJob
from vidgen_ray.farm.home import Recovered, StoredRequest, artifact_names, artifact_path
from vidgen_ray.farm.jobs import (
    IllegalTransition,
    JobQueue,
    JobRecord,
    JobStatus,
    check_capacity,
    check_owner_quota,
    new_job_id,
)
from vidgen_ray.farm.journal import FolderJournal
from vidgen_ray.farm.pools import SharedPools
from vidgen_ray.pipeline import preview, scratch
from vidgen_ray.pipeline.bed_parts import uses_beds
from vidgen_ray.pipeline.flow import PART_SUFFIXES, JobRun, RenderResult
from vidgen_ray.pipeline.motion_parts import clip_scenes
from vidgen_ray.pipeline.stage_errors import UNEXPECTED
from vidgen_ray.pipeline.talking_parts import talking_lines
from vidgen_ray.storage import LocalStore
from vidgen_ray.storyboard import Storyboard

__all__ = ["Farm", "RenderResult"]

log = logging.getLogger("vidgen.farm")


class Farm:
    """Jobs in, videos out, on pools of resident workers. Every public method is async, so
    the same class serves as a local object and as a Ray async actor."""

    def __init__(self, max_running: int = 2, max_queued: int = 16,
                 retry_after: float = 30.0, factories: dict[str, Callable] | None = None,
                 journal: FolderJournal | None = None):
        self.max_running, self.max_queued, self.retry_after = max_running, max_queued, retry_after
        self.shared = SharedPools(factories)
        self.journal = journal or FolderJournal()
        self.jobs: dict[str, FarmJob] = {}
        self.queue = JobQueue()
        self._keys: dict[tuple[str | None, str], str] = {}  # (owner, idempotency key) -> id
        self._closing = self._started = False
        self.resumed: list[str] = []  # ids put back in the queue at the last start
        # In a running loop it is an actor, rebuilt by Ray after a crash with no one to start it.
        with contextlib.suppress(RuntimeError):
            self._starting = asyncio.get_running_loop().create_task(self.start())

    @property
    def pools(self) -> dict[tuple, WorkerPool]:
        """The pools that have started, by (kind, backend, backend options)."""
        return self.shared.started

    async def start(self) -> list[str]:
        """Take up the jobs the journal holds, once: finished ones stay listable, unfinished
        ones are queued again and (parts being content-addressed) make only what is missing.
        Read without yielding, so no call sees a half-recovered farm. Returns the requeued."""
        if not self._started:
            self._started = True
            for found in self.journal.recover():
                self._adopt(found)
            self._schedule()
        return list(self.resumed)

    def _adopt(self, found: Recovered) -> None:
        request, record = found.request, found.record
        job = FarmJob(record, request.storyboard, found.settings, Path(record.out_dir),
                      LocalStore(self.journal.home.parts, PART_SUFFIXES))
        if record.status in (JobStatus.failed, JobStatus.cancelled):
            job.error = RenderError(record.error or f"job {record.id} was cancelled")
        self.jobs[record.id] = job
        if request.idempotency_key:
            self._keys[(request.owner, request.idempotency_key)] = record.id
        if found.resumed:
            self.queue.push(record.id, record.priority)
            self.resumed.append(record.id)
        self._save(record)

    async def submit(self, storyboard: Storyboard, out_dir: str, settings: RenderSettings,
                     priority: int = 0, parts_dir: str | None = None,
                     job_id: str | None = None, owner: str | None = None) -> str:
        """Queue a job; returns its id. FarmSaturated when full; SettingsError: never fits,
        or asks for an encoder the nodes that encode chunks lack."""
        await self.shared.check_encoder(settings)
        return self._queue(storyboard, out_dir, settings, priority, parts_dir, job_id, owner)

    def _queue(self, storyboard: Storyboard, out_dir: str, settings: RenderSettings,
               priority: int, parts_dir: str | None, job_id: str | None,
               owner: str | None) -> str:
        """submit's checks and writes, without yielding (enqueue relies on it)."""
        self._check_capacity()
        self.shared.check_fits(settings)
        if self._closing:
            raise RenderError("the farm is shutting down: submit to another farm")
        out = Path(out_dir).expanduser().resolve()  # the concat list needs absolute paths
        record = JobRecord(id=job_id or new_job_id(), priority=priority, out_dir=str(out),
                           owner=owner, title=storyboard.title, created=time.time(),
                           scenes=["queued"] * len(storyboard.scenes))
        store = LocalStore(Path(parts_dir) if parts_dir else out / "parts", PART_SUFFIXES)
        job = FarmJob(record, storyboard, settings, out, store)
        self.journal.save(record, store.root)  # an unwritable folder is refused here
        self.jobs[record.id] = job
        self.queue.push(record.id, priority)
        self._schedule()
        return record.id

    async def enqueue(self, storyboard: Storyboard, settings: RenderSettings, priority: int = 0,
                      owner: str | None = None, idempotency_key: str | None = None,
                      owner_quota: int | None = None, sent: dict | None = None,
                      media: dict[str, bytes] | None = None) -> tuple[JobRecord, bool]:
        """A service job, kept in the journal's home: (its record, True), or (the earlier
        job's record, False) when this owner already sent this idempotency key. FarmSaturated
        when the farm is full, or when ``owner`` has ``owner_quota`` unfinished jobs. ``sent``:
        the settings as sent (stored); ``media``: uploads by key (home.py), kept in the home."""
        if self.journal.home is None:
            raise RenderError("this farm keeps no job home (a render's farm): submit jobs to "
                              "the job service's farm")
        await self.shared.check_encoder(settings, client=True)  # where chunks run
        earlier = self._keys.get((owner, idempotency_key)) if idempotency_key else None
        if earlier is not None:
            return await self.status(earlier), False
        self._check_capacity(owner, owner_quota)  # before anything is written: no trace
        sent = settings.model_dump(mode="json", exclude_unset=True) if sent is None else sent
        # Written without yielding, like the rest: a resent idempotency key finds this job.
        storyboard, settings, sent = self.journal.place_media(storyboard, settings, sent,
                                                              media or {})
        request = StoredRequest(id=new_job_id(), storyboard=storyboard, settings=sent,
                                priority=priority, owner=owner, idempotency_key=idempotency_key)
        out = self.journal.accept(request)
        try:
            self._queue(storyboard, str(out), settings, priority, str(self.journal.home.parts),
                        request.id, owner)
        except BaseException:
            self.journal.forget(request.id)
            raise
        if idempotency_key:
            self._keys[(owner, idempotency_key)] = request.id
        return await self.status(request.id), True

    async def retry(self, job_id: str, owner_quota: int | None = None) -> JobRecord:
        """Queue a failed or cancelled job again, or a done one whose outputs were cleaned;
        its stored parts are reused, so only what is missing is made."""
        job = self._job(job_id)
        status = job.record.status
        if status == JobStatus.done:
            if not await asyncio.to_thread(self.journal.outputs_missing, job.record):
                raise IllegalTransition(f"job {job_id} is done and its outputs exist: download "
                                        "them; only a done job whose outputs were cleaned can "
                                        "be retried", status.value, "queued")
        elif status not in (JobStatus.failed, JobStatus.cancelled):
            raise IllegalTransition(f"job {job_id} is {status.value}: only failed or cancelled "
                                    "jobs can be retried", status.value, "queued")
        self._check_capacity(job.record.owner, owner_quota)
        job.record.requeue()
        job.record.outputs = {}  # published again when it is done
        job.task = job.run = job.result = job.error = None
        self.queue.push(job_id, job.record.priority)
        self._save(job.record)
        self._schedule()
        return await self.status(job_id)

    async def keeps_home(self) -> bool:
        """Whether its journal keeps a job home (the service's farm) or not (a render's)."""
        return self.journal.home is not None

    async def status(self, job_id: str) -> JobRecord:
        return self._job(job_id).record.model_copy(deep=True)

    async def list_jobs(self) -> list[JobRecord]:
        return [j.record.model_copy(deep=True) for j in self.jobs.values()]

    async def watch(self, job_id: str, seen: int = -1, timeout: float | None = None
                    ) -> tuple[int, JobRecord]:
        """(version, record) once the job changed after version ``seen``: at once if it has
        or has ended, else at its next change or after ``timeout`` seconds. A client follows
        a job with one call per change instead of polling copies of it."""
        job = self._job(job_id)
        if job.version <= seen and job.record.unfinished:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(job.change.wait(), timeout)
        return job.version, job.record.model_copy(deep=True)

    async def wait(self, job_id: str) -> RenderResult:
        """The job's result once it is done; its error if it failed or was cancelled."""
        job = self._job(job_id)
        while job.task is None and job.record.status == JobStatus.queued:
            await job.change.wait()
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
                job.mark_cancelled()
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
        return self.shared.placement()

    async def workers(self) -> list[dict]:
        """One row per worker of every started pool (pools.py: SharedPools.workers)."""
        return await self.shared.workers()

    async def release(self) -> list[dict]:
        """Every worker drops its model and frees its GPU memory; each loads it again on its
        next request (``vidgen farm release``). Returns ``workers()`` afterwards."""
        await self.shared.release()
        return await self.shared.workers()

    async def stats(self) -> dict:
        """What /readyz and /metrics report: queue depth, running jobs, workers per pool."""
        return {"queued": len(self.queue), "running": self._running(),
                "max_queued": self.max_queued, "max_running": self.max_running,
                "workers": self.shared.sizes()}

    async def shutdown(self) -> None:
        """Cancel every job (their finished parts stay), then stop the workers."""
        self._closing = True
        for job in list(self.jobs.values()):
            if job.record.status in (JobStatus.queued, JobStatus.running):
                await self.cancel(job.record.id)
        await self.shared.shutdown()

    # ---- what the job service reads: it has no disk of the farm's --------------------------

    async def scenes(self, job_id: str) -> tuple[Storyboard, list[str]]:
        """The job's storyboard and the keys of its parts stored by now (the scene grid)."""
        job = self._job(job_id)
        return job.storyboard, [k for k in job.record.part_keys() if job.store.has(k)]

    async def part(self, job_id: str, key: str) -> bytes:
        """A stored picture or line of speech of the job, by its content key."""
        job = self._job(job_id)
        if key not in job.record.part_keys() or not job.store.has(key):
            raise NotFoundError("that part is not made yet: see the job's scenes")
        return await asyncio.to_thread(job.store.get, key)

    async def files(self, job_id: str) -> list[str]:
        """The names of the files the job wrote (home.ARTIFACT), sorted."""
        return await asyncio.to_thread(artifact_names, self._job(job_id).out_dir)

    async def file(self, job_id: str, name: str) -> bytes:
        """One file the job wrote, by its name in ``files``; NotFoundError when the name is
        not an artifact's or the file is not there (its outputs were cleaned)."""
        return await asyncio.to_thread(artifact_path(self._job(job_id).out_dir, name).read_bytes)

    async def preview_playlist(self, job_id: str) -> bytes:
        """The job's live preview playlist as a client is served it (preview.served_playlist):
        there from submit on, ended once the job is."""
        job = self._job(job_id)
        try:
            text = await self.file(job_id, preview.PLAYLIST)
        except NotFoundError:
            text = None
        return preview.served_playlist(
            None if text is None else text.decode(), job.settings.fps,
            job.settings.chunk_seconds, not job.record.unfinished).encode()

    # ---- scheduling ------------------------------------------------------------------------

    def _schedule(self) -> None:
        running = self._running()
        while not self._closing and running < self.max_running and len(self.queue):
            job = self.jobs[self.queue.pop()]
            job.record.start()
            job.task = asyncio.get_running_loop().create_task(self._run(job))
            running += 1

    async def _run(self, job: FarmJob) -> None:
        try:
            self._save(job.record)
            pools = await self.shared.for_settings(
                job.settings, user=job.record.id,
                motion=bool(clip_scenes(job.storyboard, job.settings)),
                beds=uses_beds(job.storyboard, job.settings),
                talking=bool(talking_lines(job.storyboard, job.settings)))
            job.run = JobRun(job.record, job.storyboard, job.settings, job.out_dir, job.store,
                             RayExecutor(pools, job.record.id), self._save)
            job.result = await job.run.run()
            job.record.timings = dict(job.result.timings)
            await self._publish(job)
            job.record.finish()
        except asyncio.CancelledError:
            job.mark_cancelled()
        except VidgenError as exc:
            job.error = job.mark_failed(exc, self.journal)
        except Exception as exc:  # a bug, not the user's fault: keep the job record honest
            log.exception("job %s: unexpected error in the %s stage", job.record.id,
                          job.run.stage if job.run else "setup")
            job.error = job.mark_failed(RenderError(
                f"{type(exc).__name__}: {exc}", public=UNEXPECTED), self.journal)
        finally:
            # Whatever its tasks on this node left (a killed task cannot clean up itself).
            scratch.remove_job_root(job.record.id)
            self.shared.leave(job.record.id)  # its pools may be retired once idle
            with contextlib.suppress(VidgenError):  # its folder went away: never stall others
                self._save(job.record)
            self._schedule()

    async def _publish(self, job: FarmJob) -> None:
        """Hand a finished job's files on before it is called done (a home journal's bucket:
        the API then answers downloads with presigned links)."""
        if self.journal.store is not None:
            job.record.outputs = await asyncio.to_thread(self.journal.publish, job.out_dir)

    def _job(self, job_id: str) -> FarmJob:
        if job_id not in self.jobs:
            raise NotFoundError(f"no job {job_id!r} on this farm: list jobs to see their ids")
        return self.jobs[job_id]

    def _save(self, record: JobRecord, state_changed: bool = True) -> None:
        """A job's record changed: watchers wake, the journal writes it (synced to the disk
        only when its state moved). Also the JobRun's ``changed`` callback."""
        job = self.jobs.get(record.id)
        if job is not None:
            job.version += 1
            change, job.change = job.change, asyncio.Event()
            change.set()
            self.journal.save(record, job.store.root, state_changed)

    def _running(self) -> int:
        return sum(j.record.status == JobStatus.running for j in self.jobs.values())

    def _check_capacity(self, owner: str | None = None, owner_quota: int | None = None
                        ) -> None:
        check_capacity(len(self.queue), self._running(), self.max_queued, self.max_running,
                       self.retry_after)
        # Counted here, in the farm's one event loop: two submits at once cannot both take
        # the last place of a key's quota.
        check_owner_quota(sum(j.record.owner == owner and j.record.unfinished
                              for j in self.jobs.values()), owner_quota, self.retry_after)
