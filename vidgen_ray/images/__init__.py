"""Picture backends: every scene of a storyboard to a PNG. Imports stay light: a backend's
module (and its heavy libraries) loads only when that backend is created."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vidgen_ray.errors import SettingsError

if TYPE_CHECKING:
    from vidgen_ray.config import RenderSettings
    from vidgen_ray.images.base import ImageBackend

IMAGE_BACKENDS = ("cards",)


def create_image_backend(name: str, settings: RenderSettings | None = None) -> ImageBackend:
    """The picture backend called ``name`` (``settings.image_model``), ready to use."""
    if name == "cards":
        from vidgen_ray.images.cards import CardsBackend

        return CardsBackend()
    raise SettingsError(
        f"unknown image backend {name!r}: choose one of {', '.join(IMAGE_BACKENDS)}",
        field="image_model",
    )
