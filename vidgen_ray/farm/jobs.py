"""Job records persisted atomically, the queue, and the farm's capacity check.

The records and their state machines are pure data (pipeline/job_record.py, re-exported
here so callers keep importing them from the farm). Records are written to a temporary file
beside the real one and then renamed over it, so a crash never leaves half a record under a
job's name.

Pure apart from the file I/O in ``save_record`` / ``load_record``: no Ray, no asyncio.
Its errors (``IllegalTransition``, ``FarmSaturated``, ``RecordError``) live in errors.py.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import os
import tempfile
from pathlib import Path

from pydantic import ValidationError

from vidgen_ray.errors import (  # noqa: F401  (FarmSaturated, IllegalTransition re-exported)
    FarmSaturated,
    IllegalTransition,
    OutputError,
    RecordError,
)
from vidgen_ray.pipeline.job_record import (  # noqa: F401  (re-exported for callers)
    JOB_ID,
    JOB_TRANSITIONS,
    SCENE_TRANSITIONS,
    STAGES,
    JobRecord,
    JobStatus,
    SceneParts,
    SceneStatus,
    StageProgress,
    advance,
    new_job_id,
)

log = logging.getLogger("vidgen.farm")


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
