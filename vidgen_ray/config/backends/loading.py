"""How models load: settings every model backend shares (DESIGN.md "Settings users already
know"). A backend's options class inherits the part it reads. Also the loading every
diffusers pipeline of the video and bed backends shares (they may not import each other)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field

from vidgen_ray.config.environment import hub_offline
from vidgen_ray.config.scope import Section
from vidgen_ray.errors import DependencyError, SettingsError


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


def diffusion_modules(what: str):
    """(torch, diffusers), or a DependencyError naming ``what`` needs them."""
    try:
        import diffusers
        import torch
    except ImportError as exc:
        raise DependencyError(f"{what} needs torch and diffusers ({exc.name} is missing): "
                              "pip install 'vidgen-ray[models]'") from None
    return torch, diffusers


def load_pretrained_pipeline(loader, model: str, *, offline: bool, dtype, what: str,
                             field: str, fetch_hint: str = ""):
    """``loader.from_pretrained`` (a diffusers pipeline of the video and bed backends) from a
    folder or the Hugging Face cache, never fetched offline, with an error that says how to
    get a model that is not here. ``fetch_hint``: what else fetching it takes (a licence),
    added to those errors."""
    also = f"; {fetch_hint}" if fetch_hint else ""
    local = is_local_path(model)
    if local:
        folder = Path(model).expanduser()
        if not folder.is_dir():
            raise SettingsError(f"{field} folder {model!r} does not exist: give a folder saved "
                                "with save_pretrained (model_index.json) or a Hugging Face "
                                "model id", field=field)
        model = str(folder)
    try:
        with hub_offline(offline):
            return loader.from_pretrained(model, local_files_only=offline or local, dtype=dtype)
    except (OSError, ValueError) as exc:
        if local:
            raise DependencyError(f"{what} folder {model!r} cannot be loaded ({exc}): it must "
                                  "hold a pipeline saved with save_pretrained") from exc
        if offline:
            raise DependencyError(
                f"{what} {model!r} is not in the Hugging Face cache and downloads are off "
                "(VIDGEN_OFFLINE or HF_HUB_OFFLINE): fetch it on a machine with internet "
                f"(`hf download {model}`, HF_HOME on shared storage) or give a folder{also}"
            ) from exc
        raise DependencyError(f"{what} {model!r} could not be downloaded ({exc}): check the "
                              f"id and the network, or give a folder{also}") from exc
