"""A job home: the folder where the service's Farm keeps every job it accepted, so that a
restarted Farm (actor restart, or a new cluster on the same folder) takes them up again.

    <home>/requests/<id>.json    what was asked: storyboard, settings, priority, owner, key
    <home>/parts/                content-addressed parts shared by all jobs (reruns reuse them)
    <home>/parts/jobs/<id>.json  the job's record (JobRecord), rewritten on every state change
    <home>/parts/media/<sha256>.<ext>  the media uploaded with the jobs (pictures, clips, music)
    <home>/outputs/<id>/         the job's video, subtitles, storyboard.json, manifest.json

The request is written before the job is queued and never changes, so a job whose record is
missing or behind is rebuilt from it. Job ids are checked against ``JOB_ID`` before they
touch a path. Pure apart from file I/O: no Ray, no asyncio.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vidgen_ray.errors import NotFoundError, OutputError, RecordError, RenderError
from vidgen_ray.farm.jobs import JOB_ID, JobRecord, JobStatus, load_record
from vidgen_ray.storyboard import Storyboard

# The files a job publishes, by the name the API serves them under.
OUTPUT_FILES = {"video": "video.mp4", "subtitles.srt": "subtitles.srt",
                "subtitles.vtt": "subtitles.vtt", "storyboard": "storyboard.json",
                "manifest": "manifest.json"}
# Every file a job may write into its output folder (renditions, sound exports included):
# the only names a job's files are served under, so a request can never name another path.
ARTIFACT = re.compile(
    r"(video(-\d{2,4}x\d{2,4})?\.mp4|subtitles\.(srt|vtt)|storyboard\.json|manifest\.json"
    r"|qc\.json|cast\.json|timeline\.(otio|fcpxml|edl)"
    r"|(mix|stems/(speech|music|ambience|effects))\.(wav|flac|mp3|m4a))")
# The live preview (pipeline/preview.py): served while the job runs, not listed among its
# files (a long video has hundreds of segments).
PREVIEW = re.compile(r"preview\.m3u8|preview/\d{5}\.ts")
# In an S3 store: kind (from the API name) -> object suffix, so a downloaded file opens.
OUTPUT_SUFFIXES = {name.replace(".", "-"): Path(file).suffix
                   for name, file in OUTPUT_FILES.items()}
_JOB_ID = re.compile(JOB_ID)
# An uploaded file's name in the home: the sha256 of its bytes and the client's extension.
MEDIA_KEY = re.compile(r"[0-9a-f]{64}(\.[a-z0-9]{1,8})?")


def media_key(data: bytes, name: str) -> str:
    """The name an upload is kept under (its content, so a resent file is kept once), with
    the extension of ``name`` as the client gave it, where it is a plain one."""
    suffix = PurePosixPath(name).suffix.lower()
    suffix = suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ""
    return f"{hashlib.sha256(data).hexdigest()}{suffix}"


def output_key(name: str, digest: str) -> str:
    """The content key of a published output: its kind from its API name, its sha256."""
    return f"{name.replace('.', '-')}/{digest}"


def artifact_names(out_dir: Path) -> list[str]:
    """The files a job wrote, as the artifact route names them, sorted."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        return []
    names = (p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*") if p.is_file())
    return sorted(n for n in names if ARTIFACT.fullmatch(n))


def artifact_path(out_dir: Path, name: str) -> Path:
    """The file ``name`` of a job's outputs or its preview; NotFoundError for any other name."""
    if not (ARTIFACT.fullmatch(name) or PREVIEW.fullmatch(name)):
        raise NotFoundError(f"no artifact {name[:80]!r}: list the job's files at "
                            "/v1/jobs/<id>/files")
    path = Path(out_dir) / name
    if not path.is_file() or not path.resolve().is_relative_to(Path(out_dir).resolve()):
        raise NotFoundError(f"this job has no {name}: list its files at /v1/jobs/<id>/files")
    return path


class StoredRequest(BaseModel):
    """A job as it was asked for; enough to run it again from nothing."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=JOB_ID)
    storyboard: Storyboard
    settings: dict = Field(default_factory=dict)
    priority: int = Field(0, ge=-100, le=100)
    owner: str | None = None
    idempotency_key: str | None = None
    created: float = Field(default_factory=time.time)


@dataclass
class Recovered:
    request: StoredRequest
    record: JobRecord
    resumed: bool  # it was unfinished and has been put back in the queue
    settings: Any = None  # its RenderSettings, once the journal has read them


def check_job_id(job_id: str) -> str:
    """The id if it is one; else NotFoundError (an id that is not one names no job, and
    must never reach a path: ``../x``, ``%2e%2e``, absolute paths)."""
    if not isinstance(job_id, str) or not _JOB_ID.fullmatch(job_id):
        raise NotFoundError(f"no job {str(job_id)[:80]!r}: job ids look like job-0123456789ab")
    return job_id


class JobHome:
    """``mirror``: an S3Store whose bucket also keeps the requests and records (under
    ``<prefix>requests/`` and ``<prefix>jobs/``), so a new cluster with an empty working
    folder takes the jobs up from the bucket."""

    def __init__(self, root: str | Path, mirror=None):
        self.root = Path(root).expanduser().resolve()
        self.mirror = mirror

    @property
    def parts(self) -> Path:
        return self.root / "parts"

    @property
    def records(self) -> Path:
        return self.parts / "jobs"  # where the Farm writes records (beside a job's parts)

    @property
    def media(self) -> Path:
        return self.parts / "media"  # uploads, beside the parts: kept as long as they are

    def keep_media(self, files: dict[str, bytes]) -> dict[str, str]:
        """Each upload (key -> bytes, keys from ``media_key``) written into ``media`` unless
        it is there already: key -> its path. A key that is not its bytes' is refused."""
        kept = {}
        for key, data in files.items():
            if not MEDIA_KEY.fullmatch(key) or not key.startswith(
                    hashlib.sha256(data).hexdigest()):
                raise RenderError(f"upload {key[:80]!r} is not named by its sha256: the "
                                  "service names each upload with media_key")
            path = self.media / key
            if not path.is_file():
                _write_atomic(path, data, ".tmp-upload-")  # cleanup.py: an interrupted write
            kept[key] = str(path)
        return kept

    def out_dir(self, job_id: str) -> Path:
        return self.root / "outputs" / check_job_id(job_id)

    def make_out_dir(self, job_id: str) -> Path:
        folder = self.out_dir(job_id)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create {folder}: {exc.strerror}: make the folder "
                              "writable or set VIDGEN_STORAGE to another one") from exc
        return folder

    def output_path(self, job_id: str, name: str) -> Path:
        """The file the API serves as ``name`` (a key of OUTPUT_FILES) of that job."""
        if name not in OUTPUT_FILES:
            raise NotFoundError(f"no output {name!r}: outputs are {', '.join(OUTPUT_FILES)}")
        return self.out_dir(job_id) / OUTPUT_FILES[name]

    def save_request(self, request: StoredRequest) -> None:
        text = request.model_dump_json(indent=2) + "\n"
        _write_atomic(self.root / "requests" / f"{check_job_id(request.id)}.json", text)
        self._put("requests", request.id, text)

    def load_request(self, job_id: str) -> StoredRequest:
        """What a job asked for (its storyboard: the web monitor's scene grid)."""
        path = self.root / "requests" / f"{check_job_id(job_id)}.json"
        try:
            return StoredRequest.model_validate_json(path.read_bytes())
        except (OSError, ValidationError) as exc:
            raise NotFoundError(f"job {job_id} has no readable request in {path.parent}: "
                                "it was made by another farm home") from exc

    def mirror_record(self, record: JobRecord) -> None:
        """Copy a record to the bucket (the farm calls this when a job's state changes)."""
        self._put("jobs", record.id, record.model_dump_json(indent=2) + "\n")

    def _put(self, folder: str, job_id: str, text: str) -> None:
        if self.mirror is not None:  # S3 puts are atomic: a reader sees all or nothing
            self.mirror.client.put_object(Bucket=self.mirror.bucket, Body=text.encode(),
                                          Key=f"{self.mirror.prefix}{folder}/{job_id}.json")

    def _pull(self) -> None:
        """Copy the bucket's requests and records that this folder lacks (a folder's copy
        is never older: it is written first)."""
        client, bucket = self.mirror.client, self.mirror.bucket
        for folder, local in (("requests", self.root / "requests"), ("jobs", self.records)):
            prefix = f"{self.mirror.prefix}{folder}/"
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                                         Prefix=prefix):
                for item in page.get("Contents", []):
                    name = item["Key"][len(prefix):]
                    if not (name.endswith(".json") and _JOB_ID.fullmatch(name[:-5])):
                        continue  # not ours, or a name that must not become a path
                    if not (local / name).exists():
                        body = client.get_object(Bucket=bucket, Key=item["Key"])["Body"]
                        _write_atomic(local / name, body.read().decode("utf-8"))

    def forget(self, job_id: str) -> None:
        """Undo an accepted job that could not be queued: its request and empty folder."""
        (self.root / "requests" / f"{check_job_id(job_id)}.json").unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # not empty: something was made, keep it
            self.out_dir(job_id).rmdir()

    def recover(self) -> list[Recovered]:
        """Every job of this home, oldest first; unfinished ones put back in the queue with
        their done scenes kept. A broken request file is skipped (it names no runnable
        job); a broken record becomes a failed job that says why."""
        if self.mirror is not None:
            self._pull()
        found = []
        folder = self.root / "requests"
        paths = sorted(folder.glob("job-*.json")) if folder.is_dir() else []
        for path in paths:
            try:
                request = StoredRequest.model_validate_json(path.read_bytes())
            except (OSError, ValidationError):
                continue
            if request.id != path.stem:
                continue
            record, resumed = self._record(request)
            found.append(Recovered(request, record, resumed))
        return sorted(found, key=lambda r: (r.request.created, r.request.id))

    def _record(self, request: StoredRequest) -> tuple[JobRecord, bool]:
        path = self.records / f"{request.id}.json"
        fresh = JobRecord(id=request.id, priority=request.priority, owner=request.owner,
                          out_dir=str(self.out_dir(request.id)), title=request.storyboard.title,
                          created=request.created,
                          scenes=["queued"] * len(request.storyboard.scenes))
        if not path.exists():  # the farm stopped between writing the request and the record
            return fresh, True
        try:
            record = load_record(path)
        except RecordError as exc:
            return fresh.model_copy(update={"status": JobStatus.failed, "error": str(exc),
                                            "finished": time.time()}), False
        if record.status == JobStatus.running:
            record.requeue()  # running -> queued; its running scenes go back to queued
        return record, record.status == JobStatus.queued


def _write_atomic(target: Path, text: str | bytes, prefix: str | None = None) -> None:
    data = text.encode("utf-8") if isinstance(text, str) else text
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=prefix or f".{target.stem}.",
                                    suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror}: make the folder writable "
                          "or set VIDGEN_STORAGE to another one") from exc
