# Why Stable Audio Open for beds (issue 21), as its authors, its model card and diffusers'
# docs report it; none of it measured here (written on a machine without a GPU, without
# torchsde and without the real weights):
# - what it makes: up to ~47 s of 44.1 kHz stereo from a text prompt, the length itself
#   conditioned (asked seconds, not a crop of a fixed clip); trained on ~486k Creative Commons
#   recordings (Freesound, Free Music Archive), so field recordings and textures (rain,
#   crowds, fire) are its strength; its card says music is weaker and voices and speech poor,
#   which suits beds under narration (the negative prompts keep voices out).
# - size: ~1.2B parameters (a 1.06B DiT, T5-base text encoder, a 156M Oobleck VAE): one
#   mid-size card in fp16; 100 steps with classifier-free guidance is two DiT passes a step.
# - licence: open weights in a gated repository (accept on Hugging Face first). Its card's
#   metadata names "stable-audio-nc-community"; Stability AI now offers its models under the
#   Stability AI Community License (free under $1M annual revenue, an enterprise licence
#   above). Not OSI-open: check the LICENSE of the revision deployed before commercial use.
# - its sampler (CosineDPMSolverMultistepScheduler, as diffusers loads the repository) draws
#   Brownian-tree noise from torchsde: without it the model does not load (DependencyError).
"""Music and ambience beds with diffusers' StableAudioPipeline, held resident in one worker.

Loads a model id through the Hugging Face cache, or a local folder saved with
save_pretrained; offline, nothing is fetched. On CUDA: fp16 (or bf16), optional model CPU
offload and torch.compile of the DiT. On a CPU: fp32, with a warning. ``make_bed`` checks
the request, samples one piece (the bed's length, or the model's longest past it) with a
generator on the model's device seeded from the request, and fits it to exactly the asked
samples at 48 kHz mono: resampled by FFmpeg, looped with crossfades (beds/fit.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from vidgen_ray.beds.base import NEGATIVE, BedRequest, check_request
from vidgen_ray.beds.fit import fit_bed
from vidgen_ray.config.backends.loading import (
    diffusion_modules,
    load_pretrained_pipeline,
    plan_diffusion_device,
    ready_pipeline,
)
from vidgen_ray.config.backends.stable_audio import DEFAULT_MODEL, StableAudioSettings
from vidgen_ray.errors import DependencyError, RenderError

VERSION = "stable-audio-1"
# Asked beyond the bed's length, so the piece resampled to 48 kHz still covers every sample
# (the pipeline cuts at int(seconds * 44100)); the extra is trimmed.
MARGIN_SECONDS = 0.1
OnStep = Callable[[int, int], None]


@dataclass(frozen=True)
class StableAudioOptions:
    """What a worker loads (StableAudioSettings.LOAD_FIELDS) and each bed's defaults."""

    model: str = DEFAULT_MODEL
    half_precision: bool | None = None  # None: yes on CUDA
    half_dtype: str = "fp16"
    cpu_offload: bool = False
    attention: str = "sdpa"
    compile: bool = False
    offline: bool = False
    steps: int = 100
    guidance_scale: float = 7.0
    negative_prompt: str | None = None  # None: NEGATIVE[kind]

    @classmethod
    def from_settings(cls, settings: StableAudioSettings) -> StableAudioOptions:
        s = settings
        return cls(model=s.stable_audio_model, half_precision=s.half_precision,
                   half_dtype=s.stable_audio_half_dtype, cpu_offload=s.cpu_offload,
                   attention=s.attention, compile=s.compile, offline=s.offline,
                   steps=s.stable_audio_steps, guidance_scale=s.stable_audio_guidance_scale,
                   negative_prompt=s.stable_audio_negative_prompt)


def plan_device(options: StableAudioOptions, cuda: bool) -> tuple[str, str]:
    return plan_diffusion_device(options, cuda, "Stable Audio Open",
                                 "minutes per bed; or keep the procedural beds")


def _modules():
    return diffusion_modules("Stable Audio Open")


def load_pipeline(loader, options: StableAudioOptions, dtype):
    """``loader.from_pretrained`` (StableAudioPipeline), from a folder or the cache, or an
    error naming the library its sampler needs."""
    try:
        return load_pretrained_pipeline(
            loader, options.model, offline=options.offline, dtype=dtype,
            what="Stable Audio Open", field="stable_audio_model",
            fetch_hint="its licence must be accepted on Hugging Face (a gated repository: "
                       "HF_TOKEN)")
    except ImportError as exc:  # diffusers' stand-in for a scheduler whose library is absent
        if "torchsde" in str(exc):
            raise DependencyError(
                "Stable Audio Open's sampler (CosineDPMSolverMultistepScheduler) needs "
                "torchsde, which is not installed: pip install 'vidgen-ray[models]' (or pip "
                "install torchsde)") from exc
        raise DependencyError(f"Stable Audio Open {options.model!r} needs a library that is "
                              f"not installed ({' '.join(str(exc).split())}): pip install "
                              "'vidgen-ray[models]'") from exc

class StableAudioBackend:
    name = "stable_audio"

    def __init__(self, options: StableAudioOptions, cuda: bool | None = None, pipeline=None):
        """``pipeline``: an already built StableAudioPipeline (benchmarks); normally None,
        and the model named in the options is loaded, once."""
        torch, diffusers = _modules()
        self.options = options
        self.device, dtype_name = plan_device(
            options, torch.cuda.is_available() if cuda is None else cuda)
        self.dtype_name = dtype_name
        self.pipe = pipeline or load_pipeline(diffusers.StableAudioPipeline, options,
                                              getattr(torch, dtype_name))
        ready_pipeline(self.pipe, self.device, options)

    @property
    def rate(self) -> int:
        """The model's own sample rate (44.1 kHz for Stable Audio Open)."""
        return int(self.pipe.vae.config.sampling_rate)

    @property
    def max_seconds(self) -> float:
        """The longest piece one call makes: the DiT's latents times the VAE's hop (~47.55 s
        for Stable Audio Open 1.0); longer beds loop it."""
        return self.pipe.transformer.config.sample_size * self.pipe.vae.hop_length / self.rate

    def version(self) -> str:
        import diffusers

        return (f"{VERSION} diffusers-{diffusers.__version__} {self.options.model} "
                f"{self.dtype_name}")

    def make_bed(self, request: BedRequest, on_step: OnStep | None = None) -> bytes:
        """A 16-bit mono WAV at 48 kHz of exactly ``request.samples`` samples;
        ``on_step(done, total)`` after every denoising step."""
        check_request(request)
        piece_seconds = min(self.max_seconds, request.seconds + MARGIN_SECONDS)
        audio = self._sample(request, piece_seconds, on_step)
        if audio.ndim != 2 or audio.shape[1] != int(piece_seconds * self.rate):
            raise RenderError(f"Stable Audio returned audio {audio.shape}, not (channels, "
                              f"{int(piece_seconds * self.rate)}): check the model "
                              f"{self.options.model!r}", stage="beds")
        return fit_bed(audio, self.rate, request.samples)

    def _sample(self, request: BedRequest, seconds: float, on_step: OnStep | None):
        """One piece of ``seconds``: float32 (channels, samples) at the model's rate."""
        import numpy as np
        import torch

        o = self.options
        steps = request.steps or o.steps
        guidance = o.guidance_scale if request.guidance_scale is None else request.guidance_scale
        negative = next(text for text in (request.negative_prompt, o.negative_prompt,
                                          NEGATIVE[request.kind]) if text is not None)

        def callback(step, timestep, latents):
            if on_step is not None:
                on_step(step + 1, steps)

        with torch.inference_mode(), self._attention_context():
            audio = self.pipe(
                prompt=request.prompt, negative_prompt=negative or None,
                audio_end_in_s=seconds, num_inference_steps=steps, guidance_scale=guidance,
                generator=torch.Generator(self.device).manual_seed(request.seed),
                output_type="np", callback=callback, callback_steps=1).audios[0]
        return np.asarray(audio, dtype=np.float32)

    def _attention_context(self):
        if self.options.attention != "flash":
            return contextlib.nullcontext()
        from torch.nn.attention import SDPBackend, sdpa_kernel

        return sdpa_kernel(SDPBackend.FLASH_ATTENTION)


def create_stable_audio_backend(settings: StableAudioSettings | None = None
                                ) -> StableAudioBackend:
    return StableAudioBackend(StableAudioOptions.from_settings(settings or StableAudioSettings()))
