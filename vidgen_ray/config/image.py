"""The image section: the picture backend, what a card shows, pictures of renditions, and
SDXL's options (config/backends/sdxl.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from vidgen_ray.config.backends.sdxl import SdxlSettings
from vidgen_ray.config.scope import Section


class ImageChoice(Section):
    """Which backend draws the scenes, and what a card shows."""

    image_model: Literal["cards", "sdxl"] = Field("cards", description="Picture backend.")
    rendition_pictures: Literal["redraw", "crop", "subject"] = Field(
        "redraw", description="Renditions of another shape: redraw each picture for it "
        "(cards always are), or, for SDXL, crop one picture at the centre (crop, faster) or "
        "around its subject (subject; also frames your own pictures of another shape).")
    card_text: Literal["auto", "narration", "title"] = Field(
        "auto", description="What a card shows under its title: narration (the scene's "
        "description), title (only its place and characters, for subtitles on screen), auto "
        "(title when subtitles are burned in; the service's page sends title, as it plays the "
        "subtitle track).")


class ImageSection(SdxlSettings, ImageChoice):
    """The picture settings: the choices first, then SDXL's options."""
