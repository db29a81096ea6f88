"""What each SDXL request asks (pure): its drawing size and sampling values, made from a
job's settings, and how a call's requests are grouped into pipeline calls.

A resident SDXL worker loads a model (config/backends/sdxl.py LOAD_FIELDS) and serves every
job that loads the same one: a 16:9 and a 9:16 job share it, each drawn at its own size.
So everything a job may vary without reloading travels here, with each request.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from vidgen_ray.images.base import ImageRequest, Sampling
from vidgen_ray.images.prompts import SDXL_SIZES, check_style, generation_size, nearest_sdxl_size
from vidgen_ray.images.sdxl_fast import check_fast_path, sampling

if TYPE_CHECKING:
    from vidgen_ray.config import RenderSettings

QUALITY_STEPS, FAST_STEPS = 50, 30
DEFAULT_NEGATIVE = "blurry, low quality, deformed, watermark, text, signature"


def steps_of(settings: RenderSettings) -> int:
    """The steps asked, else the fast path's (image_fast_path: 4), else the preset's (50 for
    quality, 30 for fast)."""
    steps, _ = sampling(settings.image_fast_path, settings.image_inference_steps, None)
    return steps or (FAST_STEPS if settings.image_preset == "fast" else QUALITY_STEPS)


def guidance_of(settings: RenderSettings) -> float:
    """The guidance asked, else the fast path's, else the setting's default (7.5)."""
    given = (settings.image_guidance_scale
             if "image_guidance_scale" in settings.model_fields_set else None)
    _, guidance = sampling(settings.image_fast_path, None, given)
    return settings.image_guidance_scale if guidance is None else guidance


def sampling_for(settings: RenderSettings, width: int, height: int,
                 portrait: bool = False) -> Sampling:
    """How SDXL draws a picture of width x height (a scene, or a square ``portrait``) for a
    job with these settings."""
    check_style(settings.image_style)
    check_fast_path(settings.image_fast_path, steps_of(settings), settings.image_scheduler,
                    settings.sdxl_refiner)
    generation = generation_size(settings.image_resolution, settings.size)
    draw_w, draw_h = drawing_size(generation, width, height, portrait)
    return Sampling(width=draw_w, height=draw_h, steps=steps_of(settings),
                    guidance_scale=guidance_of(settings), style=settings.image_style,
                    negative_prompt=settings.image_negative_prompt,
                    refiner_start=settings.refiner_start,
                    ip_adapter_scale=settings.ip_adapter_scale)


def default_sampling(request: ImageRequest) -> Sampling:
    """For a request that carries none (benchmarks, direct calls): the quality defaults at
    the SDXL training size nearest the request's shape."""
    size = nearest_sdxl_size(request.width, request.height)
    width, height = drawing_size(size, request.width, request.height,
                                 request.portrait_of is not None)
    return Sampling(width, height, QUALITY_STEPS, 7.5, "cinematic", DEFAULT_NEGATIVE)


def drawing_size(generation: tuple[int, int], width: int, height: int,
                 portrait: bool = False) -> tuple[int, int]:
    """The size SDXL draws a width x height picture at, for a job that draws at
    ``generation`` (its SDXL size, or the size set): that size for the job's own shape; for a
    rendition of another shape, that shape, not stretched into it (the training size of that
    aspect, or the same area when a size was set); a portrait square."""
    if portrait:  # same rule as the recipe's portrait_side
        side = min(generation)
        return (side, side) if side < 768 else (1024, 1024)
    gen_w, gen_h = generation
    aspect = width / height
    if abs(gen_w / gen_h - aspect) <= 0.02 * gen_w / gen_h:
        return generation
    if generation in SDXL_SIZES:
        return nearest_sdxl_size(width, height)
    area = gen_w * gen_h
    return (max(64, round((area * aspect) ** 0.5 / 8) * 8),
            max(64, round((area / aspect) ** 0.5 / 8) * 8))


def call_group(sampling: Sampling) -> tuple:
    """Requests drawn in one pipeline call must agree on these (one size, one step count, one
    guidance, one refiner split, one adapter scale). The style and negative prompt are per
    prompt, so requests that differ only in them still share a call."""
    return (sampling.width, sampling.height, sampling.steps, sampling.guidance_scale,
            sampling.refiner_start, sampling.ip_adapter_scale)


def pipeline_calls(groups: list[tuple], batch_size: int) -> list[list[int]]:
    """Indexes of requests, one list per pipeline call: requests of one group (``groups[i]``
    is request i's, see call_group) together, cut at the batch size; groups in the order of
    their first request, requests in their own order. Nothing waits for a later call: a call
    draws what it was given."""
    first: dict[tuple, int] = {}
    for index, group in enumerate(groups):
        first.setdefault(group, index)
    members: dict[int, list[int]] = {}
    for index, group in enumerate(groups):
        members.setdefault(first[group], []).append(index)
    return [indexes[start:start + batch_size] for _, indexes in sorted(members.items())
            for start in range(0, len(indexes), batch_size)]


def job_digest(settings: RenderSettings) -> str:
    """A short hash of every setting that changes an SDXL job's pixels (not where or how fast
    they are made). A picture's content key names the worker's version (what is loaded)
    followed by ``opts-`` and this digest: the same text as when each job's options were built
    into its own worker, so pictures stored then are found again."""
    shaping = dict(
        model=settings.sdxl_model, size=generation_size(settings.image_resolution, settings.size),
        guidance_scale=guidance_of(settings), steps=steps_of(settings),
        scheduler=settings.image_scheduler, negative_prompt=settings.image_negative_prompt,
        style=settings.image_style, safety_checker=settings.image_safety_checker,
        half_precision=settings.half_precision, half_dtype=settings.image_half_dtype,
        refiner=settings.sdxl_refiner, refiner_start=settings.refiner_start,
        ip_adapter=settings.ip_adapter, ip_adapter_scale=settings.ip_adapter_scale,
        upscaler=settings.upscaler)
    if settings.image_fast_path != "off":  # pictures drawn without it keep their keys
        shaping.update(fast_path=settings.image_fast_path, fast_lora=settings.image_fast_lora)
    text = json.dumps(shaping, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def key_version(settings: RenderSettings, worker_version: str) -> str:
    """The version a picture's content key names: the worker's, plus the job's digest."""
    return f"{worker_version} opts-{job_digest(settings)}"
