"""Kokoro's options (speech/kokoro.py reads them when it loads)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from vidgen_ray.config.backends.loading import OfflineOption


class KokoroSettings(OfflineOption):
    """Kokoro weights (--voice kokoro)."""

    BACKEND: ClassVar[str] = "kokoro"
    LOAD_FIELDS: ClassVar[tuple[str, ...]] = ("kokoro_model", "offline")

    kokoro_model: str = Field(
        "hexgrad/Kokoro-82M", min_length=1,
        description="Kokoro weights: hexgrad/Kokoro-82M, or a folder in its layout "
                    "(config.json, kokoro-v1_0.pth, voices/).")
