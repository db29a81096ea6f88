"""Where workers and FFmpeg tasks run: pure functions of the settings and the cluster's
resources (``ray.cluster_resources()``), tested without Ray.

Rules:
- Only model workers (SDXL, Bark) take GPU. The embedded backends (cards, espeak) work for
  milliseconds a request and Kokoro is a small CPU model: on a GPU cluster they ask for no
  GPU, so a default job never holds a card (Kokoro's workers are also kept off the cards).
- A model worker's memory comes from the measured table (memory.py) at the batch size
  chosen for its share of a card, or from ``image_gpu_gb`` / ``speech_gpu_gb`` when given.
  It asks for ``need / card`` of a GPU (``gpu_fraction``), so Ray's accounting of GPU shares
  is an accounting of memory.
- Auto-sized pools follow ``memory.pack``: per card, image workers in 2/3 of its memory,
  speech workers in 1/3, the rest left for other jobs' pools.
- On a GPU cluster a model worker reserves no CPU: it spends its time on the GPU, and the
  CPUs of a GPU node stay free for FFmpeg.
- Without GPUs a model worker reserves one CPU (the model runs there), unless the model
  workers would then leave no CPU for an FFmpeg task (a 2-core laptop with SDXL and Bark):
  then they reserve none and share the cores, rather than the render waiting forever.
  Each kind then gets half the CPUs, 1 to 4 workers.
- Motion workers (a video model, LTX-Video) are not packed with the others: each asks for
  its own share (memory.py's table, an estimate for LTX), one per card of the cluster at
  most on GPUs, one on CPUs (a test or a trial: LTX on a CPU is very slow).
- Talking workers (LTX-2, talking shots) are not packed either: each asks for its own
  share (an estimate too), one per card at most on GPUs, one on CPUs.
- Bed workers (Stable Audio Open, generated music and ambience) are not packed either:
  each asks for its own share (memory.py's table, an estimate too), one per card at most on
  GPUs, one on CPUs.
- Every worker is restarted when it dies and its calls retried; exceptions raised by the
  backend are not retried by Ray, so a bad request fails once instead of looping.
"""

from __future__ import annotations

import math
from typing import Literal

from vidgen_ray.config import RenderSettings, backend_options
from vidgen_ray.errors import SettingsError
from vidgen_ray.farm.memory import OWN_SHARE_MODELS, Card, Packing, gpu_model, pack

Kind = Literal["image", "speech", "motion", "talking", "beds"]
KINDS: tuple[Kind, ...] = ("image", "speech", "motion", "talking", "beds")
OWN_SHARE = tuple(OWN_SHARE_MODELS)  # not packed: a worker per card, each its share

DEFAULT_GPU_GB = 24.0  # a common card (A10G, L4, RTX 4090) when nothing better is known
MAX_CPU_WORKERS = 4  # per kind without GPUs: more model copies than that only thrash RAM
_RAY_PRECISION = 10_000  # Ray keeps resource amounts to 1e-4
LIGHT_BACKENDS = ("cards", "espeak")  # milliseconds a request: no GPU, no CPU held
NO_WORKERS = ("none", "procedural")  # a kind's backend when the job needs no such workers

# Memory of the cards Ray names in "accelerator_type:<name>" (ray.util.accelerators); a
# plain "A100" may be the 40 GB one, so it counts as that and workers never overfill it.
GPU_MEMORY_GB = {
    "B200": 180.0, "H200": 141.0, "H20": 96.0, "H100": 80.0, "RTX-PRO-6000": 96.0,
    "A100-80G": 80.0, "A100-40G": 40.0, "A100": 40.0, "L40S": 48.0, "A10G": 24.0, "L4": 24.0,
    "V100": 16.0, "T4": 16.0, "P100": 16.0, "K80": 12.0, "P4": 8.0,
    "4090": 24.0, "GeForce-RTX-4090": 24.0,
}


def gpu_fraction(need_gb: float, gpu_gb: float) -> float:
    """The share of one GPU a worker needing ``need_gb`` asks for on a ``gpu_gb`` card.

    The need as a fraction, rounded up to 1/100, or to 1/n with n = floor(gpu_gb / need_gb)
    when that is smaller (so exactly n such workers still pack onto one card: 8 GB of 24 is
    1/3, not 0.34), then down to Ray's 1e-4 precision. Never less than the need, so shares
    that fit a card are workers whose memory fits it. A model bigger than the card asks for
    a whole GPU (1.0): it will not fit anyway, and a whole card is the most one actor gets.
    """
    if need_gb <= 0 or gpu_gb <= 0:
        raise SettingsError(f"GPU memory must be positive: need {need_gb} GB of a "
                            f"{gpu_gb} GB card", field="gpu_memory_gb")
    if need_gb >= gpu_gb:
        return 1.0
    hundredths = math.ceil(need_gb / gpu_gb * 100 - 1e-9) / 100
    one_nth = 1.0 / math.floor(gpu_gb / need_gb + 1e-9)  # 0.3 / 0.1 is 2.9999...
    share = min(hundredths, one_nth)
    return max(1, math.floor(share * _RAY_PRECISION + 1e-6)) / _RAY_PRECISION


def gpu_memory_gb(settings: RenderSettings, cluster: dict[str, float]) -> float:
    """Memory of one GPU: the setting, else the smallest card Ray reports (24 GB for a
    name we do not know), else 24 GB."""
    if settings.gpu_memory_gb:
        return settings.gpu_memory_gb
    known = [GPU_MEMORY_GB.get(key.removeprefix("accelerator_type:"), DEFAULT_GPU_GB)
             for key in cluster if key.startswith("accelerator_type:")]
    return min(known, default=DEFAULT_GPU_GB)


def cards(settings: RenderSettings, cluster: dict[str, float]) -> list[Card]:
    """The cluster's GPUs, each as large as the smallest (``gpu_memory_gb``), named when
    every card is of one known type."""
    names = [k.removeprefix("accelerator_type:") for k in cluster
             if k.startswith("accelerator_type:")]
    name = names[0] if len(names) == 1 and not settings.gpu_memory_gb else ""
    return [Card(gpu_memory_gb(settings, cluster), name)] * int(cluster.get("GPU", 0))


def bed_gb(settings: RenderSettings) -> float:
    """GPU memory one bed worker holds, overhead included (0 for procedural beds)."""
    model = gpu_model("beds", settings)
    return model.need(1).gb if model else 0.0


def packing(settings: RenderSettings, cluster: dict[str, float]) -> Packing:
    """How this job's model workers pack onto the cluster's cards (memory.py)."""
    return pack(cards(settings, cluster), gpu_model("image", settings),
                gpu_model("speech", settings))


def on_gpu(kind: Kind, settings: RenderSettings, cluster: dict[str, float]) -> bool:
    """Whether workers of ``kind`` take GPU: a model backend on a cluster with GPUs."""
    return cluster.get("GPU", 0) > 0 and gpu_model(kind, settings) is not None


def sized(settings: RenderSettings, cluster: dict[str, float]) -> RenderSettings:
    """The settings with each GPU kind's batch size chosen for its share of a card (when
    not given) and its memory need filled in from the table: what the pools are built with,
    so the pool key, the worker's pipeline and the GPU share agree. Unchanged without GPUs
    or when the models cannot fit (the budget refuses such a job)."""
    planned = packing(settings, cluster)
    update = {}
    for kind in ("image", "speech"):
        need = planned.need(kind) if planned.fits and on_gpu(kind, settings, cluster) else None
        if need is not None:
            update |= {f"{kind}_batch_size": need.batch, f"{kind}_gpu_gb": need.gb}
    return settings.model_copy(update=update) if update else settings


def need_gb(kind: Kind, settings: RenderSettings, cluster: dict[str, float]) -> float:
    """GPU memory one worker of ``kind`` holds: the setting, else the table's peak at the
    batch size (memory.py)."""
    given = {"image": settings.image_gpu_gb, "speech": settings.speech_gpu_gb}.get(kind)
    if given:
        return given
    model = gpu_model(kind, settings)
    if model is None:
        return 0.0
    if kind in OWN_SHARE:
        return model.need(1).gb
    need = packing(settings, cluster).need(kind)
    batch = settings.image_batch_size if kind == "image" else settings.speech_batch_size
    return need.gb if need else model.need(batch).gb


def worker_options(kind: Kind, settings: RenderSettings, cluster: dict[str, float]) -> dict:
    """Ray actor options for one worker of ``kind``."""
    options: dict = {"max_restarts": -1, "max_task_retries": -1}
    if kind in ("image", *OWN_SHARE):  # threads for K calls plus one: progress()
        options["max_concurrency"] = settings.max_in_flight + 1
    if on_gpu(kind, settings, cluster):
        share = gpu_fraction(need_gb(kind, settings, cluster), gpu_memory_gb(settings, cluster))
        return options | {"num_gpus": share, "num_cpus": 0}
    if cluster.get("GPU", 0) > 0 and _backend(kind, settings) not in LIGHT_BACKENDS:
        # Holding no share, it must not touch a card (Ray shows a share-less actor every GPU).
        options["runtime_env"] = {"env_vars": {"CUDA_VISIBLE_DEVICES": ""}}
    # The embedded backends spend milliseconds a request: a whole CPU held for each would
    # leave none for FFmpeg on a laptop. Model backends running on CPU hold one each.
    return options | {"num_cpus": _cpu_held(kind, settings, cluster)}


def _backend(kind: Kind, settings: RenderSettings) -> str:
    return backend_options(settings, kind)[0]


def _cpu_held(kind: Kind, settings: RenderSettings, cluster: dict[str, float]) -> int:
    """1 for a model worker on CPUs, 0 for an embedded backend, and 0 when the model
    workers on CPUs of both kinds holding one each would leave fewer CPUs than an FFmpeg
    task needs (FFmpeg would never be scheduled)."""
    if _backend(kind, settings) in LIGHT_BACKENDS:
        return 0
    models = sum(pool_size(k, settings, cluster) for k in KINDS
                 if _backend(k, settings) not in (*LIGHT_BACKENDS, *NO_WORKERS)
                 and not on_gpu(k, settings, cluster))
    return 1 if cluster.get("CPU", 0) - models >= settings.ffmpeg_threads else 0


def pool_size(kind: Kind, settings: RenderSettings, cluster: dict[str, float]) -> int:
    """Workers of ``kind``: the setting when given, else as many as the cluster holds:
    on GPUs as ``memory.pack`` packs them, on CPUs half the CPUs, 1 to 4."""
    if kind in OWN_SHARE:
        return max(1, int(cluster.get("GPU", 0))) if on_gpu(kind, settings, cluster) else 1
    given = settings.image_workers if kind == "image" else settings.speech_workers
    if given:
        return given
    if on_gpu(kind, settings, cluster):
        return max(1, packing(settings, cluster).workers(kind))
    return max(1, min(MAX_CPU_WORKERS, int(cluster.get("CPU", 0)) // 2))


def assembly_options(cluster: dict[str, float], threads: int) -> dict:
    """Ray task options for an FFmpeg task using ``threads`` CPUs: on the nodes that offer
    the custom resource ``assembly`` (CPU nodes in cluster.yaml) when there are any."""
    if cluster.get("assembly", 0) > 0:
        return {"resources": {"assembly": 1}, "num_cpus": threads}
    return {"num_cpus": threads}
