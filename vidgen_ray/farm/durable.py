"""DurableFarm: the job service's Farm, whose jobs outlive it.

Every accepted job's request is written to a JobHome (home.py) before it is queued, and its
record on every change. On its first call a DurableFarm, new or restarted (``max_restarts``
on the detached actor, or a new cluster on the same folder), reads its home back: finished
jobs stay listable, unfinished ones are queued again and, since parts are content-addressed
in the shared parts folder, do only the work that is missing.

It adds to Farm what the service needs: owners, idempotency keys, retry of failed or
cancelled jobs (and of done jobs whose outputs were cleaned), counts for /metrics, and
publishing outputs to S3 when the store is a bucket.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from vidgen_ray.config import load_settings
from vidgen_ray.errors import RenderError, VidgenError, client_message
from vidgen_ray.farm.home import (
    OUTPUT_FILES,
    OUTPUT_SUFFIXES,
    JobHome,
    Recovered,
    StoredRequest,
    output_key,
)
from vidgen_ray.farm.jobs import (
    FarmSaturated,
    IllegalTransition,
    JobRecord,
    JobStatus,
    check_capacity,
    new_job_id,
)
from vidgen_ray.farm.scheduler import Farm, _Job, _pool_label
from vidgen_ray.pipeline.flow import PART_SUFFIXES
from vidgen_ray.pipeline.manifest import file_digest
from vidgen_ray.storage import LocalStore, open_store
from vidgen_ray.storyboard import Storyboard

__all__ = ["DurableFarm"]
log = logging.getLogger("vidgen.farm")


class DurableFarm(Farm):
    def __init__(self, home: str, store_url: str | None = None,
                 endpoint_url: str | None = None, max_running: int = 2, max_queued: int = 16,
                 retry_after: float = 30.0, factories: dict[str, Callable] | None = None):
        super().__init__(max_running, max_queued, retry_after, factories)
        self.store = (open_store(store_url, OUTPUT_SUFFIXES, endpoint_url=endpoint_url)
                      if store_url else None)
        self.home = JobHome(home, mirror=self.store)
        # id -> the state and priority the bucket holds
        self._mirrored: dict[str, tuple[JobStatus, int]] = {}
        self._keys: dict[tuple[str | None, str], str] = {}  # (owner, idempotency key) -> id
        self._recovered: asyncio.Future | None = None
        self.resumed: list[str] = []  # ids put back in the queue at the last start

    async def _ready(self) -> None:
        """Recover once, before the first call is answered (later calls wait for it)."""
        if self._recovered is None:
            self._recovered = asyncio.ensure_future(asyncio.to_thread(self.home.recover))
            for found in await self._recovered:
                self._adopt(found)
            self._schedule()
        else:
            await self._recovered

    def _adopt(self, found: Recovered) -> None:
        request, record = found.request, found.record
        try:
            settings = load_settings(**request.settings)
        except VidgenError as exc:  # valid when accepted; this version no longer takes it
            settings = load_settings()
            if found.resumed:
                record.start()
                record.fail("its settings are no longer valid: "
                            f"{client_message(exc, [str(self.home.root)])}")
                found.resumed = False
        job = _Job(record, request.storyboard, settings, Path(record.out_dir),
                   LocalStore(self.home.parts, PART_SUFFIXES))
        if record.status in (JobStatus.failed, JobStatus.cancelled):
            job.error = RenderError(record.error or f"job {record.id} was cancelled")
        self.jobs[record.id] = job
        if request.idempotency_key:
            self._keys[(request.owner, request.idempotency_key)] = record.id
        if found.resumed:
            self.queue.push(record.id, record.priority)
            self.resumed.append(record.id)
        self._save(record)

    async def enqueue(self, storyboard: Storyboard, settings: dict, priority: int = 0,
                      owner: str | None = None, idempotency_key: str | None = None,
                      owner_quota: int | None = None) -> tuple[JobRecord, bool]:
        """Queue a job; (its record, True), or (the earlier job's record, False) when this
        owner already sent this idempotency key. FarmSaturated when the farm is full, or
        when ``owner`` already has ``owner_quota`` unfinished jobs (None: no quota)."""
        await self._ready()
        earlier = self._keys.get((owner, idempotency_key)) if idempotency_key else None
        if earlier is not None:
            return await self.status(earlier), False
        parsed = load_settings(**settings)
        # Before anything is written: a refused job leaves no trace.
        self._check_capacity(owner, owner_quota)
        request = StoredRequest(id=new_job_id(), storyboard=storyboard, settings=settings,
                                priority=priority, owner=owner, idempotency_key=idempotency_key)
        self.home.save_request(request)  # first: a record without its request cannot resume
        self.home.make_out_dir(request.id)
        try:
            await self.submit(storyboard, str(self.home.out_dir(request.id)), parsed, priority,
                              parts_dir=str(self.home.parts), job_id=request.id, owner=owner)
        except BaseException:
            self.home.forget(request.id)
            raise
        if idempotency_key:
            self._keys[(owner, idempotency_key)] = request.id
        return await self.status(request.id), True

    async def retry(self, job_id: str, owner_quota: int | None = None) -> JobRecord:
        """Queue a failed or cancelled job again, or a done one whose outputs were cleaned;
        its stored parts are reused, so only what is missing is made."""
        await self._ready()
        job = self._job(job_id)
        status = job.record.status
        if status == JobStatus.done:
            if not await asyncio.to_thread(self._outputs_missing, job.record):
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

    def _outputs_missing(self, record: JobRecord) -> bool:
        """Whether any of a done job's outputs is gone: from the bucket when it was
        published there, else from its outputs folder."""
        if record.outputs and self.store is not None:
            return not all(self.store.has(key) for key in record.outputs.values())
        return not all(self.home.output_path(record.id, name).is_file()
                       for name in OUTPUT_FILES)

    def _failure(self, job: _Job, exc: VidgenError) -> VidgenError:
        """The client reads the record; the operator's detail (program output, paths) goes
        to the log."""
        log.warning("job %s failed (parts are kept in %s): %s", job.record.id, job.store.root,
                    exc)
        return super()._failure(job, exc)

    def _private(self, job: _Job) -> list[str]:
        return [*super()._private(job), str(self.home.root)]

    def _save(self, record: JobRecord) -> None:
        """Locally on every change; to the bucket when the job's state or priority changes
        (enough to resume in order: parts are remade where they are missing)."""
        super()._save(record)
        mirrored = (record.status, record.priority)
        if self.store is None or self._mirrored.get(record.id) == mirrored:
            return
        try:
            self.home.mirror_record(record)
        except Exception as exc:  # the bucket is away: the next change tries again
            log.warning("cannot copy job record %s to %s: %s", record.id, self.store.url, exc)
            return
        self._mirrored[record.id] = mirrored

    def _check_capacity(self, owner: str | None = None, owner_quota: int | None = None
                        ) -> None:
        running = sum(j.record.status == JobStatus.running for j in self.jobs.values())
        check_capacity(len(self.queue), running, self.max_queued, self.max_running,
                       self.retry_after)
        if owner_quota is None:
            return
        # Checked here, in the farm's one event loop, so two submits at once cannot both
        # take the last place of a key's quota.
        unfinished = sum(j.record.owner == owner and j.record.status in (
            JobStatus.queued, JobStatus.running) for j in self.jobs.values())
        if unfinished >= owner_quota:
            raise FarmSaturated(f"this API key already has {unfinished} jobs queued or "
                                f"running, the most one key may have: wait for one to finish "
                                "or cancel one, then submit again", self.retry_after)

    async def status(self, job_id: str) -> JobRecord:
        await self._ready()
        return await super().status(job_id)

    async def list_jobs(self) -> list[JobRecord]:
        await self._ready()
        return await super().list_jobs()

    async def wait(self, job_id: str):
        await self._ready()
        return await super().wait(job_id)

    async def cancel(self, job_id: str) -> JobRecord:
        await self._ready()
        return await super().cancel(job_id)

    async def set_priority(self, job_id: str, priority: int) -> JobRecord:
        await self._ready()
        return await super().set_priority(job_id, priority)

    async def workers(self) -> list[dict]:
        await self._ready()
        return await super().workers()

    async def stats(self) -> dict:
        """What /readyz and /metrics report: queue depth, running jobs, workers per pool."""
        await self._ready()
        return {"queued": len(self.queue),
                "running": sum(j.record.status == JobStatus.running for j in self.jobs.values()),
                "max_queued": self.max_queued, "max_running": self.max_running,
                "workers": {_pool_label(key): len(pool.ready_info)
                            for key, pool in self.pools.items()}}

    async def _publish(self, job: _Job) -> None:
        """With an S3 store, put every output there under its content key; the API then
        answers downloads with presigned links."""
        if self.store is None:
            return
        store, outputs = self.store, {}
        for name, filename in OUTPUT_FILES.items():
            path = job.out_dir / filename
            key = output_key(name, await asyncio.to_thread(file_digest, path))
            await asyncio.to_thread(store.put_file, key, path)
            outputs[name] = key
        job.record.outputs = outputs
