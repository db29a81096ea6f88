"""Picture backends: every scene of a storyboard to a PNG. Imports stay light: a backend's
module (and its heavy libraries) loads only when that backend is created."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vidgen_ray.errors import SettingsError

if TYPE_CHECKING:
    from vidgen_ray.config import RenderSettings
    from vidgen_ray.images.base import ImageBackend, Sampling

IMAGE_BACKENDS = ("cards", "sdxl")


def create_image_backend(name: str, settings: RenderSettings | None = None) -> ImageBackend:
    """The picture backend called ``name`` (``settings.image_model``), ready to use."""
    if name == "cards":
        from vidgen_ray.images.cards import CardsBackend

        return CardsBackend()
    if name == "sdxl":
        from vidgen_ray.config import load_settings
        from vidgen_ray.images.sdxl import create_sdxl_backend

        return create_sdxl_backend(settings or load_settings(image_model="sdxl"))
    raise SettingsError(
        f"unknown image backend {name!r}: choose one of {', '.join(IMAGE_BACKENDS)}",
        field="image_model",
    )


def wants_portraits(settings: RenderSettings) -> bool:
    """Whether scenes are drawn with the characters' reference portraits (SDXL) or not."""
    return settings.image_model == "sdxl"


def picture_sampling(settings: RenderSettings, width: int, height: int,
                     portrait: bool = False) -> Sampling | None:
    """How this job's pictures of width x height are drawn, sent with each request (one
    resident model serves every job's sizes and steps); None for cards, which draw no
    samples."""
    if settings.image_model != "sdxl":
        return None
    from vidgen_ray.images.sdxl_sampling import sampling_for

    return sampling_for(settings, width, height, portrait)


def key_version(settings: RenderSettings, version: str) -> str:
    """The version a picture's content key names: the workers' (what they loaded), plus for
    SDXL a digest of the job's drawing options, which travel with the requests."""
    if settings.image_model != "sdxl":
        return version
    from vidgen_ray.images.sdxl_sampling import key_version as sdxl_key_version

    return sdxl_key_version(settings, version)
