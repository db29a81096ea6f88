"""LTX-Video's options (moving shots, issue 21): motion/ltx.py turns the LOAD_FIELDS into what
a worker loads; the others are each clip's defaults (steps, guidance, frame rate, decoding).

Standalone for now: not yet a section of RenderSettings (that would add CLI flags, service
fields and manifest entries before any farm worker can use them). ``LtxSettings()`` or
``LtxSettings(ltx_model=...)`` builds one; motion.ltx.LtxOptions.from_settings reads it.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

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
