"""LTX-Video's options (moving shots, issue 21, ``--video-model ltx``): motion/ltx.py turns
the LOAD_FIELDS into what a worker loads; the others are each clip's shape and sampling
(size, frames, steps, guidance, frame rate, decoding), which travel with each ClipRequest.

Part of RenderSettings through config/motion.py; ``LtxSettings()`` alone also builds one
(motion.ltx.LtxOptions.from_settings reads either).
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, field_validator

from vidgen_ray.config.backends.loading import ModelLoading
from vidgen_ray.config.scope import Scope

# What the farm's LTX workers load (the shared farm's choice); recorded, since it changes
# every clip.
FARM_RECORDED = Scope("farm", recorded=True)
# 2B LTX-Video in diffusers' layout at the repository's root (what LTXImageToVideoPipeline
# loads); its authors give 768x512 and 121 frames (~5 s) as the size it was trained for.
DEFAULT_MODEL = "Lightricks/LTX-Video"


class LtxSettings(ModelLoading):
    """LTX-Video weights and how each clip is sampled and decoded."""

    BACKEND: ClassVar[str] = "ltx"
    # What a worker loads: weights, precision, how it runs. Steps, guidance, frame rate and
    # the decode values travel with each clip (motion.base.ClipRequest or these defaults).
    LOAD_FIELDS: ClassVar[tuple[str, ...]] = (
        "ltx_model", "ltx_half_dtype", "ltx_vae_tiling", "half_precision", "cpu_offload",
        "attention", "compile", "offline")

    ltx_model: Annotated[str, FARM_RECORDED] = Field(
        DEFAULT_MODEL, min_length=1,
        description="LTX-Video model id (Hugging Face cache) or local folder, in diffusers' "
        "layout (model_index.json with transformer, vae, text_encoder, tokenizer, scheduler).")
    ltx_half_dtype: Annotated[Literal["bf16", "fp16"], FARM_RECORDED] = Field(
        "bf16", description="Half precision type on CUDA; bf16 is what LTX-Video's authors use.")
    ltx_vae_tiling: Annotated[bool, FARM_RECORDED] = Field(
        False, description="Decode clips in VAE tiles: less GPU memory for large clips, slower.")
    ltx_clip_side: int = Field(
        768, ge=64, le=1280, multiple_of=32,
        description="A generated clip's long side in pixels (a multiple of 32); its shape is "
        "LTX-Video's native 3:2, 1:1 or 2:3 nearest the video's (768: 768x512 for 16:9, "
        "512x768 for 9:16). Clips are scaled to the video when it is assembled.")
    ltx_frames: int = Field(
        121, ge=9, le=257, description="Frames per generated clip, 8*k+1 (121: ~5 s at 24 "
        "fps); a scene longer than a clip chains clips (max_clips_per_scene).")
    ltx_steps: int = Field(
        40, ge=1, le=200, description="Denoising steps per clip (a distilled LTX checkpoint "
        "wants ~8 with guidance 1).")
    ltx_guidance_scale: float = Field(
        3.0, ge=1.0, le=20.0, description="How closely the clip follows the motion prompt; "
        "1 turns classifier-free guidance off (guidance-distilled checkpoints).")
    ltx_fps: int = Field(
        24, ge=1, le=60, description="The clip's frame rate: LTX-Video is trained at 24-25 fps "
        "and is told the rate it is asked for.")
    ltx_decode_timestep: float = Field(
        0.05, ge=0.0, le=1.0, description="Timestep the VAE decodes at (timestep-aware VAEs, "
        "LTX-Video 0.9.1 and later; ignored by 0.9.0's).")
    ltx_decode_noise_scale: float = Field(
        0.025, ge=0.0, le=1.0, description="Noise mixed into the latents before decoding "
        "(with a timestep-aware VAE).")
    ltx_negative_prompt: str = Field(
        "worst quality, inconsistent motion, blurry, jittery, distorted", max_length=1000,
        description="What the clip should avoid (used when guidance is above 1).")

    @field_validator("ltx_frames")
    @classmethod
    def _whole_latent_frames(cls, frames: int) -> int:
        # LTX-Video's VAE packs 8 frames into one latent after the first.
        if (frames - 1) % 8:
            low = (frames - 1) // 8 * 8 + 1
            raise ValueError(f"ltx_frames {frames} is not 8*k+1: use {low} or {low + 8}")
        return frames
