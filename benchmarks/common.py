"""What several benchmarks share: a Ray of their own on loopback, and where results go.

Benchmarks run as scripts (``python benchmarks/x.py``), so their folder is on ``sys.path``
and they import this module as ``common``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def start_ray(cpus: int, gpus: float = 0, object_store_mb: int = 512) -> None:
    """A local Ray on 127.0.0.1 only, with ``gpus`` GPUs (logical where the machine has fewer
    cards: Ray then only does the bookkeeping). Workers inherit this process's environment,
    one torch thread among it (NOTES.md: more threads thrash a shared CPU)."""
    import ray

    from vidgen_ray.farm.actors.listen import prepare_local_start

    prepare_local_start()  # loopback only, even though ray is imported already
    os.environ.pop("RAY_ADDRESS", None)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    ray.init(address="local", num_cpus=cpus, num_gpus=gpus, include_dashboard=False,
             _node_ip_address="127.0.0.1", logging_level="WARNING", log_to_driver=False,
             object_store_memory=object_store_mb * 1024**2)


def write_results(name: str, data: dict, folder: Path | str | None = None) -> Path:
    """``data`` as indented JSON in ``folder`` (default benchmarks/results/), as NAME.json."""
    target = Path(folder or RESULTS) / f"{name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return target
