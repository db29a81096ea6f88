"""ImageWorker: one resident picture backend in one process."""

from __future__ import annotations

from collections.abc import Callable

from vidgen_ray.actors.resident import Resident
from vidgen_ray.config import RenderSettings
from vidgen_ray.images import create_image_backend
from vidgen_ray.images.base import ImageBackend, ImageRequest


class ImageWorker(Resident):
    def __init__(self, backend_name: str, settings: RenderSettings,
                 factory: Callable[[], ImageBackend] | None = None):
        super().__init__(factory or (lambda: create_image_backend(backend_name, settings)))

    def generate(self, requests: list[ImageRequest]) -> list[bytes]:
        """One PNG per request, in order."""
        pngs = self._loaded().generate(requests)
        self.served += 1
        return pngs
