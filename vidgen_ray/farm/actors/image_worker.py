"""ImageWorker: one resident picture backend in one process."""

from __future__ import annotations

import threading
from collections.abc import Callable

from vidgen_ray.config import RenderSettings
from vidgen_ray.farm.actors.resident import Resident
from vidgen_ray.images import create_image_backend
from vidgen_ray.images.base import ImageBackend, ImageRequest


class ImageWorker(Resident):
    def __init__(self, backend_name: str, settings: RenderSettings,
                 factory: Callable[[], ImageBackend] | None = None):
        super().__init__(factory or (lambda: create_image_backend(backend_name, settings)))
        self.steps = {"done": 0, "total": 0}  # denoising steps of the call in progress
        # The actor is threaded (placement: max_concurrency) so progress() is answered while
        # a call draws; the lock keeps the calls themselves one at a time on the model.
        self._drawing = threading.Lock()

    def generate(self, requests: list[ImageRequest]) -> list[bytes]:
        """One PNG per request, in order; backends with steps (SDXL) report each one."""
        backend = self._loaded()
        with self._drawing, self._timed_call(len(requests)):
            self.steps = {"done": 0, "total": 0}
            if getattr(backend, "name", None) == "sdxl":
                pngs = backend.generate(requests, on_step=self._on_step)
            else:
                pngs = backend.generate(requests)
            self.served += 1
        return pngs

    def _on_step(self, done: int, total: int) -> None:
        self.steps = {"done": done, "total": total}

    def progress(self) -> dict:
        """Denoising steps done / total of the call in progress (or the last one)."""
        return dict(self.steps)

    def health(self) -> dict:
        return {**super().health(), "steps": self.progress()}
