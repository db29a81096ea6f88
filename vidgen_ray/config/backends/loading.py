"""How models load: settings every model backend shares (DESIGN.md "Settings users already
know"). A backend's options class inherits the part it reads."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field

from vidgen_ray.config.scope import Section


class OfflineOption(Section):
    """Where weights may come from."""

    offline: bool = Field(
        False, validation_alias=AliasChoices("offline", "VIDGEN_OFFLINE", "HF_HUB_OFFLINE"),
        description="Load models only from local folders and the Hugging Face cache.")


class ModelLoading(OfflineOption):
    """GPU model settings shared by SDXL and Bark."""

    half_precision: bool | None = Field(
        None, description="fp16/bf16 weights; empty means yes on CUDA, no on CPU.")
    cpu_offload: bool = Field(
        False, description="Keep idle sub-models in CPU memory (cards under 8 GB): less VRAM, "
        "slower; needs CUDA.")
    attention: Literal["sdpa", "flash", "eager"] = Field(
        "sdpa", description="Attention kernels: sdpa (PyTorch), flash (flash-attn, CUDA), eager.")
    compile: bool = Field(False, description="torch.compile the models (slow first call); "
                          "needs CUDA.")


def is_local_path(model: str) -> bool:
    """A folder rather than a Hugging Face id ('org/name' has one slash and no dots first)."""
    return (model.startswith(("/", ".", "~")) or model.count("/") > 1 or "\\" in model
            or Path(model).expanduser().is_dir())
