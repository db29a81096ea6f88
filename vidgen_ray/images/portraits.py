"""The cast: each character's fixed look (words and seed), their reference portraits, and
what the pictures record about themselves. Pure apart from Pillow; no torch, no Ray.

A portrait is made once per character and stored under a content key (backend version,
name, description, seed, size), so later scenes and later jobs reuse it. With an IP-Adapter
the scenes are conditioned on the portraits of the characters present; without one the
fixed words and seeds carry the consistency, and the portraits are the cast sheet.
"""

from __future__ import annotations

import io
import math
from dataclasses import replace

from PIL import Image, ImageDraw

from vidgen_ray.images.base import CharacterLook, ImageRequest, Sampling
from vidgen_ray.images.prompts import parse_resolution
from vidgen_ray.storyboard import Storyboard, stable_seed


def character_seed(storyboard: Storyboard, name: str) -> int:
    """The character's own seed, else one derived from the name: the same in every scene,
    job and machine."""
    character = storyboard.character(name)
    if character is not None and character.seed is not None:
        return character.seed
    return stable_seed("character", name)


def character_looks(storyboard: Storyboard) -> dict[str, CharacterLook]:
    """Every character listed or present in a scene, by name."""
    names = [c.name for c in storyboard.characters]
    names += [n for s in storyboard.scenes for n in s.characters if n not in names]
    looks = {}
    for name in dict.fromkeys(names):
        character = storyboard.character(name)
        looks[name] = CharacterLook(name, character.description if character else "",
                                    character_seed(storyboard, name))
    return looks


def picture_seed(storyboard: Storyboard, index: int, looks: dict[str, CharacterLook]) -> int:
    """The scene's seed; with character looks (SDXL) and no seed of its own, the seed of
    the first character present, so their scenes start from the same noise."""
    scene = storyboard.scenes[index]
    lead = next((looks[n] for n in scene.characters if n in looks), None)
    if scene.seed is None and lead is not None:
        return lead.seed
    return storyboard.scene_seed(index)


def portrait_side(image_resolution: str | None) -> int:
    """Portraits are square: 1024 (an SDXL size), or smaller when a small drawing size is
    set (tiny models in tests)."""
    if image_resolution:
        side = min(parse_resolution(image_resolution))
        if side < 768:
            return side
    return 1024


def portrait_request(look: CharacterLook, side: int,
                     sampling: Sampling | None = None) -> ImageRequest:
    """``sampling``: how the job draws portraits (images.picture_sampling with portrait=True)."""
    return ImageRequest(scene_number=0, title=look.name, description=look.description,
                        characters=(look.name,), mood="neutral", width=side, height=side,
                        seed=look.seed, looks=(replace(look, portrait=None),),
                        portrait_of=look.name, sampling=sampling)


def portrait_key_fields(backend: str, version: str, look: CharacterLook, side: int) -> dict:
    """What a portrait's content key hashes (storage.content_key("portrait", **fields))."""
    return dict(backend=backend, version=version, name=look.name,
                description=look.description, seed=look.seed, size=[side, side])


def scene_key_fields(request: ImageRequest, references: dict[str, str]) -> dict:
    """What a scene's content key hashes: the request, with the key of each reference
    portrait the scene is drawn with (``references``, by name) in place of its bytes. Not its
    sampling: the job's drawing options enter the key through its version
    (images.key_version), as they did when each job's options were built into a worker."""
    fields = {k: v for k, v in vars(request).items() if k not in ("looks", "sampling")}
    fields["looks"] = [{"name": x.name, "description": x.description, "seed": x.seed,
                        "portrait": references.get(x.name)} for x in request.looks]
    return fields


def picture_notes(png: bytes) -> dict[str, str]:
    """The ``vidgen:*`` text chunks a backend wrote into a PNG (seed used, safety redraws)."""
    image = Image.open(io.BytesIO(png))
    text = getattr(image, "text", {}) or {}
    return {k.removeprefix("vidgen:"): v for k, v in text.items() if k.startswith("vidgen:")}


def pictures_manifest(pngs: list[bytes], portrait_keys: dict[str, str]) -> dict:
    """For manifest.json: per scene, the seed its picture was drawn with and how many tries
    the safety checker flagged (backends that record them); each character's portrait key."""
    scenes = [{"scene": n + 1, **picture_notes(png)} for n, png in enumerate(pngs)]
    notes: dict = {"scenes": [s for s in scenes if len(s) > 1]}
    if portrait_keys:
        notes["portraits"] = dict(portrait_keys)
    notes["safety_redrawn_scenes"] = [s["scene"] for s in scenes
                                      if int(s.get("safety_flagged", 0))]
    return notes


def contact_sheet(portraits: dict[str, bytes], tile: int = 256) -> bytes:
    """All portraits in a grid with each name under its picture, as a PNG."""
    if not portraits:
        raise ValueError("a contact sheet needs at least one portrait")
    columns = min(4, len(portraits))
    rows = math.ceil(len(portraits) / columns)
    label = max(18, tile // 8)
    sheet = Image.new("RGB", (columns * tile, rows * (tile + label)), (24, 24, 28))
    draw = ImageDraw.Draw(sheet)
    for n, (name, png) in enumerate(portraits.items()):
        x, y = (n % columns) * tile, (n // columns) * (tile + label)
        face = Image.open(io.BytesIO(png)).convert("RGB").resize((tile, tile), Image.LANCZOS)
        sheet.paste(face, (x, y))
        draw.text((x + tile / 2, y + tile + label / 2), name, fill=(235, 235, 235),
                  anchor="mm")
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG")
    return buffer.getvalue()
