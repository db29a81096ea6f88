"""Bark's options (speech/bark.py reads them when it loads)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from vidgen_ray.config.backends.loading import ModelLoading


class BarkSettings(ModelLoading):
    """Bark weights, decoding and sampling (--voice bark)."""

    BACKEND: ClassVar[str] = "bark"
    # What a worker loads; the temperature travels with each line (SpeechRequest).
    LOAD_FIELDS: ClassVar[tuple[str, ...]] = (
        "bark_model", "bark_decoding", "half_precision", "cpu_offload", "attention", "compile",
        "offline")

    tts_temperature: float = Field(
        0.7, ge=0.05, le=1.5, description="Bark sampling temperature: lower is steadier.")
    bark_model: str = Field(
        "suno/bark", min_length=1,
        description="Bark weights: suno/bark, suno/bark-small, or a folder holding a BarkModel.")
    bark_decoding: Literal["fast", "transformers"] = Field(
        "fast", description="Bark token decoding: fast (static KV cache, CUDA graphs on GPUs; "
        "same tokens) or transformers' generate (needed for cpu_offload, used with it).")
