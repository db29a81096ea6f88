"""Job records and their states: explicit state machines, persisted atomically.

A job and each of its scenes move through the states in ``JOB_TRANSITIONS`` and
``SCENE_TRANSITIONS``; ``advance`` is the only way to change one, so an illegal move (a done
job started again, a cancelled scene finishing) is a loud ``IllegalTransition``, not a
silently wrong record. Records are written to a temporary file beside the real one and then
renamed over it, so a crash never leaves half a record under a job's name.

Pure apart from the file I/O in ``save_record`` / ``load_record``: no Ray, no asyncio.

    VidgenError
    ├── IllegalTransition   (409) a state change the tables do not allow
    ├── FarmSaturated       (429) the queue is full; ``retry_after`` seconds
    └── RecordError         (500) a job record on disk cannot be read
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import os
import secrets
import tempfile
import time
from enum import Enum
from pathlib import Path
from typing import TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from vidgen_ray.errors import OutputError, VidgenError

JOB_ID = r"^[a-z0-9][a-z0-9-]{5,63}$"
STAGES = ("speech", "images", "video", "mux")
log = logging.getLogger("vidgen.farm")


class JobStatus(str, Enum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"


class SceneStatus(str, Enum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"
    stopped = "stopped"  # not finished because another part of its job failed


JOB_TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.queued: frozenset({JobStatus.running, JobStatus.cancelled}),
    # running -> queued: a restarted farm puts back the jobs its predecessor was running.
    JobStatus.running: frozenset({JobStatus.done, JobStatus.failed, JobStatus.cancelled,
                                  JobStatus.queued}),
    JobStatus.failed: frozenset({JobStatus.queued}),  # retry
    JobStatus.cancelled: frozenset({JobStatus.queued}),  # resume
    # done -> queued: made again after its outputs were cleaned (Farm.retry allows it
    # only when they are missing; its stored parts are reused).
    JobStatus.done: frozenset({JobStatus.queued}),
}
SCENE_TRANSITIONS: dict[SceneStatus, frozenset[SceneStatus]] = {
    # queued -> done: every part of the scene is already stored, nothing to run.
    SceneStatus.queued: frozenset({SceneStatus.running, SceneStatus.done,
                                   SceneStatus.cancelled, SceneStatus.stopped}),
    # running -> queued: its worker died, or the job was put back after a farm restart.
    SceneStatus.running: frozenset({SceneStatus.done, SceneStatus.failed,
                                    SceneStatus.cancelled, SceneStatus.stopped,
                                    SceneStatus.queued}),
    SceneStatus.failed: frozenset({SceneStatus.queued}),
    SceneStatus.cancelled: frozenset({SceneStatus.queued}),
    SceneStatus.stopped: frozenset({SceneStatus.queued}),
    SceneStatus.done: frozenset(),
}
_State = TypeVar("_State", JobStatus, SceneStatus)
_TABLES = {JobStatus: ("job", JOB_TRANSITIONS), SceneStatus: ("scene", SCENE_TRANSITIONS)}


class IllegalTransition(VidgenError):
    http_status = 409

    def __init__(self, message: str, current: str, new: str):
        super().__init__(message)
        self.current = current
        self.new = new


class FarmSaturated(VidgenError):
    http_status = 429
    retryable = True  # the same request later may well be accepted

    def __init__(self, message: str, retry_after: float):
        super().__init__(message)
        self.retry_after = retry_after


class RecordError(VidgenError):
    pass


def advance(current: _State, new: _State | str) -> _State:
    """``new`` (as a status of ``current``'s kind) if the table allows the move; else raise."""
    kind, table = _TABLES[type(current)]
    new = type(current)(new)
    allowed = table[current]
    if new not in allowed:
        options = " or ".join(sorted(s.value for s in allowed))
        why = f"a {current.value} {kind} can only go to {options}" if options else \
            f"{current.value} is final"
        raise IllegalTransition(f"a {kind} cannot go from {current.value} to {new.value}: {why}",
                                current.value, new.value)
    return new


def new_job_id() -> str:
    return "job-" + secrets.token_hex(6)


class StageProgress(BaseModel):
    model_config = ConfigDict(extra="forbid")

    done: int = Field(0, ge=0)
    total: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _done_within_total(self) -> StageProgress:
        if self.done > self.total:
            raise ValueError(f"progress {self.done}/{self.total}: done cannot exceed total")
        return self


class SceneParts(BaseModel):
    """Where one scene's parts are in the job's parts store (content keys) and when each was
    ready, so the web monitor can show a scene's picture and speech as soon as they exist."""

    model_config = ConfigDict(extra="forbid")

    image: str | None = None
    speech: list[str] = Field(default_factory=list)  # one key per line, in order
    image_ready: float | None = None
    speech_ready: float | None = None  # when its last line was stored


def _fresh_progress() -> dict[str, StageProgress]:
    return {stage: StageProgress() for stage in STAGES}


class JobRecord(BaseModel):
    """One job as the farm persists it and the API reports it."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    id: str = Field(default_factory=new_job_id, pattern=JOB_ID)
    status: JobStatus = JobStatus.queued
    priority: int = Field(0, ge=-100, le=100, description="Higher runs first.")
    created: float = Field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    out_dir: str
    title: str = ""
    scenes: list[SceneStatus] = Field(default_factory=list)
    progress: dict[str, StageProgress] = Field(default_factory=_fresh_progress)
    error: str | None = None
    failed_scene: int | None = Field(None, ge=0)
    timings: dict[str, float] = Field(default_factory=dict)
    # The job service's fields: who submitted it, and where its results were stored
    # (file name -> content key in the service's store).
    owner: str | None = None
    outputs: dict[str, str] = Field(default_factory=dict)
    scene_parts: list[SceneParts] = Field(default_factory=list)  # filled as keys are known

    @field_validator("progress")
    @classmethod
    def _known_stages(cls, progress: dict[str, StageProgress]) -> dict[str, StageProgress]:
        unknown = sorted(set(progress) - set(STAGES))
        if unknown:
            raise ValueError(f"unknown stage {unknown[0]!r}: stages are {', '.join(STAGES)}")
        return progress

    @property
    def unfinished(self) -> bool:
        """Queued or running: what a restarted farm must take up again."""
        return self.status in (JobStatus.queued, JobStatus.running)

    def start(self) -> None:
        self.status = advance(self.status, JobStatus.running)
        self.started = time.time()

    def finish(self) -> None:
        self.status = advance(self.status, JobStatus.done)
        self.finished = time.time()

    def fail(self, message: str, scene: int | None = None) -> None:
        """Failed, with the message (meant for a client: no server paths); ``scene`` (0-based)
        is the scene whose part failed, marked failed if it was running. The other
        unfinished scenes are stopped: nothing of a failed job runs on."""
        self.status = advance(self.status, JobStatus.failed)
        # A bad index is not recorded: raising here would lose the failure being reported.
        if scene is not None and not 0 <= scene < len(self.scenes):
            scene = None
        self.finished, self.error, self.failed_scene = time.time(), message, scene
        if scene is not None and self.scenes[scene] is SceneStatus.running:
            self.set_scene(scene, SceneStatus.failed)
        self._end_scenes(SceneStatus.stopped)

    def cancel(self) -> None:
        self.status = advance(self.status, JobStatus.cancelled)
        self.finished = time.time()
        self._end_scenes(SceneStatus.cancelled)

    def requeue(self) -> None:
        """Back in the queue (retry, resume, farm restart, a done job whose outputs were
        cleaned); done scenes stay done (their parts are stored)."""
        self.status = advance(self.status, JobStatus.queued)
        self.started = self.finished = self.error = self.failed_scene = None
        for index, scene in enumerate(self.scenes):
            if scene not in (SceneStatus.done, SceneStatus.queued):
                self.set_scene(index, SceneStatus.queued)

    def set_scene(self, index: int, status: SceneStatus | str) -> None:
        scenes = list(self.scenes)
        scenes[index] = advance(scenes[index], status)
        self.scenes = scenes  # assigned whole so that pydantic validates it

    def report(self, stage: str, done: int, total: int) -> None:
        if stage not in STAGES:
            raise ValueError(f"unknown stage {stage!r}: stages are {', '.join(STAGES)}")
        self.progress = {**self.progress, stage: StageProgress(done=done, total=total)}

    def _end_scenes(self, status: SceneStatus) -> None:
        for index, scene in enumerate(self.scenes):
            if scene in (SceneStatus.queued, SceneStatus.running):
                self.set_scene(index, status)


# ---- persistence ---------------------------------------------------------------------------

def save_record(record: JobRecord, folder: Path, sync: bool = True) -> Path:
    """Write ``folder/<id>.json`` atomically: a temporary file beside it, then a rename.
    ``sync=False`` skips the fsync (progress counts: a crash may lose them, never the state)."""
    folder = Path(folder)
    target = folder / f"{record.id}.json"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{record.id}.", suffix=".tmp")
    except OSError as exc:
        raise OutputError(f"cannot write job records to {folder}: {exc.strerror}: make the "
                          "folder writable or choose another one") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(record.model_dump_json(indent=2) + "\n")
            out.flush()
            if sync:
                os.fsync(out.fileno())  # the rename must not reach the disk before the data
        os.replace(temp, target)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise OutputError(f"cannot write job record {target}: {exc.strerror}: make the "
                          "folder writable or choose another one") from exc
    return target


def load_record(path: Path) -> JobRecord:
    path = Path(path)
    try:
        record = JobRecord.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise RecordError(f"cannot read job record {path}: {exc.strerror}") from exc
    except ValidationError as exc:  # bad JSON lands here too
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"]) or "record"
        raise RecordError(f"job record {path} is broken ({where}: {error['msg']}): fix it, "
                          "or delete it to forget that job") from exc
    if record.id != path.stem:
        raise RecordError(f"job record {path} holds job {record.id!r}: rename the file to "
                          f"{record.id}.json or delete it")
    return record


def load_records(folder: Path) -> list[JobRecord]:
    """Every record in ``folder``, oldest first; a broken one raises ``RecordError`` naming
    it (temporary files of interrupted writes are not records and are left alone)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    records = [load_record(path) for path in sorted(folder.glob("*.json"))
               if not path.name.startswith(".")]
    return sorted(records, key=lambda r: (r.created, r.id))


# ---- queue and capacity --------------------------------------------------------------------

class JobQueue:
    """Queued job ids: highest priority first, first come first served within a priority.

    A heap with lazy removal: ``remove`` forgets the id and ``pop`` skips its stale entry.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, str]] = []
        self._queued: dict[str, int] = {}  # id -> its entry's sequence number
        self._order = itertools.count()

    def push(self, job_id: str, priority: int = 0) -> None:
        if job_id in self._queued:
            raise ValueError(f"job {job_id} is already queued")
        seq = next(self._order)
        self._queued[job_id] = seq
        heapq.heappush(self._heap, (-priority, seq, job_id))

    def pop(self) -> str | None:
        while self._heap:
            _, seq, job_id = heapq.heappop(self._heap)
            if self._queued.get(job_id) == seq:
                del self._queued[job_id]
                return job_id
        return None

    def reprioritize(self, job_id: str, priority: int) -> None:
        """Move a queued job to ``priority``; it goes behind the jobs already waiting there."""
        if not self.remove(job_id):
            raise ValueError(f"job {job_id} is not queued")
        self.push(job_id, priority)

    def remove(self, job_id: str) -> bool:
        """Forget a queued job (cancelled); False if it was not queued."""
        return self._queued.pop(job_id, None) is not None

    def ids(self) -> list[str]:
        """Queued ids in the order ``pop`` would return them."""
        live = [e for e in self._heap if self._queued.get(e[2]) == e[1]]
        return [job_id for _, _, job_id in sorted(live)]

    def __contains__(self, job_id: object) -> bool:
        return job_id in self._queued

    def __len__(self) -> int:
        return len(self._queued)


def check_capacity(queued: int, running: int, max_queued: int, max_running: int,
                   retry_after: float) -> None:
    """Raise ``FarmSaturated`` if one more job may not be accepted.

    What the cap bounds is jobs that *wait*. A free running slot takes the head of the queue
    at once, so after accepting one more job, ``queued + 1 - free`` jobs wait; the job is
    accepted while that is at most ``max_queued``, i.e. while ``queued < max_queued + free``.
    With no free slot this is ``queued < max_queued``; with ``max_queued=0`` the farm only
    accepts jobs it can start at once.
    """
    if min(queued, running, max_queued) < 0 or max_running < 1 or retry_after < 0:
        raise ValueError("counts and retry_after cannot be negative; max_running must be >= 1")
    free = max(0, max_running - running)
    if queued < max_queued + free:
        return
    # The client hears when to come back; the operator (the log) how to make room.
    log.warning("the farm refused a job: %d queued, %d running (limits %d, %d): raise "
                "VIDGEN_MAX_QUEUED_JOBS or VIDGEN_MAX_RUNNING_JOBS if this is common",
                queued, running, max_queued, max_running)
    raise FarmSaturated(
        f"the farm has {queued} jobs queued and {running} running, its limits are "
        f"{max_queued} queued and {max_running} running: retry in {math.ceil(retry_after)} s",
        retry_after)


def check_owner_quota(unfinished: int, quota: int | None, retry_after: float) -> None:
    """Raise ``FarmSaturated`` if an API key with ``unfinished`` jobs queued or running may
    not add one (``quota`` None: no quota)."""
    if quota is not None and unfinished >= quota:
        raise FarmSaturated(f"this API key already has {unfinished} jobs queued or "
                            f"running, the most one key may have: wait for one to finish "
                            "or cancel one, then submit again", retry_after)
