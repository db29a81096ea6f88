"""One job as the Farm holds it (scheduler.py): its record, storyboard, settings and parts
store, the task that runs it, and how it ends when it does not succeed (cancelled, or failed
with a message fit for clients)."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from vidgen_ray.config import RenderSettings
from vidgen_ray.errors import RenderError, VidgenError, client_message
from vidgen_ray.farm.jobs import JobRecord
from vidgen_ray.farm.journal import FolderJournal
from vidgen_ray.pipeline.flow import JobRun, RenderResult
from vidgen_ray.pipeline.stage_errors import headline, word
from vidgen_ray.storage import LocalStore
from vidgen_ray.storyboard import Storyboard

log = logging.getLogger("vidgen.farm")


@dataclass
class FarmJob:
    record: JobRecord
    storyboard: Storyboard
    settings: RenderSettings
    out_dir: Path
    store: LocalStore
    task: asyncio.Task | None = None
    run: JobRun | None = None
    result: RenderResult | None = None
    error: VidgenError | None = None
    version: int = 0  # counts the record's changes (``Farm.watch``)
    change: asyncio.Event = field(default_factory=asyncio.Event)  # set, then renewed, per change

    def mark_cancelled(self) -> None:
        self.record.cancel()
        self.error = RenderError(f"job {self.record.id} was cancelled; its finished parts are "
                                 "kept for a retry", stage="cancelled")

    def mark_failed(self, exc: VidgenError, journal: FolderJournal) -> VidgenError:
        """Record the failure for clients (no paths, no program output; the scene whose part
        failed is marked). Returns what ``Farm.wait`` raises: the client's message, with the
        operator's whole story as ``detail`` (a local render prints it; the service logs it)."""
        if journal.home is not None:  # its clients read the record: the story is logged
            log.warning("job %s failed (parts are kept in %s): %s", self.record.id,
                        self.store.root, exc)
        stage = getattr(exc, "stage", None) or (self.run.stage if self.run else "setup")
        scene = getattr(exc, "scene", None)
        if scene is None:  # a part failed and marked its scene before the error was raised
            scene = next((i for i, s in enumerate(self.record.scenes) if s == "failed"), None)
        message = headline(stage, scene, client_message(exc, self._private(journal)))
        if isinstance(exc, RenderError):  # "pictures: scene 3: ..." (stage_errors.py)
            failure = RenderError(message, stage=stage, scene=scene)
            failure.detail = headline(stage, scene, str(exc))  # for a local render's user
        else:  # typed errors (settings, dependencies) keep their type for the API's status
            failure = exc
            failure.public = message
        self.record.fail(message, scene=scene, stage=word(stage))
        return failure

    def _private(self, journal: FolderJournal) -> list[str]:
        """Folders a client must not see in a message (the journal's home among them)."""
        return [str(self.store.root), str(self.out_dir), tempfile.gettempdir(),
                *journal.private()]
