"""MotionWorker: one resident video model (LTX-Video) in one process, making moving shots."""

from __future__ import annotations

from collections.abc import Callable

from vidgen_ray.config import RenderSettings
from vidgen_ray.farm.actors.resident import SteppedResident
from vidgen_ray.motion import create_motion_backend
from vidgen_ray.motion.base import ClipRequest, MotionBackend


class MotionWorker(SteppedResident):
    STEPPED = ("ltx",)

    def __init__(self, backend_name: str, settings: RenderSettings,
                 factory: Callable[[], MotionBackend] | None = None):
        super().__init__(factory or (lambda: create_motion_backend(backend_name, settings)))

    def make_clips(self, requests: list[ClipRequest]) -> list[bytes]:
        """One MP4 per request, in order (a pool sends one clip a call)."""
        return self._each("make_clip", requests)
