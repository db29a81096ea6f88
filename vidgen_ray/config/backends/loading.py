"""How models load: settings every model backend shares (DESIGN.md "Settings users already
know"). A backend's options class inherits the part it reads. Also the loading every
diffusers pipeline of the video and bed backends shares (they may not import each other)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field

from vidgen_ray.config.environment import hub_offline
from vidgen_ray.config.scope import Section
from vidgen_ray.errors import DependencyError, SettingsError

log = logging.getLogger("vidgen.models")


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


def plan_diffusion_device(options, cuda: bool, what: str, slow: str) -> tuple[str, str]:
    """(device, dtype name) for a video or bed pipeline (``options``: its half_precision,
    half_dtype, cpu_offload, compile and attention). GPU-only options are refused on a CPU
    before any loading; eager attention everywhere (their attention runs through SDPA).
    ``slow``: how slow ``what`` is on a CPU, for the warning."""
    if options.attention == "eager":
        raise SettingsError(f"attention=eager is not available for {what} (its attention "
                            "runs through PyTorch SDPA): use sdpa or flash", field="attention")
    if cuda:
        return "cuda", cuda_dtype(options)
    refuse_gpu_only(options, "the transformer")
    log.warning("%s on a CPU is very slow (%s): use a CUDA GPU", what, slow)
    return "cpu", "float32"


def cuda_dtype(options) -> str:
    """The dtype a model runs in on CUDA: half (``half_dtype``) unless half_precision is
    False."""
    if options.half_precision is False:
        return "float32"
    return {"bf16": "bfloat16", "fp16": "float16"}[options.half_dtype]


def refuse_gpu_only(options, compiled: str, how: str = "") -> None:
    """On a machine without CUDA: a SettingsError naming the first option that needs a GPU
    (half precision, offload, compile, flash attention), before any loading. ``compiled``:
    what compile would compile; ``how``: where to turn the options off, for the message."""
    needs_gpu = [name for name, on in (
        ("half_precision=true (fp16/bf16 on a CPU is unsupported or very slow)",
         options.half_precision is True),
        ("cpu_offload=true (it moves sub-models to a GPU and back)", options.cpu_offload),
        (f"compile=true (compiling {compiled} pays off only on a GPU)", options.compile),
        ("attention=flash (FlashAttention kernels are CUDA only)", options.attention == "flash"),
    ) if on]
    if needs_gpu:
        raise SettingsError(f"no CUDA GPU here, but {needs_gpu[0]} needs one: leave it off"
                            f"{f' ({how})' if how else ''} or run on a GPU node",
                            field=needs_gpu[0].split("=")[0])


def ready_pipeline(pipe, device: str, options, vae_tiling: bool = False):
    """A loaded pipeline made ready to serve as ``options`` say: no progress bars, the VAE
    tiled if asked, on ``device`` (or offloaded there, CUDA only), its transformer
    compiled if asked."""
    pipe.set_progress_bar_config(disable=True)
    if vae_tiling:
        pipe.vae.enable_tiling()
    if device == "cuda" and options.cpu_offload:
        pipe.enable_model_cpu_offload()
    else:
        pipe.to(device)
    if options.compile:
        import torch

        pipe.transformer = torch.compile(pipe.transformer, fullgraph=True)
    return pipe
