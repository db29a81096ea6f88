"""ImageWorker: one resident picture backend in one process.

A plain class: the pool makes it an actor (``ray.remote(ImageWorker).options(...)``), so
the model loads inside the actor, after Ray has assigned its GPU. Without Ray it is just
an object around a backend.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import ray

from vidgen_ray.config import RenderSettings
from vidgen_ray.errors import VidgenError
from vidgen_ray.images import create_image_backend
from vidgen_ray.images.base import ImageBackend, ImageRequest


class ImageWorker:
    def __init__(self, backend_name: str, settings: RenderSettings,
                 factory: Callable[[], ImageBackend] | None = None):
        self.served = 0
        self.failure: VidgenError | None = None
        try:
            self.backend = factory() if factory else create_image_backend(backend_name, settings)
        except VidgenError as exc:  # kept for ready(): Ray would hide its type
            self.backend, self.failure = None, exc

    def ready(self) -> dict:
        """Where this worker runs: node, GPUs, process, backend version."""
        if self.failure:
            raise self.failure
        return process_info(self.backend)

    def health(self) -> dict:
        return health_info(self.backend, self.served)

    def generate(self, requests: list[ImageRequest]) -> list[bytes]:
        """One PNG per request, in order."""
        if self.failure:
            raise self.failure
        pngs = self.backend.generate(requests)
        self.served += 1
        return pngs


def process_info(backend) -> dict:
    """What ``ready()`` answers, for both kinds of worker."""
    in_ray = ray.is_initialized()
    return {
        "node_id": ray.get_runtime_context().get_node_id() if in_ray else None,
        "gpu_ids": [str(i) for i in ray.get_gpu_ids()] if in_ray else [],
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "pid": os.getpid(),
        "backend": backend.version(),
    }


def health_info(backend, served: int) -> dict:
    """What ``health()`` answers; test backends add the log of their calls."""
    info = {"ok": backend is not None, "calls": served, "pid": os.getpid()}
    if hasattr(backend, "call_log"):
        info["call_log"] = backend.call_log()
    return info
