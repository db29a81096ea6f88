"""TalkingWorker: one resident talking model (LTX-2) in one process, making talking shots."""

from __future__ import annotations

from collections.abc import Callable

from vidgen_ray.config import RenderSettings
from vidgen_ray.farm.actors.resident import SteppedResident
from vidgen_ray.motion import create_talking_backend
from vidgen_ray.motion.talking import TalkingBackend, TalkingRequest


class TalkingWorker(SteppedResident):
    STEPPED = ("ltx2-talking",)

    def __init__(self, backend_name: str, settings: RenderSettings,
                 factory: Callable[[], TalkingBackend] | None = None):
        super().__init__(factory or (lambda: create_talking_backend(backend_name, settings)))

    def make_clips(self, requests: list[TalkingRequest]) -> list[bytes]:
        """One MP4 per request, in order (a pool sends one clip a call)."""
        return self._each("make_clip", requests)
