"""What a picture backend is: one request per scene in, one PNG per scene out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


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


class ImageBackend(Protocol):
    name: str

    def version(self) -> str:
        """Backend and model version, recorded in the manifest and in content keys."""
        ...

    def generate(self, requests: list[ImageRequest]) -> list[bytes]:
        """One PNG (exactly width x height, RGB) per request, in order."""
        ...
