"""Loading what an SDXL worker holds: the pipeline, refiner, IP-Adapter and safety checker,
from a folder or the Hugging Face cache, with errors that say how to get a missing model.

Offline (settings.offline), every load is local-only and runs under the hub client's own
offline switch (config.environment.hub_offline): a worker start sends no request to the hub,
not even the client's telemetry, and never waits on a retry.
"""

from __future__ import annotations

import contextlib
import logging

from vidgen_ray.config.environment import hub_offline
from vidgen_ray.errors import DependencyError
from vidgen_ray.images.sdxl_options import (
    SdxlOptions,
    check_local,
    is_local_path,
    missing_model_hint,
)

log = logging.getLogger(__name__)
SCHEDULERS = {"euler": "EulerDiscreteScheduler", "euler_a": "EulerAncestralDiscreteScheduler",
              "dpmpp_2m": "DPMSolverMultistepScheduler", "ddim": "DDIMScheduler",
              "unipc": "UniPCMultistepScheduler"}


def modules():
    """(torch, diffusers), or a DependencyError that says what to install."""
    try:
        import diffusers
        import torch
    except ImportError as exc:
        raise DependencyError(f"SDXL needs torch and diffusers ({exc.name} is missing): "
                              "pip install 'vidgen-ray[models]', or use --images cards") from None
    return torch, diffusers


def load_pretrained(loader, model: str, offline: bool, what: str, flag: str,
                    variant: str | None = None, **kwargs):
    """``loader.from_pretrained`` with a clear error when the model is not here. With a
    ``variant`` (fp16, what `vidgen models download` fetches) it is tried first, then the
    full-precision files (cast to the dtype on load)."""
    local_only = offline or is_local_path(model)
    try:
        with hub_offline(offline):
            if variant:
                with contextlib.suppress(OSError, ValueError):
                    return loader.from_pretrained(model, local_files_only=local_only,
                                                  variant=variant, **kwargs)
            return loader.from_pretrained(model, local_files_only=local_only, **kwargs)
    except (OSError, ValueError) as exc:
        if is_local_path(model):
            raise DependencyError(f"{what} folder {model!r} cannot be loaded ({exc}): it must "
                                  "hold a model saved with save_pretrained") from exc
        raise DependencyError(missing_model_hint(model, what, flag) if offline else
                              f"{what} {model!r} could not be downloaded ({exc}): check the "
                              f"id and the network, or pass {flag} FOLDER") from exc


def load_ip_adapter(pipe, options: SdxlOptions, dtype) -> bool:
    """The IP-Adapter into ``pipe`` (h94's layout); False when none is set."""
    source = options.ip_adapter
    if not source:
        return False
    source = check_local(source, "ip_adapter")
    try:
        with hub_offline(options.offline):
            pipe.load_ip_adapter(source, subfolder="sdxl_models",
                                 weight_name="ip-adapter_sdxl.safetensors",
                                 local_files_only=options.offline or is_local_path(source))
    except (OSError, ValueError) as exc:
        raise DependencyError(
            f"IP-Adapter {source!r} cannot be loaded ({exc}): give a folder or model id "
            "in h94/IP-Adapter's layout (sdxl_models/ip-adapter_sdxl.safetensors and "
            "sdxl_models/image_encoder), e.g. --ip-adapter h94/IP-Adapter") from exc
    pipe.image_encoder.to(dtype)
    return True


def load_refiner(diffusers, pipe, options: SdxlOptions, dtype, variant: str | None):
    """The refiner sharing the base's second text encoder and VAE; None when none is set."""
    if not options.refiner:
        return None
    folder = check_local(options.refiner, "sdxl_refiner")
    refiner = load_pretrained(diffusers.StableDiffusionXLImg2ImgPipeline, folder,
                              options.offline, "SDXL refiner", "--sdxl-refiner", variant,
                              dtype=dtype, text_encoder_2=pipe.text_encoder_2, vae=pipe.vae)
    refiner.set_progress_bar_config(disable=True)
    return refiner


def load_safety_checker(options: SdxlOptions, dtype, device: str):
    """(checker, feature extractor), or None when off or, for the default model, not
    available here (SDXL ships none: pictures are then not checked, with a warning)."""
    if not options.safety_checker:
        return None
    from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker
    from transformers import CLIPImageProcessor

    model = check_local(options.safety_checker_model, "safety_checker_model")
    try:
        checker = load_pretrained(StableDiffusionSafetyChecker, model, options.offline,
                                  "safety checker", "--safety-checker-model", dtype=dtype)
        extractor = load_pretrained(CLIPImageProcessor, model, options.offline,
                                    "safety checker", "--safety-checker-model")
    except DependencyError as exc:
        if is_local_path(model):
            raise
        log.warning("pictures are NOT safety-checked: %s (or --no-image-safety-checker "
                    "to silence this)", exc)
        return None
    return checker.to(device), extractor
