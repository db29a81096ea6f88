"""Stable Audio Open's options (music and ambience beds, issue 21): beds/stable_audio.py turns
the LOAD_FIELDS into what a worker loads; the others are each bed's defaults (steps,
guidance, negative prompt).

Part of RenderSettings through config/beds.py (``music_model`` / ``ambience_model``
stable_audio); ``StableAudioSettings()`` alone also builds one
(beds.stable_audio.StableAudioOptions.from_settings reads either).
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from vidgen_ray.config.backends.loading import ModelLoading
from vidgen_ray.config.scope import Scope

# What the farm's bed workers load (the shared farm's choice); recorded, since it changes
# every bed.
FARM_RECORDED = Scope("farm", recorded=True)
# Stable Audio Open 1.0 in diffusers' layout (what StableAudioPipeline loads); a gated
# repository: its licence must be accepted on Hugging Face before `hf download`.
DEFAULT_MODEL = "stabilityai/stable-audio-open-1.0"


class StableAudioSettings(ModelLoading):
    """Stable Audio Open weights and how each bed is sampled."""

    BACKEND: ClassVar[str] = "stable_audio"
    # What a worker loads: weights, precision, how it runs. Steps, guidance and the negative
    # prompt travel with each bed (beds.base.BedRequest or these defaults).
    LOAD_FIELDS: ClassVar[tuple[str, ...]] = (
        "stable_audio_model", "stable_audio_half_dtype", "half_precision", "cpu_offload",
        "attention", "compile", "offline")

    stable_audio_model: Annotated[str, FARM_RECORDED] = Field(
        DEFAULT_MODEL, min_length=1,
        description="Stable Audio Open model id (Hugging Face cache) or local folder, in "
        "diffusers' layout (model_index.json with transformer, vae, text_encoder, tokenizer, "
        "projection_model, scheduler).")
    stable_audio_half_dtype: Annotated[Literal["fp16", "bf16"], FARM_RECORDED] = Field(
        "fp16", description="Half precision type on CUDA; diffusers' example runs Stable "
        "Audio Open in fp16.")
    stable_audio_steps: int = Field(
        100, ge=1, le=500, description="Denoising steps per bed (the pipeline's default; "
        "its authors' examples use 100-200).")
    stable_audio_guidance_scale: float = Field(
        7.0, ge=1.0, le=20.0, description="How closely the bed follows its prompt; higher "
        "follows it more at some cost in sound quality; 1 turns guidance off.")
    stable_audio_negative_prompt: str | None = Field(
        None, max_length=1000, description="What beds should avoid; unset: each kind's own "
        "(no voices in music, no music in ambience: beds.base.NEGATIVE); empty: nothing.")
