"""What every worker does around its backend: build it once, say where it runs, count and
time its calls (the e2e benchmark's busy fractions come from those times).

Workers are plain classes: the pool makes them actors (``ray.remote(ImageWorker)``), so the
backend (and its model) loads inside the actor, after Ray has assigned its GPU.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import ray

from vidgen_ray.errors import VidgenError

CALLS_KEPT = 512  # the most recent calls' times: a few jobs' worth, a few kB



class Resident:
    def __init__(self, build: Callable[[], object]):
        self.served = 0
        self.failure: VidgenError | None = None
        self.releases = 0
        self.busy_s = 0.0  # seconds spent inside calls since the worker started
        self._calls: deque[tuple[float, float, int]] = deque(maxlen=CALLS_KEPT)
        self._build = build
        self._loading = threading.Lock()  # image workers are threaded: one reload at a time
        try:
            self.backend = build()
        except VidgenError as exc:  # kept for ready(): Ray would hide its type
            self.backend, self.failure = None, exc

    def ready(self) -> dict:
        """Where this worker runs: node, GPUs, process, backend version."""
        in_ray = ray.is_initialized()
        return {
            "node_id": ray.get_runtime_context().get_node_id() if in_ray else None,
            "node_ip": ray.util.get_node_ip_address() if in_ray else None,
            "gpu_ids": [str(i) for i in ray.get_gpu_ids()] if in_ray else [],
            "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
            "pid": os.getpid(),
            "backend": self._loaded().version(),
        }

    def health(self) -> dict:
        """ok, calls served, pid; test backends add the log of their calls."""
        info = {"ok": self.failure is None, "calls": self.served, "pid": os.getpid()}
        if hasattr(self.backend, "call_log"):
            info["call_log"] = self.backend.call_log()
        return info

    def stats(self) -> dict:
        """Health plus the memory this worker holds (what ``vidgen farm status`` shows)."""
        return {**self.health(), "loaded": self.backend is not None,
                "releases": self.releases, "busy_s": round(self.busy_s, 3),
                "rss_bytes": _rss_bytes(), "peak_rss_bytes": _peak_rss_bytes(),
                **_cuda_memory()}

    def calls(self, since: float = 0.0) -> list[dict]:
        """The recent calls that ended after ``since`` (``time.time()``): start, end and
        requests of each, for busy fractions and timelines."""
        return [{"start": start, "end": end, "requests": size}
                for start, end, size in self._calls if end > since]

    @contextmanager
    def _timed_call(self, requests: int) -> Iterator[None]:
        """Note a call's wall-clock start and end, failed or not (the model was busy)."""
        start = time.time()
        try:
            yield
        finally:
            end = time.time()
            self.busy_s += end - start
            self._calls.append((start, end, requests))

    def release(self) -> dict:
        """Drop the backend and its model, give the memory back (``vidgen farm release``);
        the next request loads it again. A call drawing now keeps its own reference and
        finishes first. Returns ``stats()`` after the release."""
        with self._loading:
            if self.backend is not None:
                self.backend = None
                self.releases += 1
        gc.collect()  # the pipeline's modules hold reference cycles
        torch = sys.modules.get("torch")
        if torch is not None and torch.cuda.is_available():
            torch.cuda.empty_cache()  # hand the cached blocks back to the driver
        return self.stats()

    def _loaded(self):
        if self.failure:
            raise self.failure
        if self.backend is None:  # released: load again on this request
            with self._loading:
                if self.backend is None:
                    self.backend = self._build()
        return self.backend


class SteppedResident(Resident):
    """A resident diffusion model: progress() reports the denoising steps of the call in
    progress and is answered mid-call (the actor is threaded: placement's max_concurrency);
    the lock keeps the calls themselves one at a time on the model."""

    STEPPED: tuple[str, ...] = ()  # the backends (by name) whose calls take on_step

    def __init__(self, build: Callable[[], object]):
        super().__init__(build)
        self.steps = {"done": 0, "total": 0}
        self._calling = threading.Lock()

    def _each(self, method: str, requests: list) -> list:
        """``backend.method(request)`` for each request, in order, as one timed call."""
        backend = self._loaded()
        call = getattr(backend, method)
        stepped = getattr(backend, "name", None) in self.STEPPED
        with self._calling, self._timed_call(len(requests)):
            self.steps = {"done": 0, "total": 0}
            made = [call(request, on_step=self._on_step) if stepped else call(request)
                    for request in requests]
            self.served += 1
        return made

    def _on_step(self, done: int, total: int) -> None:
        self.steps = {"done": done, "total": total}

    def progress(self) -> dict:
        """Denoising steps done / total of the call in progress (or the last one)."""
        return dict(self.steps)

    def health(self) -> dict:
        return {**super().health(), "steps": self.progress()}


def _rss_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # not Linux
        return None


def _peak_rss_bytes() -> int | None:
    try:
        import resource
    except ImportError:  # not Unix
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def _cuda_memory() -> dict:
    """GPU memory torch holds in this process; nothing when torch or CUDA is absent (only a
    model backend imports torch, so this never imports it itself)."""
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_available():
        return {}
    return {"gpu_allocated_bytes": torch.cuda.memory_allocated(),
            "gpu_reserved_bytes": torch.cuda.memory_reserved(),
            "gpu_peak_allocated_bytes": torch.cuda.max_memory_allocated()}
