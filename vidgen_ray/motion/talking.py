# Why LTX-2 for talking shots (issue 21), as its authors and diffusers' code describe it;
# none of it measured here (written on a machine without a GPU or the real weights, tested
# only on a tiny random-weight pipeline, whose frames are noise):
# - it is one model of video and audio together: a DiT with a video stream and an audio
#   stream that attend to each other in every layer. Holding the audio stream clean (at
#   noise level 0) while the video is denoised makes the video follow that audio: the
#   "audio-to-video" mode Lightricks point to for lip sync (ltx-pipelines' a2vid). In
#   diffusers 0.42 that is LTX2DFRPipeline's ``freeze_audio=True``, with the portrait as the
#   first frame's condition; LTX2ImageToVideoPipeline takes ``audio_latents`` too, but noises
#   them with the video and denoises them again, so the speech is not kept.
# - users report that clean TTS speech can leave the face still (LTX-2.3/2.5 issue threads);
#   the prompt should say the person speaks. Whether espeak-ng or Bark lines move the lips
#   well is unmeasured.
# - licence: open weights under the LTX-2 Community License (Lightricks' own: free below a
#   revenue threshold, use restrictions), not OSI-open: check the model card deployed.
# - size: ~19-22B parameters; bf16 needs a large card (an H100's 80 GB) or offloading.
# - schedule: one DFR pass on diffusers' distilled sigmas without guidance, so the model
#   must be a distilled checkpoint; that diffusers/LTX-2.3-Distilled-Diffusers loads into
#   LTX2DFRPipeline (it is published for LTX2Pipeline, same components) is unverified.
"""Talking shots: a character's cast portrait animated from its line's own speech, with
diffusers' LTX2DFRPipeline, held resident in one worker.

The speech WAV is resampled to the audio VAE's rate (stereo, FFmpeg), padded with silence to
the clip's length, turned into the log-mel spectrogram LTX-2's audio VAE reads and encoded
to audio latents; the pipeline denoises the video with those latents frozen. The clip has
ceil(duration * fps) frames (sampled on the model's 8k+1 grid, then trimmed back), starts
with the portrait and carries NO audio: the final mix keeps the original speech, laid from
the clip's first frame, so picture and sound line up by frame count from time 0 (what the
video heard is the same line, not the vocoder's rebuild of it).
"""

from __future__ import annotations

import io
import math
import wave
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from vidgen_ray.config.backends.loading import (
    diffusion_modules,
    load_pretrained_pipeline,
    plan_diffusion_device,
    ready_pipeline,
)
from vidgen_ray.config.backends.ltx2 import DEFAULT_MODEL, MAX_SECONDS, Ltx2Settings
from vidgen_ray.errors import DependencyError, MediaError, RenderError, SettingsError
from vidgen_ray.motion.base import MAX_SEED, check_clip_shape, fit_picture, latent_grid
from vidgen_ray.motion.encode import encode_mp4
from vidgen_ray.programs import run_tool

VERSION = "ltx2-talk-1"
PROMPT_TOKENS = 256  # the Gemma prompt window (max_sequence_length); longer prompts are cut
N_FFT = 1024  # the STFT LTX-2's audio VAE was trained on (ltx-core's AudioProcessor)
LOG_FLOOR = 1e-5  # log(max(mel, floor)), as that processor does
OnStep = Callable[[int, int], None]


@dataclass(frozen=True)
class TalkingRequest:
    """One talking clip. ``portrait``: PNG or JPEG of any size, scaled and cropped, centred,
    to width x height. ``speech``: the line's WAV (16-bit PCM, mono or stereo, any rate).
    ``fps`` None: the backend's (config/backends/ltx2.py)."""

    portrait: bytes
    speech: bytes
    prompt: str  # "a woman speaks calmly to the camera, her lips moving with her words"
    seed: int = 0
    width: int = 768
    height: int = 512
    fps: int | None = None


@dataclass(frozen=True)
class TalkingOptions:
    """What a worker loads (Ltx2Settings.LOAD_FIELDS) and each clip's defaults."""

    model: str = DEFAULT_MODEL
    half_precision: bool | None = None
    half_dtype: str = "bf16"
    cpu_offload: bool = False
    attention: str = "sdpa"
    compile: bool = False
    vae_tiling: bool = False
    cross_timestep: bool = True
    offline: bool = False
    fps: int = 24
    sigmas: tuple[float, ...] | None = None  # None: diffusers' distilled schedule
    image_crf: int = 33
    max_seconds: float = MAX_SECONDS

    @classmethod
    def from_settings(cls, settings: Ltx2Settings) -> TalkingOptions:
        s = settings
        return cls(model=s.ltx2_model, half_precision=s.half_precision,
                   half_dtype=s.ltx2_half_dtype, cpu_offload=s.cpu_offload,
                   attention=s.attention, compile=s.compile, vae_tiling=s.ltx2_vae_tiling,
                   cross_timestep=s.ltx2_cross_timestep, offline=s.offline, fps=s.ltx2_fps,
                   sigmas=s.ltx2_sigmas, image_crf=s.ltx2_image_crf,
                   max_seconds=s.ltx2_max_seconds)


# ---- pure: the speech and the clip's length ------------------------------------------------


@dataclass(frozen=True)
class SpeechPcm:
    """A WAV's samples as they came: int16, interleaved; ``frames`` per channel."""

    pcm: bytes
    rate: int
    channels: int
    frames: int

    @property
    def seconds(self) -> float:
        return self.frames / self.rate


def read_speech(data: bytes) -> SpeechPcm:
    """The WAV's PCM, or a MediaError that says what WAV is wanted."""
    try:
        with wave.open(io.BytesIO(data), "rb") as wav:
            width, channels, rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
            frames = wav.getnframes()
            pcm = wav.readframes(frames)
    except (wave.Error, EOFError) as exc:
        raise MediaError(f"the line's speech is not a readable WAV ({exc}): give 16-bit PCM "
                         "WAV bytes", public="the line's speech cannot be read") from None
    if width != 2 or channels not in (1, 2):
        raise MediaError(f"the line's speech is {8 * width}-bit with {channels} channels: "
                         "give 16-bit PCM, mono or stereo (what the speech backends write)",
                         public="the line's speech is not 16-bit mono or stereo")
    frames = len(pcm) // (width * channels)  # a header may promise more than is there
    if frames == 0:
        raise MediaError("the line's speech is empty (no samples): a talking shot needs the "
                         "line spoken", public="the line's speech is empty")
    return SpeechPcm(pcm[:frames * width * channels], rate, channels, frames)


def talking_frames(speech: SpeechPcm, fps: int) -> int:
    """ceil(duration * fps), in integers (no float edge at whole frames): every sample of
    the line falls inside a frame of the clip."""
    return -(-speech.frames * fps // speech.rate)


def grid_frames(frames: int, frame_step: int) -> int:
    """The model's length for ``frames``: frame_step*k+1 with k >= 1 (a pipeline needs one
    whole latent frame after the first), the smallest that holds them."""
    return max(1, math.ceil((frames - 1) / frame_step)) * frame_step + 1


def resample_args(speech: SpeechPcm, rate: int, samples: int) -> list[str]:
    """ffmpeg arguments: the speech's int16 PCM on stdin to ``samples`` stereo float32
    samples at ``rate`` on stdout, padded with silence (a mono line on both channels: the
    audio VAE is stereo)."""
    return ["-hide_banner", "-nostdin", "-v", "error",
            "-f", "s16le", "-ar", str(speech.rate), "-ac", str(speech.channels), "-i", "-",
            "-af", f"aresample={rate},apad=whole_len={samples}", "-ac", "2",
            "-t", f"{samples / rate:.6f}", "-f", "f32le", "-c:a", "pcm_f32le", "-"]


def recompress_args(width: int, height: int, crf: int) -> list[str]:
    """ffmpeg arguments: one RGB frame on stdin to an H.264 stream at ``crf`` on stdout (the
    compression LTX-2 saw on first frames in training)."""
    return ["-hide_banner", "-nostdin", "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
            "-s", f"{width}x{height}", "-i", "-", "-frames:v", "1", "-c:v", "libx264",
            "-preset", "veryfast", "-crf", str(crf), "-pix_fmt", "yuv420p", "-threads", "1",
            "-f", "h264", "-"]


def check_talking_request(request: TalkingRequest, speech: SpeechPcm, fps: int,
                          max_seconds: float, *, size_multiple: int) -> None:
    """Everything about a request that is wrong before any model runs."""
    # frames=1 is always a good count: this checks the sides; the count follows the speech
    check_clip_shape(request.width, request.height, 1, size_multiple=size_multiple)
    if not request.prompt.strip():
        raise SettingsError("the talking prompt is empty: describe who speaks and how, e.g. "
                            "'a woman speaks calmly to the camera'", field="prompt")
    if not 0 <= request.seed <= MAX_SEED:
        raise SettingsError(f"seed {request.seed} is outside 0..{MAX_SEED}: pick a seed in "
                            "that range", field="seed")
    if not 1 <= fps <= 60:
        raise SettingsError(f"talking clip fps {fps} is outside 1..60: use 24 or 25 (leave "
                            "it empty for the backend's)", field="fps")
    if speech.seconds > max_seconds:
        raise MediaError(f"the line's speech lasts {speech.seconds:.2f} s, over the "
                         f"{max_seconds:g} s a talking clip is made for: split the line",
                         public="the line is too long for a talking shot")


# ---- the audio VAE's input ------------------------------------------------------------------


def log_mel(torch, stereo, rate: int, mel_bins: int, hop: int):
    """(1, 2, time, mel_bins) log-mel of a (2, samples) float tensor: magnitude STFT (Hann,
    N_FFT, centred, reflect), Slaney mel filters up to rate/2, log with a floor."""
    from transformers.audio_utils import mel_filter_bank

    spectrum = torch.stft(stereo, N_FFT, hop_length=hop, win_length=N_FFT,
                          window=torch.hann_window(N_FFT), center=True, pad_mode="reflect",
                          return_complex=True).abs()  # (2, N_FFT/2+1, time)
    filters = torch.from_numpy(mel_filter_bank(
        num_frequency_bins=N_FFT // 2 + 1, num_mel_filters=mel_bins, min_frequency=0.0,
        max_frequency=rate / 2, sampling_rate=rate, norm="slaney", mel_scale="slaney"
    )).to(spectrum.dtype)  # (freq, mel)
    mel = torch.einsum("cft,fm->ctm", spectrum, filters)
    return torch.log(mel.clamp(min=LOG_FLOOR)).unsqueeze(0)


def load_pipeline(options: TalkingOptions, dtype):
    """LTX2DFRPipeline.from_pretrained, from a folder or the cache."""
    _, diffusers = diffusion_modules("Talking shots (LTX-2)")
    return load_pretrained_pipeline(diffusers.LTX2DFRPipeline, options.model,
                                    offline=options.offline, dtype=dtype, what="LTX-2",
                                    field="ltx2_model")

class TalkingBackend:
    name = "ltx2-talking"

    def __init__(self, options: TalkingOptions, cuda: bool | None = None, pipeline=None):
        """``pipeline``: an already built LTX2DFRPipeline (benchmarks); normally None, and
        the model named in the options is loaded, once."""
        try:
            import torch
        except ImportError:
            raise DependencyError("talking shots need torch and diffusers: pip install "
                                  "'vidgen-ray[models]'") from None
        self.options = options
        self.device, self.dtype_name = plan_diffusion_device(
            options, torch.cuda.is_available() if cuda is None else cuda, "LTX-2",
            "many minutes per line")
        self.pipe = pipeline or load_pipeline(options, getattr(torch, self.dtype_name))
        ready_pipeline(self.pipe, self.device, options, vae_tiling=options.vae_tiling)

    @property
    def size_multiple(self) -> int:
        return latent_grid(self.pipe)[0]

    @property
    def frame_step(self) -> int:
        return latent_grid(self.pipe)[1]

    def version(self) -> str:
        import diffusers

        return (f"{VERSION} diffusers-{diffusers.__version__} {self.options.model} "
                f"{self.dtype_name} crf{self.options.image_crf}")

    def frames_for(self, request: TalkingRequest) -> int:
        """How many frames the clip for this request has (its speech at its fps)."""
        return talking_frames(read_speech(request.speech), request.fps or self.options.fps)

    def make_clip(self, request: TalkingRequest, on_step: OnStep | None = None) -> bytes:
        """An MP4 (H.264, yuv420p, no audio) of exactly frames_for(request) frames of
        width x height at the request's fps, the portrait's face moved by its speech;
        ``on_step(done, total)`` after every denoising step."""
        fps = request.fps or self.options.fps
        speech = read_speech(request.speech)
        check_talking_request(request, speech, fps, self.options.max_seconds,
                              size_multiple=self.size_multiple)
        frames = talking_frames(speech, fps)
        video = self._sample(request, speech, fps, grid_frames(frames, self.frame_step),
                             on_step)[:frames]
        expected = (frames, request.height, request.width, 3)
        if video.shape != expected:  # a model whose grid this backend misread
            raise RenderError(f"LTX-2 returned frames {video.shape}, not {expected}: check "
                              f"the model {self.options.model!r}", stage="motion")
        return encode_mp4(video, fps)

    # ---- the model's inputs --------------------------------------------------------------

    def _portrait(self, request: TalkingRequest):
        """The portrait fitted to the clip, re-compressed as the model saw first frames."""
        from PIL import Image

        image = fit_picture(request.portrait, request.width, request.height)
        if not self.options.image_crf:
            return image
        stream = run_tool("ffmpeg", recompress_args(request.width, request.height,
                                                    self.options.image_crf),
                          input=image.tobytes(), timeout=60)
        rgb = run_tool("ffmpeg", ["-hide_banner", "-nostdin", "-v", "error", "-f", "h264",
                                  "-i", "-", "-frames:v", "1", "-f", "rawvideo", "-pix_fmt",
                                  "rgb24", "-"], input=stream, timeout=60)
        return Image.frombytes("RGB", (request.width, request.height), rgb)

    def _speech_latents(self, speech: SpeechPcm, canvas_frames: int, fps: int):
        """The speech as raw (1, channels, length, mel) audio latents, the length the
        pipeline gives a canvas of ``canvas_frames`` (silence after the line)."""
        import torch

        pipe, vae = self.pipe, self.pipe.audio_vae
        rate, hop = vae.config.sample_rate, vae.config.mel_hop_length
        per_second = rate / hop / pipe.audio_vae_temporal_compression_ratio
        length = round(canvas_frames / fps * per_second)
        # one more latent's worth of samples, so the causal encoder's last latent is whole
        samples = math.ceil((length + 1) / per_second * rate)
        raw = run_tool("ffmpeg", resample_args(speech, rate, samples), input=speech.pcm,
                       timeout=120)
        stereo = torch.from_numpy(np.frombuffer(raw, dtype="<f4").reshape(-1, 2).T.copy())
        mel = log_mel(torch, stereo, rate, vae.config.mel_bins, hop)
        mel = mel.to(self.device, vae.dtype)
        latents = vae.encode(mel).latent_dist.mode()[:, :, :length]
        if latents.shape[2] != length:
            raise RenderError(f"LTX-2's audio VAE gave {latents.shape[2]} latent frames for "
                              f"{samples} samples, not {length}: check the model "
                              f"{self.options.model!r}", stage="motion")
        return latents

    def _sample(self, request: TalkingRequest, speech: SpeechPcm, fps: int, frames: int,
                on_step: OnStep | None):
        """The pipeline's ``frames`` frames as uint8 (frames, height, width, 3)."""
        import torch
        from diffusers.pipelines.ltx2.dfr_layout import resolve_canvas
        from diffusers.pipelines.ltx2.pipeline_ltx2_condition import LTX2VideoCondition
        from diffusers.pipelines.ltx2.utils import DISTILLED_SIGMA_VALUES

        o = self.options
        sigmas = list(o.sigmas or DISTILLED_SIGMA_VALUES)
        canvas, _, _ = resolve_canvas(frames, self.pipe.vae_temporal_compression_ratio)

        def callback(pipe, step, timestep, tensors):
            if on_step is not None:
                on_step(step + 1, len(sigmas))
            return tensors

        with torch.inference_mode():
            portrait = LTX2VideoCondition(frames=self._portrait(request), index=0,
                                          strength=1.0, crf=0)  # compressed above, by FFmpeg
            video = self.pipe(
                prompt=request.prompt, conditions=[portrait], width=request.width,
                height=request.height, num_frames=frames, frame_rate=float(fps),
                audio_latents=self._speech_latents(speech, canvas, fps), freeze_audio=True,
                generate_slots=False, sigmas=sigmas, use_cross_timestep=o.cross_timestep,
                generator=torch.Generator(self.device).manual_seed(request.seed),
                max_sequence_length=PROMPT_TOKENS, output_type="np",
                callback_on_step_end=callback).frames[0]
        return np.clip(np.rint(np.asarray(video, dtype=np.float32) * 255), 0, 255
                       ).astype(np.uint8)


def create_talking_backend(settings: Ltx2Settings | None = None) -> TalkingBackend:
    return TalkingBackend(TalkingOptions.from_settings(settings or Ltx2Settings()))
