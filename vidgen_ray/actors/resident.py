"""What every worker does around its backend: build it once, say where it runs, count calls.

Workers are plain classes: the pool makes them actors (``ray.remote(ImageWorker)``), so the
backend (and its model) loads inside the actor, after Ray has assigned its GPU.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import ray

from vidgen_ray.errors import VidgenError


class Resident:
    def __init__(self, build: Callable[[], object]):
        self.served = 0
        self.failure: VidgenError | None = None
        try:
            self.backend = build()
        except VidgenError as exc:  # kept for ready(): Ray would hide its type
            self.backend, self.failure = None, exc

    def ready(self) -> dict:
        """Where this worker runs: node, GPUs, process, backend version."""
        in_ray = ray.is_initialized()
        return {
            "node_id": ray.get_runtime_context().get_node_id() if in_ray else None,
            "gpu_ids": [str(i) for i in ray.get_gpu_ids()] if in_ray else [],
            "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
            "pid": os.getpid(),
            "backend": self._loaded().version(),
        }

    def health(self) -> dict:
        """ok, calls served, pid; test backends add the log of their calls."""
        info = {"ok": self.backend is not None, "calls": self.served, "pid": os.getpid()}
        if hasattr(self.backend, "call_log"):
            info["call_log"] = self.backend.call_log()
        return info

    def _loaded(self):
        if self.failure:
            raise self.failure
        return self.backend
