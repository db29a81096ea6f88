"""Which models the settings refer to, and which of a repository's files each one needs
(pure). The file choice follows what the pipelines load: SDXL and the x4 upscaler in fp16
where the repository has an fp16 variant (``*.fp16.safetensors``, loaded with
``variant="fp16"``), safetensors over pickles, and only the sub-folders the pipeline reads.

The video and audio models of issue 21 (LTX-Video, LTX-2, Stable Audio Open) load without a
variant (motion/ltx.py, motion/talking.py, beds/stable_audio.py): their files as published,
every shard of a sharded folder (LTX-Video's T5 text encoder), and none of the single-file
checkpoints some of their repositories also keep at the root (many GB each, for other tools).
Each is in ``all`` once a render's settings use it (``--video-model ltx``, ``--shots
talking``, a bed model); otherwise it is named only on request (``models_named``).
"""

from __future__ import annotations

import fnmatch
import posixpath
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from vidgen_ray.config.backends.sdxl import FAST_LORAS
from vidgen_ray.errors import SettingsError

if TYPE_CHECKING:
    from vidgen_ray.config import RenderSettings

# Small files every model needs: configs, tokenizers, schedulers.
CONFIG_PATTERNS = ("*.json", "*.txt", "*.model", "merges.txt", "vocab.*")
SDXL_FOLDERS = ("text_encoder", "text_encoder_2", "unet", "vae")
UPSCALER_FOLDERS = ("text_encoder", "unet", "vae")
# diffusers' folders with weights (each: config.json and weights) in each pipeline's layout.
LTX_FOLDERS = ("transformer", "vae", "text_encoder")
LTX2_FOLDERS = ("transformer", "vae", "audio_vae", "vocoder", "text_encoder", "connectors")
STABLE_AUDIO_FOLDERS = ("transformer", "vae", "text_encoder", "projection_model")
DIFFUSERS_EXTRA = ("scheduler/*.json", "tokenizer/*")
GROUPS = ("sdxl", "bark", "kokoro", "ltx", "ltx2", "stable-audio", "all")


@dataclass(frozen=True)
class ModelSpec:
    """One model: a name for the CLI, its repository, the files it needs."""

    name: str
    repo_id: str
    role: str  # what it is for, in words
    weight_folders: tuple[str, ...] = ("",)  # each needs config.json + one weights file
    configs: tuple[str, ...] = CONFIG_PATTERNS  # small files wanted anywhere in those folders
    extra: tuple[str, ...] = ()  # further patterns (IP-Adapter weights, voice presets)
    required: tuple[str, ...] = ()  # files that must be present for the model to be complete
    group: str = "sdxl"
    half: bool = True  # prefer fp16 variants
    only_extra: bool = False  # a model made only of its ``extra`` files (voice presets)
    shares_repo_with: tuple[str, ...] = field(default_factory=tuple)

    def wanted(self, path: str) -> bool:
        """Whether a repository file is one this model needs (weights are chosen apart)."""
        if any(fnmatch.fnmatch(path, p) for p in self.extra):
            return True
        if self.only_extra:
            return False
        folder, name = posixpath.split(path)
        return folder in self.weight_folders and any(
            fnmatch.fnmatch(name, p) for p in self.configs) or path in self.required


def is_hub_id(model: str) -> bool:
    """'org/name' (what the hub serves); folders and other paths are the user's own."""
    parts = model.split("/")
    return (len(parts) == 2 and all(parts) and not model.startswith((".", "~", "/"))
            and "\\" not in model)


def models_for(settings: RenderSettings) -> list[ModelSpec]:
    """Every hub model the settings refer to: SDXL, Bark and Kokoro always (what `--images
    sdxl`, `--voice bark` and `--voice kokoro` would load), the refiner, IP-Adapter,
    upscaler, safety checker and the fast path's LoRA when set. Models given as local
    folders are not the cache's business and are left out."""
    half = settings.half_precision is not False
    specs = [
        ModelSpec("sdxl", settings.sdxl_model, "SDXL base pipeline", SDXL_FOLDERS,
                  extra=("scheduler/*.json", "tokenizer/*", "tokenizer_2/*"),
                  required=("model_index.json",), half=half),
        ModelSpec("bark", settings.bark_model, "Bark speech model", ("",),
                  required=("config.json",), group="bark", half=False,
                  shares_repo_with=("bark-voices",)),
        ModelSpec("bark-voices", settings.bark_model, "Bark voice presets",
                  extra=("speaker_embeddings_path.json", "speaker_embeddings/v2/*"),
                  required=("speaker_embeddings_path.json",), group="bark",
                  only_extra=True, shares_repo_with=("bark",)),
    ]
    if settings.sdxl_refiner:
        specs.append(ModelSpec("sdxl-refiner", settings.sdxl_refiner, "SDXL refiner",
                               ("text_encoder_2", "unet", "vae"),
                               extra=("scheduler/*.json", "tokenizer_2/*"),
                               required=("model_index.json",), half=half))
    if settings.ip_adapter:
        specs.append(ModelSpec("ip-adapter", settings.ip_adapter, "IP-Adapter for SDXL",
                               ("sdxl_models/image_encoder",),
                               extra=("sdxl_models/ip-adapter_sdxl.safetensors",),
                               required=("sdxl_models/ip-adapter_sdxl.safetensors",),
                               half=False))
    if settings.upscaler != "lanczos":
        specs.append(ModelSpec("upscaler", settings.upscaler, "x4 upscaler", UPSCALER_FOLDERS,
                               extra=("scheduler/*.json", "low_res_scheduler/*.json",
                                      "tokenizer/*"),
                               required=("model_index.json",), half=False))  # loads fp32 files
    fast = _fast_lora(settings)
    if fast:
        specs.append(fast)
    if settings.image_safety_checker:
        specs.append(ModelSpec("safety-checker", settings.safety_checker_model,
                               "safety checker for SDXL pictures", ("",), half=False,
                               required=("config.json", "preprocessor_config.json")))
    specs.append(ModelSpec("kokoro", settings.kokoro_model, "Kokoro speech model and voices",
                           extra=("config.json", "kokoro-v1_0.pth", "voices/*.pt"),
                           required=("config.json", "kokoro-v1_0.pth"), group="kokoro",
                           half=False, only_extra=True))
    if settings.video_model == "ltx":
        specs.append(_ltx(settings))
    if settings.shots == "talking":
        specs.append(_ltx2(settings))
    if settings.bed_model == "stable_audio":
        specs.append(_stable_audio(settings))
    return [s for s in specs if is_hub_id(s.repo_id)]


def _stable_audio(settings: RenderSettings) -> ModelSpec:
    return ModelSpec("stable-audio", settings.stable_audio_model,
                     "Stable Audio Open: music and ambience beds (--music-model or "
                     "--ambience-model stable_audio; gated: accept its licence, set HF_TOKEN)",
                     STABLE_AUDIO_FOLDERS, extra=DIFFUSERS_EXTRA, required=("model_index.json",),
                     group="stable-audio", half=False)


def _ltx(settings: RenderSettings) -> ModelSpec:
    return ModelSpec("ltx", settings.ltx_model, "LTX-Video: motion clips (--video-model ltx)",
                     LTX_FOLDERS, extra=DIFFUSERS_EXTRA, required=("model_index.json",),
                     group="ltx", half=False)


def _ltx2(settings: RenderSettings) -> ModelSpec:
    return ModelSpec("ltx2", settings.ltx2_model, "LTX-2: talking shots (--shots talking)",
                     LTX2_FOLDERS, extra=DIFFUSERS_EXTRA, required=("model_index.json",),
                     group="ltx2", half=False)


def on_request(settings: RenderSettings) -> list[ModelSpec]:
    """The models downloadable by name whatever the settings: LTX-Video, LTX-2 and Stable
    Audio Open (also when no render setting asks for them). Stable Audio Open's repository
    is gated: accept its licence on the hub and set HF_TOKEN first."""
    specs = [_ltx(settings), _ltx2(settings), _stable_audio(settings)]
    return [s for s in specs if is_hub_id(s.repo_id)]


def models_named(settings: RenderSettings, name: str) -> list[ModelSpec]:
    """The models a CLI name stands for (``pick``) among those the settings refer to, and,
    for a name other than all, those downloadable on request (``on_request``)."""
    specs = models_for(settings)
    if name != "all":
        have = {s.name for s in specs}
        specs += [s for s in on_request(settings) if s.name not in have]
    return pick(specs, name)


def _fast_lora(settings: RenderSettings) -> ModelSpec | None:
    """The fast path's LoRA (image_fast_path): one file of its repository, which also holds
    full checkpoints of many gigabytes (SDXL-Lightning, Hyper-SD)."""
    if settings.image_fast_path == "off":
        return None
    repo_id, weight_name = FAST_LORAS[settings.image_fast_path]
    return ModelSpec("fast-lora", settings.image_fast_lora or repo_id,
                     f"{settings.image_fast_path} LoRA: SDXL in a few steps",
                     extra=(weight_name,), required=(weight_name,), half=False,
                     only_extra=True)


def pick(specs: list[ModelSpec], name: str) -> list[ModelSpec]:
    """The models a CLI name stands for: a group (sdxl: SDXL and its helpers; bark: Bark and
    its voices; kokoro: Kokoro and its voices; ltx, ltx2, stable-audio; all), or one model's
    own name."""
    if name == "all":
        return list(specs)
    if name in GROUPS:
        return [s for s in specs if s.group == name]
    chosen = [s for s in specs if s.name == name]
    if not chosen:
        known = ", ".join([*GROUPS, *(s.name for s in specs if s.name not in GROUPS)])
        raise SettingsError(f"no model named {name!r} in the current settings: choose one of "
                            f"{known} (refiner, IP-Adapter and upscaler appear once set, "
                            "e.g. VIDGEN_IP_ADAPTER=h94/IP-Adapter)", field="model")
    return chosen


def _weight_rank(name: str, half: bool) -> int | None:
    """Lower is better; None for a file that is not a weights file."""
    order = ([".fp16.safetensors", ".safetensors", ".fp16.bin", ".bin"] if half
             else [".safetensors", ".bin", ".fp16.safetensors", ".fp16.bin"])
    stem_ok = name.startswith(("model", "diffusion_pytorch_model", "pytorch_model"))
    for rank, suffix in enumerate(order):
        plain = suffix in (".safetensors", ".bin")
        if stem_ok and name.endswith(suffix) and (not plain or ".fp16." not in name):
            return rank
    return None


def select_files(spec: ModelSpec, repo_files: list[str]) -> list[str]:
    """The files of ``repo_files`` this model needs: its small files, its extras, and per
    weights folder the best weights format present (all shards of it)."""
    chosen = {f for f in repo_files if spec.wanted(f)}
    if not spec.only_extra:
        for folder in spec.weight_folders:
            ranked: dict[int, list[str]] = {}
            for path in repo_files:
                directory, name = posixpath.split(path)
                rank = _weight_rank(name, spec.half) if directory == folder else None
                if rank is not None:
                    ranked.setdefault(rank, []).append(path)
            if ranked:
                chosen.update(ranked[min(ranked)])
    return sorted(chosen)


def missing_files(spec: ModelSpec, present: list[str]) -> list[str]:
    """What a snapshot lacks for this model to load: required files, and per weights folder
    its config.json and a weights file (named as folder/what)."""
    have = set(present)
    missing = [f for f in spec.required if f not in have]
    if spec.only_extra:
        return missing
    for folder in spec.weight_folders:
        prefix = f"{folder}/" if folder else ""
        if f"{prefix}config.json" not in have and f"{prefix}config.json" not in missing:
            missing.append(f"{prefix}config.json")
        names = [posixpath.basename(p) for p in have if posixpath.dirname(p) == folder]
        if not any(_weight_rank(n, spec.half) is not None for n in names):
            missing.append(f"{prefix}<weights>")
    return missing
