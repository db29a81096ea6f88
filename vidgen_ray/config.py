"""Render settings: typed, bounded, documented, and read from the environment in one place.

Every field can be set by the CLI flag of the same name or by ``VIDGEN_<NAME>``; the Ray
address also by Ray's own ``RAY_ADDRESS``.
"""

from __future__ import annotations

import os
import re
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from vidgen_ray.errors import SettingsError

Resolution = Literal["360p", "480p", "720p", "1080p", "1440p", "2160p"]
Aspect = Literal["16:9", "9:16", "1:1"]
# How a scene gives way to the next, and camera moves: defined here so that the default
# setting and the storyboard (which imports them) share one list. See storyboard.py.
Transition = Literal["cut", "dissolve", "fade", "fade_black", "wipe_left", "wipe_right",
                     "slide_left", "slide_right"]
Camera = Literal["zoom_in", "zoom_out", "pan_left", "pan_right", "pan_up", "pan_down", "static"]
SubtitlePosition = Literal["bottom", "top"]
MAX_SIDE = 4096  # pixels: 2160p in either orientation (3840x2160, 2160x3840) fits

# Short side of the frame in pixels for each named resolution.
_SHORT_SIDE = {"360p": 360, "480p": 480, "720p": 720, "1080p": 1080, "1440p": 1440, "2160p": 2160}
_ASPECT = {"16:9": (16, 9), "9:16": (9, 16), "1:1": (1, 1)}
# What --preview sets (RenderSettings.preview): a draft in a fraction of the time.
PREVIEW: dict[str, object] = {"resolution": "360p", "fps": 15, "x264_preset": "ultrafast",
                              "renditions": [], "stems": None}
# Integrated loudness targets by name: web platforms, podcasts (our default), EBU R128.
LOUDNESS_PRESETS = {"web": -14.0, "podcast": -16.0, "default": -16.0, "broadcast": -23.0}
# Subtitle reading speeds (characters a second) by audience: the streaming services' rules.
READING_SPEEDS = {"adult": 17.0, "default": 17.0, "children": 13.0}


class RenderSettings(BaseSettings):
    """What a render is made with. The defaults need no GPU, no key and no download."""

    model_config = SettingsConfigDict(env_prefix="VIDGEN_", extra="forbid", populate_by_name=True)

    resolution: Resolution = Field("720p", description="Frame height class of the video.")
    aspect: Aspect = Field("16:9", description="Frame shape: landscape, portrait or square.")
    fps: int = Field(30, ge=12, le=60, description="Frames per second.")
    llm: Literal["local", "gemini", "openai"] = Field(
        "local", description="Script analyser: local (rules), gemini, or openai (any "
        "OpenAI-compatible server: Ollama, vLLM, LM Studio).")
    # Language-model analysis (--llm gemini|openai); README "Script analysis with Gemini".
    llm_model: str | None = Field(
        # A name, not a path: it goes into the request URL (Gemini: models/NAME).
        None, min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][\w:/-]*(\.[\w:/-]+)*$",
        validation_alias=AliasChoices("llm_model", "VIDGEN_LLM_MODEL", "VIDGEN_GEMINI_MODEL"),
        description="Model name; empty: gemini-2.5-flash for gemini (openai needs one).")
    llm_temperature: float = Field(
        0.3, ge=0.0, le=2.0,
        validation_alias=AliasChoices("llm_temperature", "VIDGEN_LLM_TEMPERATURE",
                                      "VIDGEN_GEMINI_TEMPERATURE"),
        description="Sampling temperature of the analysis: low keeps it steady.")
    llm_max_tokens: int = Field(
        8192, ge=1024, le=65536,
        validation_alias=AliasChoices("llm_max_tokens", "VIDGEN_LLM_MAX_TOKENS",
                                      "VIDGEN_GEMINI_MAX_TOKENS"),
        description="Most output tokens per request; long scripts are split to fit.")
    llm_base_url: str | None = Field(
        # No user:password@ and no ?query: keys go in headers, never in a URL that is logged.
        None, pattern=r"^https?://[^\s@?#]+$",
        description="Server of the analysis: required for openai (e.g. "
        "http://localhost:11434/v1 for Ollama); for gemini, an override (tests, proxies).")
    llm_requests_per_minute: int = Field(
        60, ge=1, le=10_000, description="Requests per minute to the model, shared by every "
        "process on this machine.")
    llm_timeout: float = Field(120.0, ge=1.0, le=900.0,
                               description="Seconds to wait for one answer of the model.")
    llm_retries: int = Field(5, ge=0, le=20, description="Retries on 429, 5xx and timeouts, "
                             "with exponential backoff and jitter (Retry-After honoured).")
    llm_rewrite: bool = Field(False, description="Let the model reword spoken lines; off: "
                              "every line must come back verbatim and in order.")
    llm_cache_dir: str | None = Field(
        None, description="Folder of cached analyses and the rate limiter's state; empty: "
        "<user cache dir>/vidgen/llm.")
    tts_model: Literal["espeak", "bark", "kokoro"] = Field(
        "espeak", description="Speech backend.")
    tts_voice: str | None = Field(
        None, description="Narrator voice, e.g. 'en+m3' for espeak-ng; the backend's default."
    )
    tts_speed: float = Field(1.0, ge=0.5, le=2.0, description="Speaking rate, 1.0 is normal.")
    cast: dict[str, str] = Field(
        default_factory=dict, description="Voices pinned per speaker, e.g. from a cast.json "
        "a render wrote (CLI --cast FILE); speakers not in it are cast as usual.")
    tts_temperature: float = Field(
        0.7, ge=0.05, le=1.5, description="Bark sampling temperature: lower is steadier.")
    kokoro_model: str = Field(
        "hexgrad/Kokoro-82M", min_length=1,
        description="Kokoro weights: hexgrad/Kokoro-82M, or a folder in its layout "
                    "(config.json, kokoro-v1_0.pth, voices/).")
    bark_model: str = Field(
        "suno/bark", min_length=1,
        description="Bark weights: suno/bark, suno/bark-small, or a folder holding a BarkModel.")
    bark_decoding: Literal["fast", "transformers"] = Field(
        "fast", description="Bark token decoding: fast (static KV cache, CUDA graphs on GPUs; "
        "same tokens) or transformers' generate (needed for cpu_offload, used with it).")
    # GPU model settings shared by every model backend (DESIGN.md "Settings users already know").
    half_precision: bool | None = Field(
        None, description="fp16/bf16 weights; empty means yes on CUDA, no on CPU.")
    cpu_offload: bool = Field(
        False, description="Keep idle sub-models in CPU memory (cards under 8 GB): less VRAM, "
        "slower; needs CUDA.")
    attention: Literal["sdpa", "flash", "eager"] = Field(
        "sdpa", description="Attention kernels: sdpa (PyTorch), flash (flash-attn, CUDA), eager.")
    compile: bool = Field(False, description="torch.compile the models (slow first call); "
                          "needs CUDA.")
    offline: bool = Field(
        False, validation_alias=AliasChoices("offline", "VIDGEN_OFFLINE", "HF_HUB_OFFLINE"),
        description="Load models only from local folders and the Hugging Face cache.")
    image_model: Literal["cards", "sdxl"] = Field("cards", description="Picture backend.")
    loudness: float = Field(-16.0, ge=-31.0, le=-5.0, description="Target LUFS, integrated, or "
                            "a preset: web (-14), podcast/default (-16), broadcast (-23).")
    preview: bool = Field(False, description="A fast draft: 360p, 15 fps, the fastest x264 "
                          "preset, no renditions or stems (a size, fps or preset given is kept).")
    stems: Literal["wav", "flac", "mp3", "aac"] | None = Field(
        None, description="Also write mix.<ext> and stems/{speech,music,ambience,effects}.<ext> "
        "in this format; empty writes none.")
    stems_bit_depth: Literal[16, 24] = Field(
        16, description="Bits per sample of WAV and FLAC stems: 16 (opens everywhere) or 24.")
    music: str | None = Field(
        None, description="A music file (WAV, MP3, FLAC, OGG, M4A) under every scene that "
        "names none, or 'none' for no music; empty: music made for each scene's mood.")
    music_volume: float = Field(1.0, ge=0.0, le=4.0, description="Music level: 1 is the "
                                "default mix, 0.5 is 6 dB quieter, 0 silent.")
    ambience_volume: float = Field(1.0, ge=0.0, le=4.0, description="Ambience level: 1 is the "
                                   "default mix, 0 silent.")
    crossfade: float = Field(0.5, ge=0.0, le=2.0, description="Transition length in seconds.")
    transition: Transition = Field(
        "dissolve", description="Transition for scenes whose storyboard leaves it empty.")
    burn_subtitles: bool = Field(False, description="Draw the subtitles into the picture too.")
    rendition_pictures: Literal["redraw", "crop"] = Field(
        "redraw", description="Renditions of another shape: redraw each picture for it "
        "(cards always are), or, for SDXL, crop one picture at the centre (faster).")
    card_text: Literal["auto", "narration", "title"] = Field(
        "auto", description="What a card shows under its title: narration (the scene's "
        "description), title (only its place and characters, for subtitles on screen), auto "
        "(title when subtitles are burned in or the job comes through the service).")
    subtitle_font: str = Field("DejaVu Sans", min_length=1, description="Burn-in font family.")
    subtitle_fonts_dir: str = Field(
        "/usr/share/fonts/truetype/dejavu", min_length=1,
        description="Folder holding the burn-in font (fonts-dejavu-core installs this one).")
    subtitle_size: int = Field(
        48, ge=8, le=300, description="Burn-in text height in pixels of a 1080-line frame.")
    subtitle_outline: float = Field(
        3.0, ge=0.0, le=20.0, description="Burn-in outline width in pixels of a 1080-line frame.")
    subtitle_position: SubtitlePosition = Field("bottom", description="Burn-in: bottom or top.")
    subtitle_box: bool = Field(False, description="Burn-in on a dark background box.")
    subtitle_max_cps: float = Field(
        17.0, ge=5.0, le=40.0, description="Subtitle reading speed, characters a second at "
        "most, or a preset: adult/default (17), children (13).")
    # NoDecode: the environment gives "otio,fcpxml" as a flag does, not JSON.
    timeline_formats: Annotated[list[Literal["otio", "fcpxml", "edl"]], NoDecode] = Field(
        default_factory=lambda: ["otio"], max_length=3,
        description="Editable timelines written beside the video: otio (timeline.otio), "
        "fcpxml (timeline.fcpxml), edl (timeline.edl, pictures only); empty writes none.")
    subtitle_speakers: bool = Field(
        False, description="Name the speaker in the subtitles where their turn begins "
        "(SDH style: 'MARA: ...', a dash for each speaker in a two-speaker cue).")
    qc_strict: bool = Field(False, description="Fail the job when the QC report (qc.json) "
                            "finds a violation.")
    renditions: list[str] = Field(
        default_factory=list, max_length=8,
        description="More outputs besides the main one, each WIDTHxHEIGHT, e.g. 1080x1920.")
    chunk_seconds: float = Field(
        10.0, ge=1.0, le=600.0, description="Length of the video pieces encoded in parallel."
    )
    crf: int = Field(20, ge=0, le=51, description="x264 quality; lower is better and larger.")
    x264_preset: Literal["ultrafast", "superfast", "veryfast", "faster", "fast", "medium"] = (
        "veryfast"
    )
    # One thread per chunk, one chunk per CPU: 1.19x faster than two threads on one piece
    # on 2 CPUs (BENCHMARKS.md). Each chunk task reserves this many CPUs from Ray.
    ffmpeg_threads: int = Field(1, ge=1, le=64, description="Threads per chunk encode.")
    seed: int = Field(0, ge=0, description="Varies camera moves and sound; same seed, same video.")
    # The farm: resident workers, their GPU shares, backpressure.
    image_workers: int | None = Field(
        None, ge=1, le=256, description="ImageWorkers; empty sizes the pool from the cluster.")
    speech_workers: int | None = Field(
        None, ge=1, le=256, description="SpeechWorkers; empty sizes the pool from the cluster.")
    max_in_flight: int = Field(2, ge=1, le=64, description="Calls in flight per worker (K).")
    image_batch_size: int = Field(4, ge=1, le=64, description="Pictures per worker call (B).")
    speech_batch_size: int = Field(8, ge=1, le=128, description="Lines per worker call (B).")
    image_gpu_gb: float = Field(8.0, gt=0, le=200, description="GPU memory an image worker needs.")
    # Bark's measured peak at batch 16 with fast decoding: 5.6 GiB (BENCHMARKS.md).
    speech_gpu_gb: float = Field(6.0, gt=0, le=200, description="GPU memory a speech worker needs.")
    gpu_memory_gb: float | None = Field(
        None, gt=0, le=1000, description="Memory of one GPU; empty detects it (24 if unknown).")
    # SDXL pictures (--images sdxl).
    sdxl_model: str = Field("stabilityai/stable-diffusion-xl-base-1.0",
                            description="SDXL model id (Hugging Face cache) or local folder.")
    image_resolution: str | None = Field(
        None, pattern=r"^\d{2,4}x\d{2,4}$",
        description="SDXL drawing size WIDTHxHEIGHT; empty: the SDXL size nearest the video.")
    image_guidance_scale: float = Field(7.5, ge=0.0, le=30.0,
                                        description="How closely SDXL follows the prompt.")
    image_inference_steps: int | None = Field(
        None, ge=1, le=200, description="Denoising steps; empty: 50, or 30 with the fast preset.")
    image_preset: Literal["quality", "fast"] = Field(
        "quality", description="fast: 30 steps instead of 50 unless steps are given.")
    image_scheduler: Literal["default", "euler", "euler_a", "dpmpp_2m", "ddim", "unipc"] = Field(
        "default", description="Sampler; default is the model's own.")
    image_negative_prompt: str = Field(
        "blurry, low quality, deformed, watermark, text, signature", max_length=1000,
        description="What SDXL should avoid drawing.")
    image_style: Literal["none", "photorealistic", "cinematic", "anime", "watercolor", "comic",
                         "storybook"] = Field("cinematic", description="Added to every prompt.")
    image_safety_checker: bool = Field(
        True, description="Check each picture; a flagged one is redrawn with the next seed.")
    safety_checker_model: str = Field(
        "CompVis/stable-diffusion-safety-checker",
        description="StableDiffusionSafetyChecker model id or folder.")
    image_half_dtype: Literal["fp16", "bf16"] = Field("fp16", description="Half precision type.")
    sdxl_refiner: str | None = Field(
        None, description="SDXL refiner model id or folder; empty: no refiner.")
    refiner_start: float = Field(0.8, gt=0.0, lt=1.0,
                                 description="Fraction of the steps the base model does.")
    ip_adapter: str | None = Field(
        None, description="IP-Adapter folder or model id (h94 layout); conditions scenes on "
        "the portraits of the characters present.")
    ip_adapter_scale: float = Field(0.6, ge=0.0, le=1.0,
                                    description="How strongly portraits steer a scene.")
    upscaler: str = Field(
        "lanczos", min_length=1, description="lanczos (with light sharpening), or an x4 "
        "upscaler model id/folder, e.g. stabilityai/stable-diffusion-x4-upscaler.")
    ray_address: str | None = Field(
        None,
        validation_alias=AliasChoices("ray_address", "VIDGEN_RAY_ADDRESS", "RAY_ADDRESS"),
        description="Ray cluster to join, e.g. ray://head:10001; empty starts a local Ray.",
    )

    @model_validator(mode="after")
    def _preview_draft(self) -> RenderSettings:
        # A quick look (--preview): small, few frames, fastest encode, nothing extra. A size,
        # frame rate or x264 preset given explicitly is kept; renditions and stems are not.
        if self.preview:
            given = self.model_fields_set
            for name, value in PREVIEW.items():
                if name not in given or name in ("renditions", "stems"):
                    object.__setattr__(self, name, value)
        return self

    @field_validator("loudness", mode="before")
    @classmethod
    def _loudness_preset(cls, value: object) -> object:
        name = value.strip().lower() if isinstance(value, str) else None
        if name is not None and not _is_number(name):
            if name not in LOUDNESS_PRESETS:
                raise ValueError(f"loudness {value!r} is neither a number of LUFS nor a preset: "
                                 f"use one of {', '.join(LOUDNESS_PRESETS)} or e.g. -16")
            return LOUDNESS_PRESETS[name]
        return value

    @field_validator("timeline_formats", mode="before")
    @classmethod
    def _formats_list(cls, value: object) -> object:
        # "otio,fcpxml" from a flag or the environment, as well as a list.
        if isinstance(value, str) and not value.lstrip().startswith("["):
            return [part.strip().lower() for part in value.split(",") if part.strip()]
        return value

    @field_validator("subtitle_max_cps", mode="before")
    @classmethod
    def _reading_speed_preset(cls, value: object) -> object:
        name = value.strip().lower() if isinstance(value, str) else None
        if name is not None and not _is_number(name):
            if name not in READING_SPEEDS:
                raise ValueError(f"subtitle reading speed {value!r} is neither a number of "
                                 f"characters a second nor a preset: use one of "
                                 f"{', '.join(READING_SPEEDS)} or e.g. 15")
            return READING_SPEEDS[name]
        return value

    @field_validator("subtitle_font")
    @classmethod
    def _font_name(cls, name: str) -> str:
        # The name goes into the ASS script's style line: a comma or a line break there
        # would shift or add fields.
        if any(ch in name for ch in ",\r\n{}\\") or not name.isprintable():
            raise ValueError(f"subtitle font {name!r} holds a comma, brace, backslash or "
                             "control character: give a font family name such as DejaVu Sans")
        return name

    @field_validator("renditions")
    @classmethod
    def _rendition_sizes(cls, renditions: list[str]) -> list[str]:
        for text in renditions:
            rendition_size(text)
        return renditions

    @property
    def rendition_sizes(self) -> list[tuple[int, int]]:
        """(width, height) of each extra output, in order, without repeats of the main one."""
        sizes = []
        for text in self.renditions:
            size = rendition_size(text)
            if size != self.size and size not in sizes:
                sizes.append(size)
        return sizes

    @property
    def picture_size(self) -> tuple[int, int]:
        """Pictures keep the main frame's shape, made large enough for every rendition to
        cover its own frame by cropping, without enlarging (up to MAX_SIDE)."""
        width, height = self.size
        grow = max([1.0, *(max(w / width, h / height) for w, h in self.rendition_sizes)])
        grow = min(grow, MAX_SIDE / max(width, height))
        return (round(width * grow / 2) * 2, round(height * grow / 2) * 2)

    @property
    def picture_sizes(self) -> dict[tuple[int, int], tuple[int, int]]:
        """Each output size (the main one first) -> the size its pictures are drawn at.

        Every shape gets its own pictures, drawn for it: a 9:16 rendition of a 16:9 render
        has its cards laid out again for 9:16, never cut from the 16:9 ones. Sizes of one
        shape share pictures large enough for the largest. Only SDXL pictures with
        ``rendition_pictures=crop`` are drawn once, at ``picture_size``, and cropped at
        the centre for every shape (one diffusion pass instead of one per shape)."""
        sizes = [self.size, *self.rendition_sizes]
        if self.image_model == "sdxl" and self.rendition_pictures == "crop":
            return dict.fromkeys(sizes, self.picture_size)
        shapes: list[list[tuple[int, int]]] = []
        for w, h in sizes:
            same = [g for g in shapes if abs(g[0][0] / g[0][1] - w / h) <= 0.01 * w / h]
            if same:
                same[0].append((w, h))
            else:
                shapes.append([(w, h)])
        out: dict[tuple[int, int], tuple[int, int]] = {}
        for group in shapes:
            width, height = group[0]
            grow = max(max(w / width, h / height) for w, h in group)
            grow = min(grow, MAX_SIDE / max(width, height))
            picture = (round(width * grow / 2) * 2, round(height * grow / 2) * 2)
            out.update(dict.fromkeys(group, picture))
        return out

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels, both even as H.264 4:2:0 requires."""
        short = _SHORT_SIDE[self.resolution]
        w, h = _ASPECT[self.aspect]
        if w >= h:
            return (round(short * w / h / 2) * 2, short)
        return (short, round(short * h / w / 2) * 2)

    def for_manifest(self) -> dict:
        """Settings that shape the output; where and how the work ran does not."""
        return self.model_dump(exclude=set(FARM_FIELDS) | {"ray_address", "ffmpeg_threads",
                                                           "llm_cache_dir", "llm_base_url"})


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True

def rendition_size(text: str) -> tuple[int, int]:
    """"1080x1920" -> (1080, 1920); both sides even (H.264 4:2:0) and 16..MAX_SIDE."""
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not match:
        raise ValueError(f"rendition {text!r} is not WIDTHxHEIGHT: write e.g. 1080x1920")
    width, height = int(match[1]), int(match[2])
    for side in (width, height):
        if side % 2 or not 16 <= side <= MAX_SIDE:
            raise ValueError(f"rendition {text!r}: each side must be even and 16-{MAX_SIDE} "
                             "pixels, e.g. 1280x720 or 3840x2160")
    return width, height


# Settings of the farm, not of the video: they never change what a render looks like.
FARM_FIELDS = ("image_workers", "speech_workers", "max_in_flight", "image_batch_size",
               "speech_batch_size", "image_gpu_gb", "speech_gpu_gb", "gpu_memory_gb")


class FarmSettings(BaseSettings):
    """How much work the cluster's one Farm accepts (env VIDGEN_MAX_RUNNING_JOBS, ...)."""

    model_config = SettingsConfigDict(env_prefix="VIDGEN_", extra="ignore")

    max_running_jobs: int = Field(2, ge=1, le=1000, description="Jobs rendering at once.")
    max_queued_jobs: int = Field(16, ge=0, le=100_000, description="Jobs waiting; past it, "
                                 "submitting answers FarmSaturated.")
    retry_after: float = Field(30.0, ge=1, le=3600, description="Seconds a refused client "
                               "is told to wait.")


class ServiceSettings(BaseSettings):
    """The job service (api.py): keys, limits, storage (env VIDGEN_API_KEYS, ...)."""

    model_config = SettingsConfigDict(env_prefix="VIDGEN_", extra="ignore")

    api_keys: str = Field("", description="Comma-separated 'name:key' pairs ('name:key:admin' "
                          "sees every job); empty refuses to start unless api_open is set.")
    api_open: bool = Field(False, description="Serve without keys (every caller is "
                           "'anonymous'): only on a machine nobody else can reach.")
    storage: str | None = Field(None, description="Where jobs and results live: a folder or "
                                "s3://bucket/prefix; empty is <user data dir>/vidgen.")
    workdir: str | None = Field(None, description="Local working folder of the farm node when "
                                "storage is S3; empty is <user data dir>/vidgen.")
    s3_endpoint_url: str | None = Field(None, description="S3-compatible endpoint (MinIO...).")
    presign_seconds: int = Field(3600, ge=60, le=7 * 24 * 3600,
                                 description="Lifetime of presigned download links.")
    max_script_bytes: int = Field(1024 * 1024, ge=1024, le=10 * 1024 * 1024,
                                  description="Largest script a request may carry.")
    max_scenes: int = Field(500, ge=1, le=10_000, description="Most scenes in one job.")
    max_media_bytes: int = Field(32 * 1024 * 1024, ge=0, le=2 * 1024**3,
                                 description="Most bytes of pictures, clips and music one job "
                                 "may upload (its 'media'); 0 takes none.")
    page_size: int = Field(50, ge=1, le=1000, description="Jobs per page when listing.")
    # Work one job may ask for, counted while its script is read (analysis/budget.py): a
    # 1 MB script is ~4,000 lines and ~21 hours of narration.
    max_lines: int = Field(1000, ge=1, le=100_000, description="Most spoken lines in one job.")
    max_words: int = Field(60_000, ge=1, le=10_000_000,
                           description="Most spoken words in one job.")
    max_minutes: float = Field(120.0, gt=0, le=10_000, description="Most minutes of narration "
                               "in one job, estimated at 150 words a minute.")
    max_queued_per_key: int = Field(8, ge=1, le=100_000, description="Most unfinished jobs "
                                    "(queued or running) of one non-admin key; past it, 429.")
    max_tenant_priority: int = Field(10, ge=-100, le=100, description="Highest priority a "
                                     "non-admin key may give a job.")
    api_keys_file: str | None = Field(None, description="A file of keys, one 'name:key' or "
                                      "'name:key:admin' per line (# comments): keeps keys "
                                      "out of env_vars, which the Ray dashboard shows.")
    api_docs: bool = Field(False, description="Serve Swagger UI at /docs (scripts from a CDN, "
                           "pinned and hash-checked); /openapi.json is always served.")
    probes_need_key: bool = Field(False, description="/readyz and /metrics ask for a key too "
                                  "(by default they answer anyone, for probes and Prometheus).")


class ClientSettings(BaseSettings):
    """Where the CLI client sends jobs (env VIDGEN_URL, VIDGEN_API_KEY)."""

    model_config = SettingsConfigDict(env_prefix="VIDGEN_", extra="ignore")

    url: str = Field("http://127.0.0.1:8000", description="The job service's base URL.")
    api_key: str | None = Field(None, description="Your key from the service's operator.")
    timeout: float = Field(60.0, ge=1, le=3600, description="Seconds to wait for one answer.")


# Settings a backend reads when it loads (model, precision, steps...): jobs share a pool of
# workers only when they agree on these. Each backend lists its own.
BACKEND_FIELDS: dict[str, tuple[str, ...]] = {
    "cards": (), "espeak": (), "kokoro": ("kokoro_model", "offline"),
    "bark": ("bark_model", "bark_decoding", "tts_temperature", "half_precision", "cpu_offload",
             "attention", "compile", "offline"),
    "sdxl": ("sdxl_model", "half_precision", "image_half_dtype", "cpu_offload", "attention",
             "compile", "image_safety_checker", "safety_checker_model", "sdxl_refiner",
             "refiner_start", "ip_adapter", "upscaler", "offline", "image_resolution",
             "image_guidance_scale", "image_inference_steps", "image_preset", "image_scheduler",
             "image_negative_prompt", "image_style", "ip_adapter_scale", "image_batch_size"),
}


def backend_options(settings: RenderSettings, kind: str) -> tuple[str, tuple]:
    """The backend a pool of this kind ("image" or "speech") runs, and the values of the
    settings that shape it (BACKEND_FIELDS)."""
    name = settings.image_model if kind == "image" else settings.tts_model
    fields = BACKEND_FIELDS.get(name, ())
    return name, tuple((field, repr(getattr(settings, field))) for field in fields)


def load_settings(**overrides) -> RenderSettings:
    """Environment, then overrides (CLI flags); a bad value becomes a SettingsError."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return RenderSettings(**given)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(p) for p in error["loc"]) or "settings"
        value = error.get("input")
        raise SettingsError(
            f"setting {field}={value!r} is not allowed: {error['msg']}", field=field
        ) from None


def ray_runtime_env(local: bool = True) -> dict[str, str]:
    """Environment for Ray in this process and the processes it starts, no telemetry.

    ``local``: a Ray this process starts for itself. Every Ray server then listens on
    127.0.0.1 (Ray's single-machine mode) and token auth is off unless RAY_AUTH_MODE says
    otherwise (nothing off loopback can reach it). Joining a cluster, Ray's own auth settings
    (RAY_AUTH_MODE, RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH) pass through untouched.
    Read here because nothing else reads os.environ.
    """
    env = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_ENABLE_AUTO_CONNECT": "0"}
    if local:
        env |= {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
                "RAY_AUTH_MODE": os.environ.get("RAY_AUTH_MODE", "disabled")}
    return env


def ray_address_from_env() -> str | None:
    """Ray's own RAY_ADDRESS, when set: the cluster a Ray tool (``serve run``) will join."""
    return os.environ.get("RAY_ADDRESS", "").strip() or None


def llm_api_key(backend: str) -> str | None:
    """The analysis backend's key, from the SDKs' own variables (never a setting, so never in
    a settings dump or manifest): GEMINI_API_KEY or GOOGLE_API_KEY; OPENAI_API_KEY."""
    names = ("GEMINI_API_KEY", "GOOGLE_API_KEY") if backend == "gemini" else ("OPENAI_API_KEY",)
    return next((os.environ[n] for n in names if os.environ.get(n, "").strip()), None)


def user_cache_dir() -> str:
    """$XDG_CACHE_HOME/vidgen or ~/.cache/vidgen (cached analyses, rate limiter state)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "vidgen")


def user_data_dir() -> str:
    """Where the service keeps jobs by default: $XDG_DATA_HOME/vidgen or
    ~/.local/share/vidgen (read here because nothing else reads os.environ)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local",
                                                          "share")
    return os.path.join(base, "vidgen")


def hf_hub_cache() -> str:
    """The Hugging Face hub cache, resolved as huggingface_hub does (HF_HUB_CACHE, else
    HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub or ~/.cache/huggingface/hub), but at
    call time: read here because nothing else reads os.environ."""
    if os.environ.get("HF_HUB_CACHE"):
        return os.path.expanduser(os.environ["HF_HUB_CACHE"])
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    home = os.environ.get("HF_HOME") or os.path.join(cache, "huggingface")
    return os.path.join(os.path.expanduser(home), "hub")


def hf_endpoint() -> str:
    """The hub to download from: HF_ENDPOINT (a mirror), else huggingface.co."""
    return (os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")
