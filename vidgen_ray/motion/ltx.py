# Why LTX-Video for moving shots (issue 21), as its authors and diffusers' docs report it;
# none of it measured here (written on a machine without a GPU or the real weights):
# - speed: a DiT over a VAE that compresses 32x32 pixels x 8 frames into one latent
#   (1:192), so a 5 s 768x512 clip is a short token sequence; its authors report 24 fps
#   768x512 clips made faster than they play, on an H100. Distilled checkpoints (0.9.7+)
#   sample in ~8 steps with guidance 1 (one transformer call per step instead of two);
#   diffusers documents those with LTXConditionPipeline and its own timesteps, so the
#   default here is the 2B base model and its 40 steps until a distilled one is tried.
# - memory: 2B parameters; diffusers' docs run it in ~10 GB of VRAM with fp8 layerwise
#   casting and offloading; in bf16 it fits our 24-80 GB cards with room to spare.
# - licence: open weights, but under Lightricks' own licences (OpenRAIL-M style for 0.9.x,
#   with use restrictions), not OSI-open: check the model card of the checkpoint deployed.
# - quality: image-to-video keeps the first frame (the scene's SDXL picture) and animates
#   from it; its authors show good short camera moves and weather, weaker hands, faces and
#   long complex action. Our clips are short and fitted to scenes (pipeline/clip_fit.py).
"""Moving shots with diffusers' LTXImageToVideoPipeline, held resident in one worker.

Loads a model id through the Hugging Face cache, or a local folder saved with
save_pretrained; offline, nothing is fetched. On CUDA: bf16 (or fp16), optional VAE tiling,
model CPU offload and torch.compile of the transformer. On a CPU: fp32, with a warning.
``make_clip`` checks the request against the loaded model's latent grid, fits the picture
to the clip's size (centred), samples with a generator on the model's device seeded from
the request (the same seed on the same kind of device gives the same clip; a timestep-aware
VAE draws its decode noise on that device, where a CPU generator would fail on CUDA) and
encodes the frames to MP4 with FFmpeg (motion/encode.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from vidgen_ray.config.backends.loading import (
    diffusion_modules,
    load_pretrained_pipeline,
    plan_diffusion_device,
    ready_pipeline,
)
from vidgen_ray.config.backends.ltx import DEFAULT_MODEL, LtxSettings
from vidgen_ray.errors import RenderError
from vidgen_ray.motion.base import ClipRequest, check_request, fit_picture, latent_grid
from vidgen_ray.motion.encode import encode_mp4

VERSION = "ltx-1"
PROMPT_TOKENS = 128  # the pipeline's T5 window (max_sequence_length); longer prompts are cut
OnStep = Callable[[int, int], None]


@dataclass(frozen=True)
class LtxOptions:
    """What a worker loads (LtxSettings.LOAD_FIELDS) and each clip's defaults."""

    model: str = DEFAULT_MODEL
    half_precision: bool | None = None  # None: yes on CUDA
    half_dtype: str = "bf16"
    cpu_offload: bool = False
    attention: str = "sdpa"
    compile: bool = False
    vae_tiling: bool = False
    offline: bool = False
    steps: int = 40
    guidance_scale: float = 3.0
    fps: int = 24
    decode_timestep: float = 0.05
    decode_noise_scale: float = 0.025
    negative_prompt: str = ""

    @classmethod
    def from_settings(cls, settings: LtxSettings) -> LtxOptions:
        s = settings
        return cls(model=s.ltx_model, half_precision=s.half_precision,
                   half_dtype=s.ltx_half_dtype, cpu_offload=s.cpu_offload,
                   attention=s.attention, compile=s.compile, vae_tiling=s.ltx_vae_tiling,
                   offline=s.offline, steps=s.ltx_steps, guidance_scale=s.ltx_guidance_scale,
                   fps=s.ltx_fps, decode_timestep=s.ltx_decode_timestep,
                   decode_noise_scale=s.ltx_decode_noise_scale,
                   negative_prompt=s.ltx_negative_prompt)


def plan_device(options: LtxOptions, cuda: bool) -> tuple[str, str]:
    return plan_diffusion_device(options, cuda, "LTX-Video", "many minutes per 5 s clip")


def _modules():
    return diffusion_modules("LTX-Video")


def load_pipeline(loader, options: LtxOptions, dtype):
    """``loader.from_pretrained`` (LTXImageToVideoPipeline), from a folder or the cache."""
    return load_pretrained_pipeline(loader, options.model, offline=options.offline,
                                    dtype=dtype, what="LTX-Video", field="ltx_model")


class LtxBackend:
    name = "ltx"

    def __init__(self, options: LtxOptions, cuda: bool | None = None, pipeline=None):
        """``pipeline``: an already built LTXImageToVideoPipeline (benchmarks); normally
        None, and the model named in the options is loaded, once."""
        torch, diffusers = _modules()
        self.options = options
        self.device, dtype_name = plan_device(
            options, torch.cuda.is_available() if cuda is None else cuda)
        self.dtype_name = dtype_name
        self.pipe = pipeline or load_pipeline(diffusers.LTXImageToVideoPipeline, options,
                                              getattr(torch, dtype_name))
        ready_pipeline(self.pipe, self.device, options, vae_tiling=options.vae_tiling)

    # ---- the model's grid ----------------------------------------------------------------

    @property
    def size_multiple(self) -> int:
        return latent_grid(self.pipe)[0]

    @property
    def frame_step(self) -> int:
        return latent_grid(self.pipe)[1]

    def version(self) -> str:
        import diffusers

        return f"{VERSION} diffusers-{diffusers.__version__} {self.options.model} {self.dtype_name}"

    # ---- making a clip -------------------------------------------------------------------

    def make_clip(self, request: ClipRequest, on_step: OnStep | None = None) -> bytes:
        """An MP4 of exactly ``request.frames`` frames of width x height at its fps (else
        the model's native rate); ``on_step(done, total)`` after every denoising step."""
        check_request(request, size_multiple=self.size_multiple, frame_step=self.frame_step)
        frames = self._sample(request, on_step)
        expected = (request.frames, request.height, request.width, 3)
        if frames.shape != expected:  # a model whose grid this backend misread
            raise RenderError(f"LTX-Video returned frames {frames.shape}, not {expected}: "
                              f"check the model {self.options.model!r}", stage="motion")
        return encode_mp4(frames, request.fps or self.options.fps)

    def _sample(self, request: ClipRequest, on_step: OnStep | None):
        """The pipeline's frames as uint8 (frames, height, width, 3)."""
        import numpy as np
        import torch

        o = self.options
        steps = request.steps or o.steps
        guidance = o.guidance_scale if request.guidance_scale is None else request.guidance_scale
        negative = o.negative_prompt if request.negative_prompt is None else request.negative_prompt

        def callback(pipe, step, timestep, tensors):
            if on_step is not None:
                on_step(step + 1, steps)
            return tensors

        with torch.inference_mode(), self._attention_context():
            video = self.pipe(
                image=fit_picture(request.picture, request.width, request.height),
                prompt=request.prompt, negative_prompt=negative or None,
                width=request.width, height=request.height, num_frames=request.frames,
                frame_rate=request.fps or o.fps, num_inference_steps=steps,
                guidance_scale=guidance, decode_timestep=_given(request.decode_timestep,
                                                                 o.decode_timestep),
                decode_noise_scale=_given(request.decode_noise_scale, o.decode_noise_scale),
                generator=torch.Generator(self.device).manual_seed(request.seed),
                max_sequence_length=PROMPT_TOKENS, output_type="np",
                callback_on_step_end=callback).frames[0]
        return np.clip(np.rint(np.asarray(video, dtype=np.float32) * 255), 0, 255
                       ).astype(np.uint8)

    def _attention_context(self):
        if self.options.attention != "flash":
            return contextlib.nullcontext()
        from torch.nn.attention import SDPBackend, sdpa_kernel

        return sdpa_kernel(SDPBackend.FLASH_ATTENTION)


def _given(value, default):
    return default if value is None else value


def create_ltx_backend(settings: LtxSettings | None = None) -> LtxBackend:
    return LtxBackend(LtxOptions.from_settings(settings or LtxSettings()))
