"""The job service for tests: a fresh local Ray and Serve on 127.0.0.1, with its settings in
the environment, torn down completely afterwards."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator

from vidgen_ray.testing.net import free_port


@contextlib.contextmanager
def job_service(env: dict[str, str], factories: dict[str, Callable] | None = None,
                unset: tuple[str, ...] = ()) -> Iterator[str]:
    """Yield "127.0.0.1:PORT" of a running JobService. ``env`` is set (and ``unset``
    removed) before Ray starts, because the replica and the farm read it and Ray's workers
    inherit it; the environment is restored after. The farm is detached, so it is killed
    here: it would outlive serve.shutdown()."""
    import ray
    from ray import serve

    from vidgen_ray.farm.connect import FARM_NAME, FARM_NAMESPACE, connect
    from vidgen_ray.service.api import JobService

    saved = dict(os.environ)
    for name in unset:
        os.environ.pop(name, None)
    os.environ.update(env)
    try:
        if ray.is_initialized():
            ray.shutdown()
        connect(None)
        port = free_port()
        serve.start(http_options={"host": "127.0.0.1", "port": port})
        serve.run(JobService.bind(factories=factories), name="vidgen", route_prefix="/")
        yield f"127.0.0.1:{port}"
        serve.shutdown()
        ray.kill(ray.get_actor(FARM_NAME, namespace=FARM_NAMESPACE), no_restart=True)
    finally:
        ray.shutdown()
        os.environ.clear()
        os.environ.update(saved)
