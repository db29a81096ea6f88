"""SDXL pictures with diffusers' StableDiffusionXLPipeline, held resident in one worker.

Loads a model id through the Hugging Face cache, or a local folder; offline, nothing is
fetched. On CUDA: fp16 (or bf16), SDPA attention, VAE slicing+tiling for drawings of 2K and
above, optional model CPU offload, torch.compile of the UNet, refiner and IP-Adapter. On a
CPU: fp32, with a warning. The worker holds what is loaded (the options); what each picture
asks (drawing size, steps, guidance, style, negative prompt) comes with its request
(``ImageRequest.sampling``), so one worker serves every job's shapes. Each call groups its
requests into as few pipeline calls as their values and the batch size allow; prompts are
fitted to the text encoders' window (images/prompts.py); characters keep their looks through
fixed words, seeds and (with an IP-Adapter) their portraits. A picture the safety checker
flags is drawn again with the next seed; the PNG records the seed used, how many were
flagged and the drawing size (``vidgen:*`` text chunks).
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Callable

from PIL import Image, PngImagePlugin

from vidgen_ray.config.environment import hub_offline
from vidgen_ray.errors import RenderError
from vidgen_ray.images.base import ImageRequest, Sampling
from vidgen_ray.images.prompts import MAX_SAFETY_TRIES, portrait_prompt, scene_prompt, try_seeds
from vidgen_ray.images.sdxl_fast import apply_fast_path
from vidgen_ray.images.sdxl_loading import (
    SCHEDULERS,
    load_ip_adapter,
    load_refiner,
    load_safety_checker,
)
from vidgen_ray.images.sdxl_loading import load_pretrained as _load
from vidgen_ray.images.sdxl_loading import modules as _modules
from vidgen_ray.images.sdxl_options import (
    DevicePlan,
    SdxlOptions,
    check_local,
    is_local_path,
    plan_device,
)
from vidgen_ray.images.sdxl_sampling import call_group, default_sampling, pipeline_calls
from vidgen_ray.images.upscale import X4Upscaler, fit_lanczos

log = logging.getLogger(__name__)
# 2: prompts fitted to the text encoders' window (images/prompts.py), so pictures of long
# scenes differ from those of sdxl-1 (whose style words were cut off).
VERSION = "sdxl-2"
TILE_FROM = 2048  # decode drawings this wide or wider in VAE slices and tiles
REFERENCE_SIDE = 224  # each portrait in a scene's IP-Adapter reference strip
OnStep = Callable[[int, int], None]


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
        with hub_offline(options.offline):  # few-step LoRA and its sampler
            self.fast = apply_fast_path(self.pipe, options, diffusers)
        self._set_attention()
        self.ip_adapter = self._load_ip_adapter()
        self._place(self.pipe)
        self.refiner = self._load_refiner(diffusers)
        self.safety = self._load_safety_checker()
        self.upscaler = self._load_upscaler()
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
        return load_ip_adapter(self.pipe, self.options, self.dtype)

    def _place(self, pipe) -> None:
        if self.plan.device == "cuda" and self.options.cpu_offload:
            pipe.enable_model_cpu_offload()
        else:
            pipe.to(self.plan.device)

    def _load_refiner(self, diffusers):
        refiner = load_refiner(diffusers, self.pipe, self.options, self.dtype, self._variant())
        if refiner is not None:
            self._place(refiner)
        return refiner

    def _load_safety_checker(self):
        return load_safety_checker(self.options, self.dtype, self.plan.device)

    def _load_upscaler(self) -> X4Upscaler | None:
        upscaler = self.options.upscaler
        if upscaler == "lanczos":
            return None
        folder = check_local(upscaler, "upscaler")
        with hub_offline(self.options.offline):
            return X4Upscaler(folder, self.plan.device, self.dtype,
                              self.options.offline or is_local_path(upscaler))

    # ---- drawing -------------------------------------------------------------------------

    def version(self) -> str:
        """What this worker loaded. A picture's content key adds the job's drawing options
        (sdxl_sampling.key_version): they travel with the requests, not with the worker."""
        import diffusers

        safety = "checked" if self.safety else "unchecked"
        return (f"{VERSION} diffusers-{diffusers.__version__} {self.options.model} "
                f"{self.plan.dtype} {safety}")

    def generate(self, requests: list[ImageRequest], on_step: OnStep | None = None
                 ) -> list[bytes]:
        """One PNG per request, exactly its width x height; ``on_step(done, total)`` after
        every denoising step of every pipeline call. Requests that can share a pipeline call
        (_group) are drawn together, up to the batch size, each at its own drawing size."""
        progress = _Progress(on_step)
        results: dict[int, bytes] = {}
        batches = self.batches(requests)
        for batch in batches:
            progress.expect(1, self.sampling(requests[batch[0]]).steps)
        for batch in batches:
            batch_requests = [requests[i] for i in batch]
            images = self._draw(batch_requests, [r.seed for r in batch_requests], progress)
            for index, request, image in zip(batch, batch_requests, images, strict=True):
                results[index] = self._finish(request, image, progress)
        return [results[i] for i in range(len(requests))]

    def batches(self, requests: list[ImageRequest]) -> list[list[int]]:
        """The requests' indexes, one list per pipeline call (sdxl_sampling.pipeline_calls)."""
        return pipeline_calls([self._group(r) for r in requests], self.options.batch_size)

    def _group(self, request: ImageRequest) -> tuple:
        """Requests drawn in one pipeline call share a size, steps, guidance (call_group)
        and (with an IP-Adapter) their reference portraits: diffusers gives every prompt of a
        call the same reference."""
        refs = tuple(hashlib.sha256(p).hexdigest() for p in _portraits(request))
        return (call_group(self.sampling(request)), refs if self.ip_adapter else ())

    @staticmethod
    def sampling(request: ImageRequest) -> Sampling:
        """How the request is drawn: what it carries, else the quality defaults."""
        return request.sampling or default_sampling(request)

    def drawing_size(self, request: ImageRequest) -> tuple[int, int]:
        sampling = self.sampling(request)
        return sampling.width, sampling.height

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
            progress.expect(1, self.sampling(request).steps)
            image = self._draw([request], [seeds[flagged]], progress)[0]
        drawn = f"{image.width}x{image.height}"
        image = self._to_size(request, image, seeds[flagged])
        info = PngImagePlugin.PngInfo()
        info.add_text("vidgen:seed", str(seeds[flagged]))
        info.add_text("vidgen:safety_flagged", str(flagged))
        info.add_text("vidgen:drawn", drawn)  # the drawing size, before fitting to the video
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", pnginfo=info, compress_level=6)
        return buffer.getvalue()

    def _to_size(self, request: ImageRequest, image: Image.Image, seed: int) -> Image.Image:
        size = (request.width, request.height)
        if self.upscaler is not None and (size[0] > image.width or size[1] > image.height):
            image = self.upscaler(image, self.prompt(request), seed)
        return fit_lanczos(image.convert("RGB"), size)[0]

    def prompt(self, request: ImageRequest) -> str:
        style = self.sampling(request).style
        if request.portrait_of:
            look = next(x for x in request.looks if x.name == request.portrait_of)
            return portrait_prompt(look, style, self._fits)
        return scene_prompt(request, style, self._fits)

    def _fits(self, prompt: str) -> bool:
        """Whether both text encoders see all of ``prompt`` (their tokenizers' window)."""
        return all(len(tokenizer(prompt, verbose=False).input_ids) <= tokenizer.model_max_length
                   for tokenizer in (self.pipe.tokenizer, self.pipe.tokenizer_2)
                   if tokenizer is not None)

    def _draw(self, requests: list[ImageRequest], seeds: list[int], progress: _Progress
              ) -> list[Image.Image]:
        """One pipeline call (plus the refiner's) for requests of one group (_group)."""
        import torch

        sampling = self.sampling(requests[0])
        width, height = sampling.width, sampling.height
        self._slice_vae(max(width, height) >= TILE_FROM)
        kwargs = dict(
            prompt=[self.prompt(r) for r in requests],
            negative_prompt=[self.sampling(r).negative_prompt for r in requests],
            width=width, height=height, num_inference_steps=sampling.steps,
            guidance_scale=sampling.guidance_scale,
            generator=[torch.Generator("cpu").manual_seed(s) for s in seeds],
            callback_on_step_end=progress.callback)
        with torch.inference_mode(), self._attention_context():
            kwargs.update(self._ip_adapter_kwargs(requests, sampling))
            if self.refiner is None:
                return self.pipe(**kwargs).images
            latents = self.pipe(**kwargs, denoising_end=sampling.refiner_start,
                                output_type="latent").images
            for key in ("width", "height", "ip_adapter_image_embeds"):
                kwargs.pop(key, None)
            return self.refiner(**kwargs, image=latents,
                                denoising_start=sampling.refiner_start).images

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

    def _ip_adapter_kwargs(self, requests: list[ImageRequest], sampling: Sampling) -> dict:
        """The image embedding of the batch's portrait strip (one cast per call, see _group);
        a scene without characters gets a zero embedding at scale 0 (a loaded IP-Adapter
        always wants one)."""
        import torch

        if not self.ip_adapter:
            return {}
        strip = _reference_strip(_portraits(requests[0]))
        self.pipe.set_ip_adapter_scale(sampling.ip_adapter_scale if strip else 0.0)
        device = self.pipe._execution_device
        if strip is None:
            dim = self.pipe.image_encoder.config.projection_dim
            positive = torch.zeros(1, dim, device=device, dtype=self.dtype)
        else:
            positive = self.pipe.encode_image(strip, device, 1, False)[0]
        positive = positive[None]  # (1 reference, 1 image, dim): diffusers repeats it per prompt
        if sampling.guidance_scale > 1:
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

    def __init__(self, on_step: OnStep | None):
        self.on_step = on_step
        self.done = self.total = 0

    def expect(self, calls: int, steps: int) -> None:
        """``calls`` more pipeline calls of ``steps`` each (with a refiner, base and refiner
        share them)."""
        self.total += calls * steps

    def callback(self, pipe, step: int, timestep, tensors: dict) -> dict:
        self.done += 1
        self.total = max(self.total, self.done)  # a refiner may round one step up
        if self.on_step is not None:
            self.on_step(self.done, self.total)
        return tensors


def create_sdxl_backend(settings) -> SdxlBackend:
    return SdxlBackend(SdxlOptions.from_settings(settings))
