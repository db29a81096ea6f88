"""SDXL pictures with diffusers' StableDiffusionXLPipeline, held resident in one worker.

Loads a model id through the Hugging Face cache, or a local folder; offline, nothing is
fetched. On CUDA: fp16 (or bf16), SDPA attention, VAE slicing+tiling for drawings of 2K and
above, optional model CPU offload, torch.compile of the UNet, refiner and IP-Adapter. On a
CPU: fp32, with a warning. Each call batches its requests into as few pipeline calls as the
batch size allows; characters keep their looks through fixed words, seeds and (with an
IP-Adapter) their portraits. A picture the safety checker flags is drawn again with the next
seed; the PNG records the seed used and how many were flagged (``vidgen:*`` text chunks).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
from collections.abc import Callable
from itertools import groupby

from PIL import Image, PngImagePlugin

from vidgen_ray.errors import DependencyError, RenderError
from vidgen_ray.images.base import ImageRequest
from vidgen_ray.images.prompts import (
    MAX_SAFETY_TRIES,
    SDXL_SIZES,
    nearest_sdxl_size,
    portrait_prompt,
    scene_prompt,
    try_seeds,
)
from vidgen_ray.images.sdxl_fast import apply_fast_path
from vidgen_ray.images.sdxl_options import (
    DevicePlan,
    SdxlOptions,
    check_local,
    is_local_path,
    missing_model_hint,
    plan_device,
)
from vidgen_ray.images.upscale import X4Upscaler, fit_lanczos

log = logging.getLogger(__name__)
VERSION = "sdxl-1"
SCHEDULERS = {"euler": "EulerDiscreteScheduler", "euler_a": "EulerAncestralDiscreteScheduler",
              "dpmpp_2m": "DPMSolverMultistepScheduler", "ddim": "DDIMScheduler",
              "unipc": "UniPCMultistepScheduler"}
TILE_FROM = 2048  # decode drawings this wide or wider in VAE slices and tiles
REFERENCE_SIDE = 224  # each portrait in a scene's IP-Adapter reference strip
OnStep = Callable[[int, int], None]


def _modules():
    try:
        import diffusers
        import torch
    except ImportError as exc:
        raise DependencyError(f"SDXL needs torch and diffusers ({exc.name} is missing): "
                              "pip install 'vidgen-ray[models]', or use --images cards") from None
    return torch, diffusers


def _load(loader, model: str, offline: bool, what: str, flag: str, variant: str | None = None,
          **kwargs):
    """``loader.from_pretrained`` with a clear error when the model is not here. With a
    ``variant`` (fp16, what `vidgen models download` fetches) it is tried first, then the
    full-precision files (cast to the dtype on load)."""
    local_only = offline or is_local_path(model)
    try:
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


class SdxlBackend:
    name = "sdxl"

    def __init__(self, options: SdxlOptions, cuda: bool | None = None, pipeline=None):
        """``pipeline``: an already built StableDiffusionXLPipeline (benchmarks of the bare
        architecture); normally None, and the model named in the options is loaded."""
        torch, diffusers = _modules()
        self.options = options
        self.plan: DevicePlan = plan_device(
            options, torch.cuda.is_available() if cuda is None else cuda)
        for warning in self.plan.warnings:
            log.warning(warning)
        self.dtype = getattr(torch, self.plan.dtype)
        self.pipe = pipeline or _load(diffusers.StableDiffusionXLPipeline,
                                      check_local(options.model, "sdxl_model"), options.offline,
                                      "SDXL model", "--sdxl-model", self._variant(),
                                      dtype=self.dtype)
        self.pipe.set_progress_bar_config(disable=True)
        self._set_scheduler(diffusers)
        self.fast = apply_fast_path(self.pipe, options, diffusers)  # few-step LoRA, its sampler
        self._set_attention()
        self.ip_adapter = self._load_ip_adapter()
        self._place(self.pipe)
        self.refiner = self._load_refiner(diffusers)
        self.safety = self._load_safety_checker()
        self.upscaler = (None if options.upscaler == "lanczos" else X4Upscaler(
            check_local(options.upscaler, "upscaler"), self.plan.device, self.dtype,
            options.offline or is_local_path(options.upscaler)))
        if options.compile:
            self.pipe.unet.to(memory_format=torch.channels_last)
            self.pipe.unet = torch.compile(self.pipe.unet, fullgraph=True)

    # ---- loading -------------------------------------------------------------------------

    def _variant(self) -> str | None:
        """fp16 weight files where the weights load in half precision."""
        return "fp16" if self.plan.dtype != "float32" else None

    def _set_scheduler(self, diffusers) -> None:
        if self.options.scheduler != "default":
            cls = getattr(diffusers, SCHEDULERS[self.options.scheduler])
            self.pipe.scheduler = cls.from_config(self.pipe.scheduler.config)

    def _set_attention(self) -> None:
        # diffusers uses PyTorch SDPA by default; flash pins SDPA to its flash kernel at call
        # time (_attention_context); eager is the plain matmul-softmax processor.
        if self.options.attention == "eager":
            from diffusers.models.attention_processor import AttnProcessor

            self.pipe.unet.set_attn_processor(AttnProcessor())
            self.pipe.vae.set_attn_processor(AttnProcessor())

    def _load_ip_adapter(self) -> bool:
        source = self.options.ip_adapter
        if not source:
            return False
        source = check_local(source, "ip_adapter")
        try:
            self.pipe.load_ip_adapter(source, subfolder="sdxl_models",
                                      weight_name="ip-adapter_sdxl.safetensors",
                                      local_files_only=self.options.offline
                                      or is_local_path(source))
        except (OSError, ValueError) as exc:
            raise DependencyError(
                f"IP-Adapter {source!r} cannot be loaded ({exc}): give a folder or model id "
                "in h94/IP-Adapter's layout (sdxl_models/ip-adapter_sdxl.safetensors and "
                "sdxl_models/image_encoder), e.g. --ip-adapter h94/IP-Adapter") from exc
        self.pipe.image_encoder.to(self.dtype)
        return True

    def _place(self, pipe) -> None:
        if self.plan.device == "cuda" and self.options.cpu_offload:
            pipe.enable_model_cpu_offload()
        else:
            pipe.to(self.plan.device)

    def _load_refiner(self, diffusers):
        if not self.options.refiner:
            return None
        folder = check_local(self.options.refiner, "sdxl_refiner")
        refiner = _load(diffusers.StableDiffusionXLImg2ImgPipeline, folder, self.options.offline,
                        "SDXL refiner", "--sdxl-refiner", self._variant(), dtype=self.dtype,
                        text_encoder_2=self.pipe.text_encoder_2, vae=self.pipe.vae)
        refiner.set_progress_bar_config(disable=True)
        self._place(refiner)
        return refiner

    def _load_safety_checker(self):
        """(checker, feature extractor), or None when off or, for the default model, not
        available here (SDXL ships none: pictures are then not checked, with a warning)."""
        options = self.options
        if not options.safety_checker:
            return None
        from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker
        from transformers import CLIPImageProcessor

        model = check_local(options.safety_checker_model, "safety_checker_model")
        try:
            checker = _load(StableDiffusionSafetyChecker, model, options.offline,
                            "safety checker", "--safety-checker-model", dtype=self.dtype)
            extractor = _load(CLIPImageProcessor, model, options.offline, "safety checker",
                              "--safety-checker-model")
        except DependencyError as exc:
            if is_local_path(model):
                raise
            log.warning("pictures are NOT safety-checked: %s (or --no-image-safety-checker "
                        "to silence this)", exc)
            return None
        return checker.to(self.plan.device), extractor

    # ---- drawing -------------------------------------------------------------------------

    def version(self) -> str:
        import diffusers

        safety = "checked" if self.safety else "unchecked"
        return (f"{VERSION} diffusers-{diffusers.__version__} {self.options.model} "
                f"{self.plan.dtype} {safety} opts-{self.options.output_digest()}")

    def generate(self, requests: list[ImageRequest], on_step: OnStep | None = None
                 ) -> list[bytes]:
        """One PNG per request, exactly its width x height; ``on_step(done, total)`` after
        every denoising step of every pipeline call."""
        progress = _Progress(on_step, self._steps_per_call())
        results: dict[int, bytes] = {}
        order = sorted(range(len(requests)), key=lambda i: self._group(requests[i]))
        batches = [list(g) for _, g in groupby(order, key=lambda i: self._group(requests[i]))]
        batches = [b[i:i + self.options.batch_size] for b in batches
                   for i in range(0, len(b), self.options.batch_size)]
        progress.expect(len(batches))
        for batch in batches:
            batch_requests = [requests[i] for i in batch]
            images = self._draw(batch_requests, [r.seed for r in batch_requests], progress)
            for index, request, image in zip(batch, batch_requests, images, strict=True):
                results[index] = self._finish(request, image, progress)
        return [results[i] for i in range(len(requests))]

    def _group(self, request: ImageRequest) -> tuple:
        """Requests drawn in one pipeline call share a size and (with an IP-Adapter) their
        reference portraits: diffusers gives every prompt of a call the same reference."""
        refs = tuple(hashlib.sha256(p).hexdigest() for p in _portraits(request))
        return (self.drawing_size(request), refs if self.ip_adapter else ())

    def drawing_size(self, request: ImageRequest) -> tuple[int, int]:
        if request.portrait_of:  # square; same rule as the recipe's portrait_side
            side = min(self.options.size)
            return (side, side) if side < 768 else (1024, 1024)
        width, height = self.options.size
        aspect = request.width / request.height
        if abs(width / height - aspect) <= 0.02 * width / height:
            return self.options.size
        # A rendition of another shape: drawn at that shape, not stretched into it (the
        # training size of that aspect, or the same area when a size was given).
        if (width, height) in SDXL_SIZES:
            return nearest_sdxl_size(request.width, request.height)
        area = width * height
        return (max(64, round((area * aspect) ** 0.5 / 8) * 8),
                max(64, round((area / aspect) ** 0.5 / 8) * 8))

    def _steps_per_call(self) -> int:
        return self.options.steps  # with a refiner, base and refiner share them

    def _finish(self, request: ImageRequest, image: Image.Image, progress: _Progress) -> bytes:
        """Safety check (drawing again with the next seeds), scale to size, encode."""
        seeds = try_seeds(request.seed)
        flagged = 0
        what = (f"the portrait of {request.portrait_of}" if request.portrait_of
                else f"scene {request.scene_number}")
        while self.safety is not None and self._flagged(image):
            flagged += 1
            log.warning("%s: the safety checker flagged seed %s; drawing again with %s",
                        what, seeds[flagged - 1],
                        seeds[flagged] if flagged < len(seeds) else "none left")
            if flagged == MAX_SAFETY_TRIES:
                raise RenderError(
                    f"{what}: the safety checker flagged all {MAX_SAFETY_TRIES} pictures "
                    f"(seeds {seeds[0]}..{seeds[-1]}): change the description or the seed",
                    stage="images")
            progress.expect(1)
            image = self._draw([request], [seeds[flagged]], progress)[0]
        image = self._to_size(request, image, seeds[flagged])
        info = PngImagePlugin.PngInfo()
        info.add_text("vidgen:seed", str(seeds[flagged]))
        info.add_text("vidgen:safety_flagged", str(flagged))
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", pnginfo=info, compress_level=6)
        return buffer.getvalue()

    def _to_size(self, request: ImageRequest, image: Image.Image, seed: int) -> Image.Image:
        size = (request.width, request.height)
        if self.upscaler is not None and (size[0] > image.width or size[1] > image.height):
            image = self.upscaler(image, self.prompt(request), seed)
        return fit_lanczos(image.convert("RGB"), size)[0]

    def prompt(self, request: ImageRequest) -> str:
        if request.portrait_of:
            look = next(x for x in request.looks if x.name == request.portrait_of)
            return portrait_prompt(look, self.options.style)
        return scene_prompt(request, self.options.style)

    def _draw(self, requests: list[ImageRequest], seeds: list[int], progress: _Progress
              ) -> list[Image.Image]:
        """One pipeline call (plus the refiner's) for requests of one size."""
        import torch

        options = self.options
        width, height = self.drawing_size(requests[0])
        self._slice_vae(max(width, height) >= TILE_FROM)
        kwargs = dict(
            prompt=[self.prompt(r) for r in requests],
            negative_prompt=[options.negative_prompt] * len(requests),
            width=width, height=height, num_inference_steps=options.steps,
            guidance_scale=options.guidance_scale,
            generator=[torch.Generator("cpu").manual_seed(s) for s in seeds],
            callback_on_step_end=progress.callback)
        with torch.inference_mode(), self._attention_context():
            kwargs.update(self._ip_adapter_kwargs(requests))
            if self.refiner is None:
                return self.pipe(**kwargs).images
            latents = self.pipe(**kwargs, denoising_end=options.refiner_start,
                                output_type="latent").images
            for key in ("width", "height", "ip_adapter_image_embeds"):
                kwargs.pop(key, None)
            return self.refiner(**kwargs, image=latents,
                                denoising_start=options.refiner_start).images

    def _slice_vae(self, on: bool) -> None:
        vae = self.pipe.vae
        if on:
            vae.enable_slicing()
            vae.enable_tiling()
        else:
            vae.disable_slicing()
            vae.disable_tiling()

    def _attention_context(self):
        import contextlib

        if self.options.attention != "flash":
            return contextlib.nullcontext()
        from torch.nn.attention import SDPBackend, sdpa_kernel

        return sdpa_kernel(SDPBackend.FLASH_ATTENTION)

    def _ip_adapter_kwargs(self, requests: list[ImageRequest]) -> dict:
        """The image embedding of the batch's portrait strip (one cast per call, see _group);
        a scene without characters gets a zero embedding at scale 0 (a loaded IP-Adapter
        always wants one)."""
        import torch

        if not self.ip_adapter:
            return {}
        strip = _reference_strip(_portraits(requests[0]))
        self.pipe.set_ip_adapter_scale(self.options.ip_adapter_scale if strip else 0.0)
        device = self.pipe._execution_device
        if strip is None:
            dim = self.pipe.image_encoder.config.projection_dim
            positive = torch.zeros(1, dim, device=device, dtype=self.dtype)
        else:
            positive = self.pipe.encode_image(strip, device, 1, False)[0]
        positive = positive[None]  # (1 reference, 1 image, dim): diffusers repeats it per prompt
        if self.options.guidance_scale > 1:
            positive = torch.cat([torch.zeros_like(positive), positive])
        return {"ip_adapter_image_embeds": [positive]}

    def _flagged(self, image: Image.Image) -> bool:
        import numpy as np

        checker, extractor = self.safety
        pixels = extractor([image], return_tensors="pt").pixel_values
        array = np.asarray(image.convert("RGB"), dtype=np.float32)[None] / 255
        _, flags = checker(images=array, clip_input=pixels.to(self.plan.device, self.dtype))
        return bool(flags[0])


def _portraits(request: ImageRequest) -> list[bytes]:
    if request.portrait_of:
        return []
    present = set(request.characters)
    return [look.portrait for look in request.looks if look.portrait and look.name in present]


def _reference_strip(portraits: list[bytes]) -> Image.Image | None:
    """The portraits of the characters present side by side: one reference image per scene,
    so a batch of scenes with different casts still makes one pipeline call."""
    if not portraits:
        return None
    side = REFERENCE_SIDE
    strip = Image.new("RGB", (side * len(portraits), side), (127, 127, 127))
    for n, png in enumerate(portraits):
        face = Image.open(io.BytesIO(png)).convert("RGB").resize((side, side), Image.LANCZOS)
        strip.paste(face, (n * side, 0))
    return strip


class _Progress:
    """Steps done out of steps expected, across every pipeline call of one generate()."""

    def __init__(self, on_step: OnStep | None, steps_per_call: int):
        self.on_step, self.per_call = on_step, steps_per_call
        self.done = self.total = 0

    def expect(self, calls: int) -> None:
        self.total += calls * self.per_call

    def callback(self, pipe, step: int, timestep, tensors: dict) -> dict:
        self.done += 1
        self.total = max(self.total, self.done)  # a refiner may round one step up
        if self.on_step is not None:
            self.on_step(self.done, self.total)
        return tensors


def create_sdxl_backend(settings) -> SdxlBackend:
    return SdxlBackend(SdxlOptions.from_settings(settings))
