"""Where a Farm writes its jobs down, given to it when it is built.

    FolderJournal   a local render's: each job's record beside its parts (<parts>/jobs/),
                    where running the same command again finds them. Nothing to take up.
    HomeJournal     the job service's: every accepted request and every record in a JobHome
                    (home.py), state changes mirrored to an S3 bucket when results go there;
                    ``recover`` gives the Farm back every job, unfinished ones requeued.

A record is written on every change, but synced to the disk (fsync) only when the job's
state moves: progress counts lost in a crash are counted again by the next run. Pure apart
from file and S3 I/O: no Ray, no asyncio.
"""

from __future__ import annotations

import logging
from pathlib import Path

from vidgen_ray.config import RenderSettings, load_settings
from vidgen_ray.errors import RenderError, VidgenError, client_message
from vidgen_ray.farm.home import (
    OUTPUT_FILES,
    OUTPUT_SUFFIXES,
    JobHome,
    Recovered,
    StoredRequest,
    output_key,
)
from vidgen_ray.farm.jobs import JobRecord, JobStatus, save_record
from vidgen_ray.pipeline import media
from vidgen_ray.pipeline.manifest import file_digest
from vidgen_ray.storage import open_store
from vidgen_ray.storyboard import Storyboard

__all__ = ["FolderJournal", "HomeJournal"]
log = logging.getLogger("vidgen.farm")


class FolderJournal:
    """Records beside each job's parts; no home, so the farm takes no service requests."""

    home: JobHome | None = None
    store = None  # where finished outputs are published (None: they stay in the job's folder)

    def recover(self) -> list[Recovered]:
        return []

    def save(self, record: JobRecord, parts: Path, state_changed: bool = True) -> None:
        save_record(record, Path(parts) / "jobs", sync=state_changed)

    def publish(self, out_dir: Path) -> dict[str, str]:
        """Where a finished job's outputs were copied (name -> key); {}: nowhere else."""
        return {}

    def outputs_missing(self, record: JobRecord) -> bool:
        return not all((Path(record.out_dir) / name).is_file()
                       for name in OUTPUT_FILES.values())

    def private(self) -> list[str]:
        """Folders of its own that a client must not see in a message."""
        return []


class HomeJournal(FolderJournal):
    """The service's journal: ``home`` a folder, ``store_url`` the S3 location results (and a
    copy of every request and record) go to, or None."""

    def __init__(self, home: str | Path, store_url: str | None = None,
                 endpoint_url: str | None = None):
        self.store_url, self.endpoint_url = store_url, endpoint_url
        self.store = (open_store(store_url, OUTPUT_SUFFIXES, endpoint_url=endpoint_url)
                      if store_url else None)
        self.home = JobHome(home, mirror=self.store)
        self._mirrored: dict[str, tuple[JobStatus, int]] = {}  # id -> what the bucket holds

    def __reduce__(self):
        """Sent to the Farm actor as its arguments (an S3 client does not travel)."""
        return type(self), (str(self.home.root), self.store_url, self.endpoint_url)

    def recover(self) -> list[Recovered]:
        """Every job of the home, oldest first, each with its settings (home.py)."""
        found = self.home.recover()
        for job in found:
            job.settings = self._settings(job)
        return found

    def _settings(self, found: Recovered) -> RenderSettings:
        """The job's settings; defaults, and an unfinished job failed saying why, when this
        version no longer takes them (they were valid when the job was accepted)."""
        try:
            return load_settings(**found.request.settings)
        except VidgenError as exc:
            if found.resumed:
                found.record.start()
                found.record.fail("its settings are no longer valid: "
                                  f"{client_message(exc, self.private())}")
                found.resumed = False
            return load_settings()

    def place_media(self, storyboard: Storyboard, settings: RenderSettings, sent: dict,
                    files: dict[str, bytes]) -> tuple[Storyboard, RenderSettings, dict]:
        """The job with its uploads (key -> bytes) kept in the home and every media name
        (an upload's key, as the service sent it) replaced by the file's path here: the
        storyboard, the parsed settings, and the settings as sent (which are stored)."""
        kept = self.home.keep_media(files)
        missing = [key for key in media.references(storyboard, sent.get("music"))
                   if key not in kept]
        if missing:
            raise RenderError(f"the job names media that were not sent with it: "
                              f"{', '.join(missing)[:200]}")
        storyboard = media.resolve(storyboard, kept.__getitem__)
        if sent.get("music") in kept:  # the service set both to the upload's key
            sent = {**sent, "music": kept[sent["music"]]}
            settings = settings.model_copy(update={"music": sent["music"]})
        return storyboard, settings, sent

    def accept(self, request: StoredRequest) -> Path:
        """Write a job's request (first: a record without its request cannot resume) and
        make its outputs folder, which it returns."""
        self.home.save_request(request)
        return self.home.make_out_dir(request.id)

    def forget(self, job_id: str) -> None:
        self.home.forget(job_id)

    def save(self, record: JobRecord, parts: Path, state_changed: bool = True) -> None:
        """Locally on every change; to the bucket when the job's state or priority changes
        (enough to resume in order: parts are remade where they are missing)."""
        super().save(record, parts, state_changed)
        self.mirror(record)

    def mirror(self, record: JobRecord) -> None:
        mirrored = (record.status, record.priority)
        if self.store is None or self._mirrored.get(record.id) == mirrored:
            return
        try:
            self.home.mirror_record(record)
        except Exception as exc:  # the bucket is away: the next change tries again
            log.warning("cannot copy job record %s to %s: %s", record.id, self.store.url, exc)
            return
        self._mirrored[record.id] = mirrored

    def publish(self, out_dir: Path) -> dict[str, str]:
        """With an S3 store, put every output there under its content key (the API then
        answers downloads with presigned links); {} without one."""
        if self.store is None:
            return {}
        outputs = {}
        for name, filename in OUTPUT_FILES.items():
            path = Path(out_dir) / filename
            outputs[name] = output_key(name, file_digest(path))
            self.store.put_file(outputs[name], path)
        return outputs

    def outputs_missing(self, record: JobRecord) -> bool:
        """Whether any of a done job's outputs is gone: from the bucket when it was
        published there, else from its outputs folder."""
        if record.outputs and self.store is not None:
            return not all(self.store.has(key) for key in record.outputs.values())
        return not all(self.home.output_path(record.id, name).is_file()
                       for name in OUTPUT_FILES)

    def private(self) -> list[str]:
        return [str(self.home.root)]
