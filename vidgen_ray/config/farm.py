"""The farm section: its resident workers, their GPU shares and backpressure (the farm's,
never one job's: they do not change what a render looks like), the Ray cluster it runs on,
and FarmSettings, how much work the cluster's one Farm accepts."""

from __future__ import annotations

from typing import Annotated

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from vidgen_ray.config.scope import FARM, SERVER, Section


class FarmSection(Section):
    """Workers, batches, GPU memory and the cluster of one render."""

    image_workers: Annotated[int | None, FARM] = Field(
        None, ge=1, le=256, description="ImageWorkers; empty sizes the pool from the cluster.")
    speech_workers: Annotated[int | None, FARM] = Field(
        None, ge=1, le=256, description="SpeechWorkers; empty sizes the pool from the cluster.")
    max_in_flight: Annotated[int, FARM] = Field(
        2, ge=1, le=64, description="Calls in flight per worker (K).")
    image_batch_size: Annotated[int, FARM] = Field(
        4, ge=1, le=64, description="Pictures per worker call (B); not given: on GPUs, the "
        "largest the worker's share of a card holds (measured), at most 4.")
    speech_batch_size: Annotated[int, FARM] = Field(
        8, ge=1, le=128, description="Lines per worker call (B); not given: on GPUs, the "
        "largest the worker's share of a card holds (measured), at most 16.")
    # Empty: from the measured peaks per model and batch size (farm/memory.py, BENCHMARKS.md).
    image_gpu_gb: Annotated[float | None, FARM] = Field(
        None, gt=0, le=200, description="GPU memory an image worker needs; empty: measured "
        "peak for its batch size, plus its CUDA context.")
    speech_gpu_gb: Annotated[float | None, FARM] = Field(
        None, gt=0, le=200, description="GPU memory a speech worker needs; empty: measured "
        "peak for its batch size, plus its CUDA context.")
    gpu_memory_gb: Annotated[float | None, FARM] = Field(
        None, gt=0, le=1000, description="Memory of one GPU; empty detects it (24 if unknown).")
    pool_idle_timeout_s: Annotated[float | None, FARM] = Field(
        1800.0, ge=0, le=7 * 86400, description="Seconds a worker pool no running job uses is "
        "kept (its models stay loaded for the next job); empty keeps it until a pool a job "
        "needs wants its GPU. Idle pools are retired for such a pool at once, least recently "
        "used first.")
    ray_address: Annotated[str | None, SERVER] = Field(
        None,
        validation_alias=AliasChoices("ray_address", "VIDGEN_RAY_ADDRESS", "RAY_ADDRESS"),
        description="Ray cluster to join, e.g. ray://head:10001; empty starts a local Ray.",
    )


class FarmSettings(BaseSettings):
    """How much work the cluster's one Farm accepts (env VIDGEN_MAX_RUNNING_JOBS, ...)."""

    model_config = SettingsConfigDict(env_prefix="VIDGEN_", extra="ignore")

    max_running_jobs: int = Field(2, ge=1, le=1000, description="Jobs rendering at once.")
    max_queued_jobs: int = Field(16, ge=0, le=100_000, description="Jobs waiting; past it, "
                                 "submitting answers FarmSaturated.")
    retry_after: float = Field(30.0, ge=1, le=3600, description="Seconds a refused client "
                               "is told to wait.")
