"""BedWorker: one resident bed model (Stable Audio Open) in one process, making music and
ambience beds."""

from __future__ import annotations

import threading
from collections.abc import Callable

from vidgen_ray.beds import create_bed_backend
from vidgen_ray.beds.base import BedBackend, BedRequest
from vidgen_ray.config import RenderSettings
from vidgen_ray.farm.actors.resident import Resident


class BedWorker(Resident):
    def __init__(self, backend_name: str, settings: RenderSettings,
                 factory: Callable[[], BedBackend] | None = None):
        super().__init__(factory or (lambda: create_bed_backend(backend_name, settings)))
        self.steps = {"done": 0, "total": 0}  # denoising steps of the bed in progress
        # Threaded like the motion workers (progress() answers mid-bed); one bed at a time.
        self._making = threading.Lock()

    def make_beds(self, requests: list[BedRequest]) -> list[bytes]:
        """One WAV per request, in order (a pool sends one bed a call)."""
        backend = self._loaded()
        with self._making, self._timed_call(len(requests)):
            beds = [backend.make_bed(request, on_step=self._on_step)
                    if getattr(backend, "name", None) == "stable_audio"
                    else backend.make_bed(request) for request in requests]
            self.served += 1
        return beds

    def _on_step(self, done: int, total: int) -> None:
        self.steps = {"done": done, "total": total}

    def progress(self) -> dict:
        return dict(self.steps)

    def health(self) -> dict:
        return {**super().health(), "steps": self.progress()}
