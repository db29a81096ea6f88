"""MotionWorker: one resident video model (LTX-Video) in one process, making moving shots."""

from __future__ import annotations

import threading
from collections.abc import Callable

from vidgen_ray.config import RenderSettings
from vidgen_ray.farm.actors.resident import Resident
from vidgen_ray.motion import create_motion_backend
from vidgen_ray.motion.base import ClipRequest, MotionBackend


class MotionWorker(Resident):
    def __init__(self, backend_name: str, settings: RenderSettings,
                 factory: Callable[[], MotionBackend] | None = None):
        super().__init__(factory or (lambda: create_motion_backend(backend_name, settings)))
        self.steps = {"done": 0, "total": 0}  # denoising steps of the clip in progress
        # Threaded like the image workers (progress() answers mid-clip); one clip at a time.
        self._making = threading.Lock()

    def make_clips(self, requests: list[ClipRequest]) -> list[bytes]:
        """One MP4 per request, in order (a pool sends one clip a call)."""
        backend = self._loaded()
        with self._making, self._timed_call(len(requests)):
            clips = [backend.make_clip(request, on_step=self._on_step)
                     if getattr(backend, "name", None) == "ltx" else backend.make_clip(request)
                     for request in requests]
            self.served += 1
        return clips

    def _on_step(self, done: int, total: int) -> None:
        self.steps = {"done": done, "total": total}

    def progress(self) -> dict:
        return dict(self.steps)

    def health(self) -> dict:
        return {**super().health(), "steps": self.progress()}
