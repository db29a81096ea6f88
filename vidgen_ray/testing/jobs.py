"""One job run in this process, for tests of the job flow with real backends (no Ray)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from vidgen_ray.config import RenderSettings
from vidgen_ray.pipeline import flow
from vidgen_ray.pipeline.in_process import InProcessExecutor
from vidgen_ray.pipeline.job_record import JobRecord
from vidgen_ray.storage import LocalStore
from vidgen_ray.storyboard import Storyboard


def run_job(board: Storyboard, settings: RenderSettings, out: Path, store: LocalStore,
            factories: dict[str, Callable[[], object]] | None = None
            ) -> tuple[flow.JobRun, flow.RenderResult, JobRecord]:
    """``board`` rendered into ``out`` from ``store`` by the in-process executor (its
    backends built by ``factories`` where given): the run, its result and its record."""
    record = JobRecord(out_dir=str(out), scenes=["queued"] * len(board.scenes))
    record.start()
    run = flow.JobRun(record, board, settings, out, store,
                      InProcessExecutor(settings, record.id, factories=factories),
                      lambda r, state: None)
    return run, asyncio.run(run.run()), record


class Counter:
    """How many requests the backends a ``factory`` builds were asked to make (``made``;
    a test sets it to 0 before a run)."""

    def __init__(self):
        self.made = 0

    def factory(self, build: Callable[[], object], method: str) -> Callable[[], object]:
        """A run_job factory: ``build()``'s backend, each ``method`` call counted."""
        def make():
            backend = build()
            call = getattr(backend, method)

            def counted(request, *args, **kwargs):
                self.made += 1
                return call(request, *args, **kwargs)
            setattr(backend, method, counted)
            return backend
        return make
