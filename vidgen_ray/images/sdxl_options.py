"""SDXL options (pure): what a worker loads, read from the settings' LOAD_FIELDS
(config/backends/sdxl.py), which device and precision it runs with, and the GPU-only options
it refuses on a CPU before loading anything. What each picture asks (size, steps, style...)
is not here: it travels with the request (images/sdxl_sampling.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vidgen_ray.config.backends.loading import cuda_dtype, is_local_path, refuse_gpu_only
from vidgen_ray.errors import SettingsError

if TYPE_CHECKING:
    from vidgen_ray.config import RenderSettings


@dataclass(frozen=True)
class SdxlOptions:
    model: str = "stabilityai/stable-diffusion-xl-base-1.0"
    scheduler: str = "default"
    safety_checker: bool = True
    safety_checker_model: str = "CompVis/stable-diffusion-safety-checker"
    half_precision: bool | None = None  # None: yes on CUDA
    half_dtype: str = "fp16"
    cpu_offload: bool = False
    attention: str = "sdpa"
    compile: bool = False
    refiner: str | None = None
    ip_adapter: str | None = None
    upscaler: str = "lanczos"
    offline: bool = False
    batch_size: int = 4
    fast_path: str = "off"  # lightning, lcm, hyper: a few-step LoRA (images/sdxl_fast.py)
    fast_lora: str | None = None  # its id or folder; None: the path's own repository

    @classmethod
    def from_settings(cls, settings: RenderSettings) -> SdxlOptions:
        return cls(
            model=settings.sdxl_model, scheduler=settings.image_scheduler,
            safety_checker=settings.image_safety_checker,
            safety_checker_model=settings.safety_checker_model,
            half_precision=settings.half_precision, half_dtype=settings.image_half_dtype,
            cpu_offload=settings.cpu_offload, attention=settings.attention,
            compile=settings.compile, refiner=settings.sdxl_refiner,
            ip_adapter=settings.ip_adapter, upscaler=settings.upscaler,
            offline=settings.offline, batch_size=settings.image_batch_size,
            fast_path=settings.image_fast_path, fast_lora=settings.image_fast_lora)


@dataclass(frozen=True)
class DevicePlan:
    device: str  # "cuda" or "cpu"
    dtype: str  # "float16", "bfloat16" or "float32"
    warnings: tuple[str, ...] = ()


def plan_device(options: SdxlOptions, cuda: bool) -> DevicePlan:
    """Where and in what precision SDXL runs. On a CPU: fp32 and a warning that it is slow;
    options that need a GPU are refused here, before minutes of loading, not later."""
    if cuda:
        return DevicePlan("cuda", cuda_dtype(options))
    refuse_gpu_only(options, "the UNet", "VIDGEN_HALF_PRECISION, --cpu-offload, --compile, "
                    "--attention sdpa")
    return DevicePlan("cpu", "float32", (
        "SDXL on a CPU is slow (minutes per 1024x1024 picture): use a CUDA GPU for real "
        "renders, or --images cards",))


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
