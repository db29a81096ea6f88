"""ImageWorker: one resident picture backend in one process."""

from __future__ import annotations

from collections.abc import Callable

from vidgen_ray.config import RenderSettings
from vidgen_ray.farm.actors.resident import SteppedResident
from vidgen_ray.images import create_image_backend
from vidgen_ray.images.base import ImageBackend, ImageRequest


class ImageWorker(SteppedResident):
    def __init__(self, backend_name: str, settings: RenderSettings,
                 factory: Callable[[], ImageBackend] | None = None):
        super().__init__(factory or (lambda: create_image_backend(backend_name, settings)))

    def generate(self, requests: list[ImageRequest]) -> list[bytes]:
        """One PNG per request, in order, drawn as one batch; backends with steps (SDXL)
        report each one."""
        backend = self._loaded()
        with self._calling, self._timed_call(len(requests)):
            self.steps = {"done": 0, "total": 0}
            if getattr(backend, "name", None) == "sdxl":
                pngs = backend.generate(requests, on_step=self._on_step)
            else:
                pngs = backend.generate(requests)
            self.served += 1
        return pngs
