"""The fast picture path: SDXL in a few steps through a distilled LoRA (``image_fast_path``).

SDXL-Lightning, LCM-LoRA and Hyper-SD each ship a LoRA distilled from SDXL base that draws in
2-8 steps instead of 30-50, with its own sampler. It loads through diffusers'
``load_lora_weights`` (peft) from the Hugging Face cache or a folder, like the other models,
and is fused into the UNet, so drawing costs what plain SDXL costs per step. The table below
is what each model card prescribes (scheduler, timestep spacing, guidance); the LoRA files
are distilled for 4 steps, the default. The table is pure; ``apply_fast_path`` touches the
pipeline, with diffusers passed in by the caller, so importing this module stays light.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from vidgen_ray.config.backends.sdxl import FAST_LORAS
from vidgen_ray.errors import DependencyError, SettingsError

if TYPE_CHECKING:
    from vidgen_ray.images.sdxl_options import SdxlOptions

log = logging.getLogger(__name__)
DIFFUSERS_LORA_FILE = "pytorch_lora_weights.safetensors"  # save_lora_weights' default name
MIN_STEPS, MAX_STEPS = 2, 8


@dataclass(frozen=True)
class FastPath:
    """One few-step LoRA: where it is, the sampler it was distilled for, and the steps and
    guidance it draws with when the settings name none. A guidance of 1 or less turns
    classifier-free guidance off: one UNet pass per step instead of two."""

    name: str
    scheduler: str  # a diffusers scheduler class, made from the model's own config
    scheduler_config: dict = field(default_factory=dict)
    steps: int = 4
    guidance_scale: float = 0.0

    @property
    def repo_id(self) -> str:
        return FAST_LORAS[self.name][0]

    @property
    def weight_name(self) -> str:  # the LoRA file in that repository
        return FAST_LORAS[self.name][1]


FAST_PATHS = {
    # "Ensure sampler uses trailing timesteps"; trained without CFG: guidance 0.
    "lightning": FastPath("lightning", "EulerDiscreteScheduler",
                          {"timestep_spacing": "trailing"}),
    # LCMScheduler; guidance off or 1-2 (its card). 1.0: off, the fastest.
    "lcm": FastPath("lcm", "LCMScheduler", guidance_scale=1.0),
    # DDIM with trailing spacing, guidance 0 (its card for the N-step LoRAs); clip_sample and
    # set_alpha_to_one off as in SDXL's own scheduler config.
    "hyper": FastPath("hyper", "DDIMScheduler", {"timestep_spacing": "trailing",
                                                 "clip_sample": False,
                                                 "set_alpha_to_one": False}),
}


def fast_path(name: str) -> FastPath | None:
    """The fast path of that name; None for "off"."""
    if name == "off":
        return None
    if name not in FAST_PATHS:
        raise SettingsError(f"unknown image_fast_path {name!r}: choose off, "
                            f"{', '.join(FAST_PATHS)}", field="image_fast_path")
    return FAST_PATHS[name]


def lora_source(name: str, lora: str | None) -> str:
    """Where the LoRA comes from: the setting ``image_fast_lora`` (an id or folder), or the
    fast path's own repository."""
    path = fast_path(name)
    return lora or (path.repo_id if path else "")


def sampling(name: str, steps: int | None, guidance: float | None) -> tuple[int | None,
                                                                            float | None]:
    """(steps, guidance) to draw with: those given, else the fast path's; unchanged when the
    fast path is off."""
    path = fast_path(name)
    if path is None:
        return steps, guidance
    return (steps or path.steps, path.guidance_scale if guidance is None else guidance)


def check_fast_path(name: str, steps: int | None, scheduler: str, refiner: str | None) -> None:
    """Settings that cannot go with a fast path are refused before anything loads (the steps,
    which travel with each request, when a job is planned: ``steps`` None skips them)."""
    path = fast_path(name)
    if path is None:
        return
    if steps is not None and not MIN_STEPS <= steps <= MAX_STEPS:
        raise SettingsError(
            f"image_fast_path={name} draws in {MIN_STEPS}-{MAX_STEPS} steps (its LoRA is "
            f"distilled for {path.steps}), not {steps}: give --steps {MIN_STEPS} to "
            f"{MAX_STEPS} or leave it empty, or --image-fast-path off",
            field="image_inference_steps")
    if scheduler != "default":
        raise SettingsError(
            f"image_fast_path={name} brings its own sampler ({path.scheduler}), so "
            f"image_scheduler={scheduler} cannot apply: leave --scheduler at default, or "
            "--image-fast-path off", field="image_scheduler")
    if refiner:
        raise SettingsError(
            f"image_fast_path={name} draws in a few steps and the SDXL refiner needs the full "
            "schedule: leave --refiner empty, or --image-fast-path off", field="sdxl_refiner")


def apply_fast_path(pipe, options: SdxlOptions, diffusers) -> FastPath | None:
    """Load the fast path's LoRA into ``pipe``, fuse it into the weights and set its sampler;
    returns the path (its default steps and guidance), or None when it is off."""
    path = fast_path(options.fast_path)
    if path is None:
        return None
    check_fast_path(options.fast_path, None, options.scheduler, options.refiner)
    if importlib.util.find_spec("peft") is None:
        raise DependencyError("the fast picture path loads its LoRA through peft, which is "
                              "missing: pip install 'vidgen-ray[models]' (or peft), or "
                              "--image-fast-path off")
    source, weight_name, local_only = _locate(path, options)
    try:
        pipe.load_lora_weights(source, weight_name=weight_name, adapter_name="fast",
                               local_files_only=local_only)
    except (OSError, ValueError) as exc:
        raise _load_error(path, options, source, exc) from exc
    pipe.fuse_lora()
    pipe.unload_lora_weights()  # the fused weights stay; the LoRA layers go
    scheduler = getattr(diffusers, path.scheduler)
    pipe.scheduler = scheduler.from_config(pipe.scheduler.config, **path.scheduler_config)
    log.info("fast picture path %s: %s fused, %s", path.name, source, path.scheduler)
    return path


def _locate(path: FastPath, options: SdxlOptions) -> tuple[str, str | None, bool]:
    """(source, weight file, local only): a folder holds the path's own file or diffusers'
    default one; a model id holds the path's file."""
    from vidgen_ray.images.sdxl_options import check_local, is_local_path

    source = lora_source(path.name, options.fast_lora)
    if not is_local_path(source):
        return source, path.weight_name, options.offline
    folder = Path(check_local(source, "image_fast_lora"))
    for name in (path.weight_name, DIFFUSERS_LORA_FILE):
        if (folder / name).is_file():
            return str(folder), name, True
    raise SettingsError(f"image_fast_lora folder {source!r} holds no LoRA: put "
                        f"{path.weight_name} or {DIFFUSERS_LORA_FILE} in it",
                        field="image_fast_lora")


def _load_error(path: FastPath, options: SdxlOptions, source: str,
                exc: Exception) -> DependencyError:
    from vidgen_ray.images.sdxl_options import is_local_path

    if is_local_path(source):
        return DependencyError(f"the {path.name} LoRA in {source!r} cannot be loaded ({exc}): "
                               "it must be an SDXL LoRA in diffusers' or kohya's format")
    if options.offline:
        return DependencyError(
            f"the {path.name} LoRA ({source}, {path.weight_name}) is not in the Hugging Face "
            "cache and downloads are off (VIDGEN_OFFLINE or HF_HUB_OFFLINE): run "
            f"`VIDGEN_IMAGE_FAST_PATH={path.name} vidgen models download fast-lora` on a "
            "machine with internet (`--cluster` fetches it on every node), or pass "
            "--image-fast-lora FOLDER with the LoRA file in it.")
    return DependencyError(f"the {path.name} LoRA {source!r} ({path.weight_name}) could not "
                           f"be downloaded ({exc}): check the id and the network, or pass "
                           "--image-fast-lora FOLDER")
