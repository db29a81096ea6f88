"""SDXL options (pure): what the backend reads from the settings, which device and precision
it runs with, and the GPU-only options it refuses on a CPU before loading anything."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vidgen_ray.errors import SettingsError
from vidgen_ray.images.prompts import check_style, generation_size
from vidgen_ray.images.sdxl_fast import check_fast_path, sampling

if TYPE_CHECKING:
    from vidgen_ray.config import RenderSettings

QUALITY_STEPS, FAST_STEPS = 50, 30


@dataclass(frozen=True)
class SdxlOptions:
    model: str = "stabilityai/stable-diffusion-xl-base-1.0"
    size: tuple[int, int] = (1344, 768)  # drawing size; pictures are then scaled to the video
    guidance_scale: float = 7.5
    steps: int = QUALITY_STEPS
    scheduler: str = "default"
    negative_prompt: str = ""
    style: str = "cinematic"
    safety_checker: bool = True
    safety_checker_model: str = "CompVis/stable-diffusion-safety-checker"
    half_precision: bool | None = None  # None: yes on CUDA
    half_dtype: str = "fp16"
    cpu_offload: bool = False
    attention: str = "sdpa"
    compile: bool = False
    refiner: str | None = None
    refiner_start: float = 0.8
    ip_adapter: str | None = None
    ip_adapter_scale: float = 0.6
    upscaler: str = "lanczos"
    offline: bool = False
    batch_size: int = 4
    fast_path: str = "off"  # lightning, lcm, hyper: a few-step LoRA (images/sdxl_fast.py)
    fast_lora: str | None = None  # its id or folder; None: the path's own repository

    @classmethod
    def from_settings(cls, settings: RenderSettings) -> SdxlOptions:
        # The fast path draws with its own steps and guidance unless the settings give them.
        given = settings.model_fields_set
        steps, guidance = sampling(
            settings.image_fast_path, settings.image_inference_steps,
            settings.image_guidance_scale if "image_guidance_scale" in given else None)
        steps = steps or (FAST_STEPS if settings.image_preset == "fast" else QUALITY_STEPS)
        check_style(settings.image_style)
        check_fast_path(settings.image_fast_path, steps, settings.image_scheduler,
                        settings.sdxl_refiner)
        return cls(
            model=settings.sdxl_model,
            size=generation_size(settings.image_resolution, settings.size),
            guidance_scale=settings.image_guidance_scale if guidance is None else guidance,
            steps=steps, scheduler=settings.image_scheduler,
            negative_prompt=settings.image_negative_prompt,
            style=settings.image_style, safety_checker=settings.image_safety_checker,
            safety_checker_model=settings.safety_checker_model,
            half_precision=settings.half_precision, half_dtype=settings.image_half_dtype,
            cpu_offload=settings.cpu_offload, attention=settings.attention,
            compile=settings.compile, refiner=settings.sdxl_refiner,
            refiner_start=settings.refiner_start, ip_adapter=settings.ip_adapter,
            ip_adapter_scale=settings.ip_adapter_scale, upscaler=settings.upscaler,
            offline=settings.offline, batch_size=settings.image_batch_size,
            fast_path=settings.image_fast_path, fast_lora=settings.image_fast_lora)

    def output_digest(self) -> str:
        """A short hash of every option that changes the pixels (not where or how fast they
        are made): part of the backend version, hence of every picture's content key."""
        shaping = {k: v for k, v in asdict(self).items()
                   if k not in ("cpu_offload", "compile", "offline", "batch_size",
                                "safety_checker_model", "attention")}
        if self.fast_path == "off":  # pictures drawn without it keep their keys
            shaping.pop("fast_path")
            shaping.pop("fast_lora")
        text = json.dumps(shaping, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class DevicePlan:
    device: str  # "cuda" or "cpu"
    dtype: str  # "float16", "bfloat16" or "float32"
    warnings: tuple[str, ...] = ()


def plan_device(options: SdxlOptions, cuda: bool) -> DevicePlan:
    """Where and in what precision SDXL runs. On a CPU: fp32 and a warning that it is slow;
    options that need a GPU are refused here, before minutes of loading, not later."""
    if cuda:
        half = options.half_precision is not False
        dtype = ("bfloat16" if options.half_dtype == "bf16" else "float16") if half else "float32"
        return DevicePlan("cuda", dtype)
    needs_gpu = [name for name, on in (
        ("half_precision=true (fp16/bf16 on a CPU is unsupported or very slow)",
         options.half_precision is True),
        ("cpu_offload=true (it moves sub-models to a GPU and back)", options.cpu_offload),
        ("compile=true (compiling the UNet pays off only on a GPU)", options.compile),
        ("attention=flash (FlashAttention kernels are CUDA only)", options.attention == "flash"),
    ) if on]
    if needs_gpu:
        raise SettingsError(
            f"no CUDA GPU here, but {needs_gpu[0]} needs one: leave it off "
            "(VIDGEN_HALF_PRECISION, --cpu-offload, --compile, --attention sdpa) or run on a "
            "GPU node", field=needs_gpu[0].split("=")[0])
    return DevicePlan("cpu", "float32", (
        "SDXL on a CPU is slow (minutes per 1024x1024 picture): use a CUDA GPU for real "
        "renders, or --images cards",))


def is_local_path(model: str) -> bool:
    """A folder rather than a Hugging Face id ('org/name' has one slash and no dots first)."""
    return (model.startswith(("/", ".", "~")) or model.count("/") > 1 or "\\" in model
            or Path(model).expanduser().is_dir())


def check_local(model: str, field: str) -> str:
    """The folder as a string when ``model`` names a folder that exists; an id unchanged."""
    if not is_local_path(model):
        return model
    folder = Path(model).expanduser()
    if not folder.is_dir():
        raise SettingsError(f"{field} folder {model!r} does not exist: give a folder that "
                            "holds the model (model_index.json or config.json), or a Hugging "
                            "Face model id", field=field)
    return str(folder)


def missing_model_hint(model: str, what: str, flag: str) -> str:
    """How to get a model that is not here: the download command names it through the
    setting of the flag (``--sdxl-model`` -> VIDGEN_SDXL_MODEL)."""
    setting = "VIDGEN_" + flag.lstrip("-").replace("-", "_").upper()
    return (f"{what} {model!r} is not in the Hugging Face cache and downloads are off "
            f"(VIDGEN_OFFLINE or HF_HUB_OFFLINE): run `{setting}={model} vidgen models "
            "download sdxl` on a machine with internet (HF_HOME on shared storage, or copy "
            "~/.cache/huggingface here; `--cluster` fetches it on every node), or pass "
            f"{flag} FOLDER with the model saved in it.")
