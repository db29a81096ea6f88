"""SDXL's options (--images sdxl): images/sdxl_options.py turns the LOAD_FIELDS into what a
worker loads, images/sdxl_sampling.py the others into each request's Sampling."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from vidgen_ray.config.backends.loading import ModelLoading
from vidgen_ray.config.scope import Scope

# What the farm's SDXL workers load (the shared farm's choice, not one job's); recorded in
# the manifest all the same, since it changes every picture.
FARM_RECORDED = Scope("farm", recorded=True)
# Each fast path's LoRA: its repository and file (distilled for 4 steps), read by the loader
# (images/sdxl_fast.py) and by `vidgen models download` (models/registry.py).
FAST_LORAS = {
    "lightning": ("ByteDance/SDXL-Lightning", "sdxl_lightning_4step_lora.safetensors"),
    "lcm": ("latent-consistency/lcm-lora-sdxl", "pytorch_lora_weights.safetensors"),
    "hyper": ("ByteDance/Hyper-SD", "Hyper-SDXL-4steps-lora.safetensors"),
}


class SdxlSettings(ModelLoading):
    """SDXL weights, sampling, safety checker, refiner, IP-Adapter and upscaler."""

    BACKEND: ClassVar[str] = "sdxl"
    # What a worker loads: weights, precision, the pipeline's components (the scheduler is
    # one), adapters, checker, upscaler, how it runs, and the batch it is sized for. The
    # drawing size, steps, guidance, style, negative prompt, refiner start and IP-Adapter
    # scale travel with each request (images.base.Sampling): one worker serves them all.
    LOAD_FIELDS: ClassVar[tuple[str, ...]] = (
        "sdxl_model", "image_scheduler", "image_safety_checker", "safety_checker_model",
        "image_half_dtype", "sdxl_refiner", "ip_adapter", "upscaler", "half_precision",
        "cpu_offload", "attention", "compile", "offline", "image_batch_size", "image_fast_path",
        "image_fast_lora")

    sdxl_model: str = Field("stabilityai/stable-diffusion-xl-base-1.0",
                            description="SDXL model id (Hugging Face cache) or local folder.")
    image_resolution: str | None = Field(
        None, pattern=r"^\d{2,4}x\d{2,4}$",
        description="SDXL drawing size WIDTHxHEIGHT; empty: the SDXL size nearest the video.")
    image_guidance_scale: float = Field(7.5, ge=0.0, le=30.0,
                                        description="How closely SDXL follows the prompt.")
    image_inference_steps: int | None = Field(
        None, ge=1, le=200, description="Denoising steps; empty: 50, or 30 with the fast preset.")
    image_preset: Literal["quality", "fast"] = Field(
        "quality", description="fast: 30 steps instead of 50 unless steps are given.")
    image_scheduler: Literal["default", "euler", "euler_a", "dpmpp_2m", "ddim", "unipc"] = Field(
        "default", description="Sampler; default is the model's own.")
    image_negative_prompt: str = Field(
        "blurry, low quality, deformed, watermark, text, signature", max_length=1000,
        description="What SDXL should avoid drawing.")
    image_style: Literal["none", "photorealistic", "cinematic", "anime", "watercolor", "comic",
                         "storybook"] = Field("cinematic", description="Added to every prompt.")
    image_safety_checker: bool = Field(
        True, description="Check each picture; a flagged one is redrawn with the next seed.")
    safety_checker_model: str = Field(
        "CompVis/stable-diffusion-safety-checker",
        description="StableDiffusionSafetyChecker model id or folder.")
    image_half_dtype: Literal["fp16", "bf16"] = Field("fp16", description="Half precision type.")
    sdxl_refiner: str | None = Field(
        None, description="SDXL refiner model id or folder; empty: no refiner.")
    refiner_start: float = Field(0.8, gt=0.0, lt=1.0,
                                 description="Fraction of the steps the base model does.")
    ip_adapter: str | None = Field(
        None, description="IP-Adapter folder or model id (h94 layout); conditions scenes on "
        "the portraits of the characters present.")
    ip_adapter_scale: float = Field(0.6, ge=0.0, le=1.0,
                                    description="How strongly portraits steer a scene.")
    upscaler: str = Field(
        "lanczos", min_length=1, description="lanczos (with light sharpening), or an x4 "
        "upscaler model id/folder, e.g. stabilityai/stable-diffusion-x4-upscaler.")
    # The few-step path: a distilled LoRA fused into the UNet at load (images/sdxl_fast.py).
    image_fast_path: Annotated[Literal["off", "lightning", "lcm", "hyper"], FARM_RECORDED] = Field(
        "off", description="Few-step SDXL: lightning (SDXL-Lightning), lcm (LCM-LoRA) or hyper "
        "(Hyper-SD), a distilled LoRA drawing in 4 steps (2-8 allowed); off: the full sampler.")
    image_fast_lora: Annotated[str | None, FARM_RECORDED] = Field(
        None, description="The fast path's LoRA: model id or folder; empty: its own repository "
        "(ByteDance/SDXL-Lightning, latent-consistency/lcm-lora-sdxl, ByteDance/Hyper-SD).")
