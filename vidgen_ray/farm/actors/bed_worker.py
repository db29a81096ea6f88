"""BedWorker: one resident bed model (Stable Audio Open) in one process, making music and
ambience beds."""

from __future__ import annotations

from collections.abc import Callable

from vidgen_ray.beds import create_bed_backend
from vidgen_ray.beds.base import BedBackend, BedRequest
from vidgen_ray.config import RenderSettings
from vidgen_ray.farm.actors.resident import SteppedResident


class BedWorker(SteppedResident):
    STEPPED = ("stable_audio",)

    def __init__(self, backend_name: str, settings: RenderSettings,
                 factory: Callable[[], BedBackend] | None = None):
        super().__init__(factory or (lambda: create_bed_backend(backend_name, settings)))

    def make_beds(self, requests: list[BedRequest]) -> list[bytes]:
        """One WAV per request, in order (a pool sends one bed a call)."""
        return self._each("make_bed", requests)
