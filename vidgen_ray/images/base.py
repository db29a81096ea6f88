"""What a picture backend is: one request per scene in, one PNG per scene out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class CharacterLook:
    """How one character always looks: the same words and seed in every picture."""

    name: str
    description: str
    seed: int
    portrait: bytes | None = None  # PNG, for IP-Adapter conditioning; None without one


@dataclass(frozen=True)
class Sampling:
    """How a diffusion model draws one request. It travels with the request, not with the
    worker, so one resident model serves every job's shape, steps and style."""

    width: int  # the drawing size; the picture is then fitted to the request's size
    height: int
    steps: int
    guidance_scale: float
    style: str  # a preset of images/prompts.py STYLES
    negative_prompt: str = ""
    refiner_start: float = 0.8  # fraction of the steps the base model does (with a refiner)
    ip_adapter_scale: float = 0.6  # how strongly portraits steer a scene (with an IP-Adapter)


@dataclass(frozen=True)
class ImageRequest:
    scene_number: int  # 1-based, as people count scenes
    title: str
    description: str
    characters: tuple[str, ...]
    mood: str
    width: int
    height: int
    seed: int
    looks: tuple[CharacterLook, ...] = ()  # the characters present, for backends that draw them
    portrait_of: str | None = None  # a reference portrait of this character, not a scene
    language: str = "en"  # the script's: the card's labels are written in it
    caption: str | None = None  # what a card writes under its title; None: the description
    sampling: Sampling | None = None  # diffusion backends (SDXL); None: the backend's defaults


class ImageBackend(Protocol):
    name: str

    def version(self) -> str:
        """Backend and model version, recorded in the manifest and in content keys."""
        ...

    def generate(self, requests: list[ImageRequest]) -> list[bytes]:
        """One PNG (exactly width x height, RGB) per request, in order. Backends that
        report per-step progress also take ``on_step(done, total)``."""
        ...
