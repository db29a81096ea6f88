"""``vidgen models download --cluster``: one download task per alive node, pinned there
(NodeAffinitySchedulingStrategy, not soft), so every node's own cache gets the models.
Where nodes share one cache (EFS), the later tasks find the files and fetch nothing."""

from __future__ import annotations

import socket

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from vidgen_ray.errors import DependencyError


def _download_here(specs, cache: str | None, endpoint: str) -> dict:
    from pathlib import Path

    from vidgen_ray.config import hf_hub_cache
    from vidgen_ray.models.hub import download

    where = Path(cache or hf_hub_cache())  # the node's own HF_HOME when none is given
    report = {"node_id": ray.get_runtime_context().get_node_id(),
              "host": socket.gethostname(), "cache": str(where), "models": {}}
    for spec in specs:
        try:
            report["models"][spec.name] = f"{len(download(spec, where, endpoint, False))} files"
        except DependencyError as exc:
            report["models"][spec.name] = f"failed: {exc.message}"
    return report


def download_on_every_node(specs, endpoint: str, cache: str | None = None,
                           timeout_s: float = 3600.0) -> list[dict]:
    """Run the download on every alive node; one report per node (node id, host, cache,
    per model the files fetched or why it failed)."""
    nodes = [n["NodeID"] for n in ray.nodes() if n.get("Alive")]
    task = ray.remote(num_cpus=0, max_retries=0)(_download_here)
    refs = [task.options(scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False))
            .remote(specs, cache, endpoint) for node in nodes]
    return ray.get(refs, timeout=timeout_s)
