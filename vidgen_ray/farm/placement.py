"""Where workers and FFmpeg tasks run: pure functions of the settings and the cluster's
resources (``ray.cluster_resources()``), tested without Ray.

Rules:
- A model worker asks for ``need / card`` of a GPU, rounded up to 1/n (``gpu_fraction``), so
  n workers fill a card exactly and Ray never strands a sliver that fits nobody.
- On a GPU cluster a model worker reserves no CPU: it spends its time on the GPU, and the
  CPUs of a GPU node stay free for FFmpeg.
- Without GPUs a model worker reserves one CPU (the model runs there), unless the model
  workers would then leave no CPU for an FFmpeg task (a 2-core laptop with SDXL and Bark):
  then they reserve none and share the cores, rather than the render waiting forever.
- Auto-sized pools split GPU memory 2:1 between image and speech workers (an SDXL call
  takes several times a Bark line, and a scene has one picture for several lines); without
  GPUs, each kind gets half the CPUs, 1 to 4 workers.
- Every worker is restarted when it dies and its calls retried; exceptions raised by the
  backend are not retried by Ray, so a bad request fails once instead of looping.
"""

from __future__ import annotations

import math
from typing import Literal

from vidgen_ray.config import RenderSettings
from vidgen_ray.errors import SettingsError

Kind = Literal["image", "speech"]

DEFAULT_GPU_GB = 24.0  # a common card (A10G, L4, RTX 4090) when nothing better is known
IMAGE_GPU_SHARE = 2 / 3  # of GPU capacity, when pools are sized automatically
MAX_CPU_WORKERS = 4  # per kind without GPUs: more model copies than that only thrash RAM
_RAY_PRECISION = 10_000  # Ray keeps resource amounts to 1e-4

# Memory of the cards Ray names in "accelerator_type:<name>" (ray.util.accelerators); a
# plain "A100" may be the 40 GB one, so it counts as that and workers never overfill it.
GPU_MEMORY_GB = {
    "B200": 180.0, "H200": 141.0, "H20": 96.0, "H100": 80.0, "RTX-PRO-6000": 96.0,
    "A100-80G": 80.0, "A100-40G": 40.0, "A100": 40.0, "L40S": 48.0, "A10G": 24.0, "L4": 24.0,
    "V100": 16.0, "T4": 16.0, "P100": 16.0, "K80": 12.0, "P4": 8.0,
}


def gpu_fraction(need_gb: float, gpu_gb: float) -> float:
    """The share of one GPU a worker needing ``need_gb`` asks for on a ``gpu_gb`` card.

    Rounded UP to 1/n with n = floor(gpu_gb / need_gb), so exactly n such workers pack onto
    one card (8 GB of 24: 1/3; 5 GB of 24: 1/4), then down to Ray's 1e-4 precision so n of
    them still sum to at most 1. A model bigger than the card asks for a whole GPU (1.0):
    it will not fit anyway, and a whole card is the most one actor can get.
    """
    if need_gb <= 0 or gpu_gb <= 0:
        raise SettingsError(f"GPU memory must be positive: need {need_gb} GB of a "
                            f"{gpu_gb} GB card", field="gpu_memory_gb")
    if need_gb >= gpu_gb:
        return 1.0
    share = 1.0 / math.floor(gpu_gb / need_gb + 1e-9)  # 0.3 / 0.1 is 2.9999...
    return max(1, math.floor(share * _RAY_PRECISION)) / _RAY_PRECISION


def gpu_memory_gb(settings: RenderSettings, cluster: dict[str, float]) -> float:
    """Memory of one GPU: the setting, else the smallest card Ray reports (24 GB for a
    name we do not know), else 24 GB."""
    if settings.gpu_memory_gb:
        return settings.gpu_memory_gb
    known = [GPU_MEMORY_GB.get(key.removeprefix("accelerator_type:"), DEFAULT_GPU_GB)
             for key in cluster if key.startswith("accelerator_type:")]
    return min(known, default=DEFAULT_GPU_GB)


LIGHT_BACKENDS = ("cards", "espeak")


def _need_gb(kind: Kind, settings: RenderSettings) -> float:
    return settings.image_gpu_gb if kind == "image" else settings.speech_gpu_gb


def worker_options(kind: Kind, settings: RenderSettings, cluster: dict[str, float]) -> dict:
    """Ray actor options for one worker of ``kind``."""
    options: dict = {"max_restarts": -1, "max_task_retries": -1}
    if kind == "image":  # threads for K calls plus one, so progress() is answered mid-call
        options["max_concurrency"] = settings.max_in_flight + 1
    if cluster.get("GPU", 0) > 0:
        share = gpu_fraction(_need_gb(kind, settings), gpu_memory_gb(settings, cluster))
        return options | {"num_gpus": share, "num_cpus": 0}
    # The embedded backends spend milliseconds a request: a whole CPU held for each would
    # leave none for FFmpeg on a laptop. Model backends running on CPU hold one each.
    return options | {"num_cpus": _cpu_held(kind, settings, cluster)}


def _backend(kind: Kind, settings: RenderSettings) -> str:
    return settings.image_model if kind == "image" else settings.tts_model


def _cpu_held(kind: Kind, settings: RenderSettings, cluster: dict[str, float]) -> int:
    """1 for a model worker on CPUs, 0 for an embedded backend, and 0 when the model
    workers of both kinds holding one each would leave fewer CPUs than an FFmpeg task needs
    (FFmpeg would never be scheduled)."""
    if _backend(kind, settings) in LIGHT_BACKENDS:
        return 0
    models = sum(pool_size(k, settings, cluster) for k in ("image", "speech")
                 if _backend(k, settings) not in LIGHT_BACKENDS)
    return 1 if cluster.get("CPU", 0) - models >= settings.ffmpeg_threads else 0


def pool_size(kind: Kind, settings: RenderSettings, cluster: dict[str, float]) -> int:
    """Workers of ``kind``: the setting when given, else as many as the cluster holds."""
    given = settings.image_workers if kind == "image" else settings.speech_workers
    if given:
        return given
    gpus = int(cluster.get("GPU", 0))
    if gpus > 0:
        share = IMAGE_GPU_SHARE if kind == "image" else 1 - IMAGE_GPU_SHARE
        fraction = gpu_fraction(_need_gb(kind, settings), gpu_memory_gb(settings, cluster))
        per_card = math.floor(share / fraction + 1e-9)
        # Per card, so the workers of both kinds always pack; a model too big for its share
        # of one card takes whole cards out of the kind's share of all of them.
        count = per_card * gpus if per_card else math.floor(gpus * share / fraction + 1e-9)
        return max(1, count)
    return max(1, min(MAX_CPU_WORKERS, int(cluster.get("CPU", 0)) // 2))


def assembly_options(cluster: dict[str, float], threads: int) -> dict:
    """Ray task options for an FFmpeg task using ``threads`` CPUs: on the nodes that offer
    the custom resource ``assembly`` (CPU nodes in cluster.yaml) when there are any."""
    if cluster.get("assembly", 0) > 0:
        return {"resources": {"assembly": 1}, "num_cpus": threads}
    return {"num_cpus": threads}
