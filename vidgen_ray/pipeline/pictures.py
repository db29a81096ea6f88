"""A job's pictures: each scene's request and key for every shape the outputs have, the
characters' reference portraits, and the user's own stills.

A picture's key hashes its request (and, with IP-Adapter, the keys of the portraits it is
drawn from), so a picture made before is found again. A scene that shows the user's own
picture or clip has one still, keyed by the file's digest, for every shape.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

from vidgen_ray.config import RenderSettings
from vidgen_ray.errors import RenderError, VidgenError, client_message
from vidgen_ray.images import card_text, key_version, picture_sampling, portraits, wants_portraits
from vidgen_ray.images.base import CharacterLook, ImageRequest, Sampling
from vidgen_ray.pipeline import media
from vidgen_ray.pipeline.executor import Executor
from vidgen_ray.storage import LocalStore, content_key
from vidgen_ray.storyboard import Media, Storyboard


@dataclass
class PicturePlan:
    requests: list[ImageRequest]  # every shape's scenes, the main shape first
    keys: list[str]  # one per request
    shape_keys: dict[tuple[int, int], list[str]]  # each picture size, its scenes' keys
    portrait_keys: dict[str, str]  # character -> its portrait's key
    looks: dict[str, CharacterLook]
    side: int  # a portrait's side in pixels
    own: dict[int, Media]  # scene -> the user's own picture or clip
    portrait_sampling: Sampling | None = None  # how portraits are drawn (SDXL)

    @property
    def image_keys(self) -> list[str]:
        """The main size's pictures."""
        return next(iter(self.shape_keys.values()))


def plan_pictures(storyboard: Storyboard, settings: RenderSettings,
                  version: str) -> PicturePlan:
    """Every picture's request and key (keys first: chunks streaming early look them up).
    ``version``: the image workers' (what they loaded); keys name it with the job's drawing
    options (images.key_version)."""
    version = key_version(settings, version)
    shapes = list(dict.fromkeys(settings.picture_sizes.values()))
    # Scenes are drawn from the looks with SDXL; talking shots need the portraits whatever
    # draws the scenes (cards then draw each character's card).
    drawn = portraits.character_looks(storyboard) if wants_portraits(settings) else {}
    looks = drawn or (portraits.character_looks(storyboard)
                      if settings.shots == "talking" else {})
    side = portraits.portrait_side(settings.image_resolution)
    portrait_keys = {name: content_key("portrait", **portraits.portrait_key_fields(
        settings.image_model, version, look, side)) for name, look in looks.items()}
    requests = [_request(storyboard, settings, i, drawn, width, height)
                for width, height in shapes for i in range(len(storyboard.scenes))]
    references = portrait_keys if settings.ip_adapter else {}  # portraits count by their keys
    keys = [content_key("image", backend=settings.image_model, version=version,
                        request=portraits.scene_key_fields(r, references)) for r in requests]
    count = len(storyboard.scenes)
    own = {i: s.media for i, s in enumerate(storyboard.scenes) if s.media}
    for i, shown in own.items():  # the user's own picture or clip: the still of every shape
        key = content_key("image", shown=shown.kind,
                          own=own_media(i, media.digest_checked, shown.path))
        for shape in range(len(shapes)):
            keys[shape * count + i] = key
    shape_keys = {shape: keys[k * count:(k + 1) * count] for k, shape in enumerate(shapes)}
    return PicturePlan(requests, keys, shape_keys, portrait_keys, looks, side, own,
                       picture_sampling(settings, side, side, portrait=True))


def _request(storyboard: Storyboard, settings: RenderSettings, i: int,
             looks: dict[str, CharacterLook], width: int, height: int) -> ImageRequest:
    scene = storyboard.scenes[i]
    narration = card_text.shows_narration(settings.card_text, settings.burn_subtitles)
    return ImageRequest(scene_number=i + 1, title=scene.title, description=scene.description,
                        characters=tuple(scene.characters), mood=scene.mood, width=width,
                        height=height, seed=portraits.picture_seed(storyboard, i, looks),
                        looks=tuple(looks[n] for n in scene.characters if n in looks),
                        language=storyboard.language, caption=card_text.card_words(
                            scene.description, [line.text for line in scene.lines],
                            narration), sampling=picture_sampling(settings, width, height))


def own_media(scene: int, read, *args):
    """``read(*args)`` on a scene's own media; a failure is the scene's pictures'."""
    try:
        return read(*args)
    except VidgenError as exc:
        raise RenderError(f"scene {scene + 1}: {exc}", stage="images", scene=scene,
                          public=f"scene {scene + 1}: {client_message(exc)}") from exc


async def store_own_stills(plan: PicturePlan, store: LocalStore) -> None:
    """The still of each scene that shows the user's own picture or clip, unless stored."""
    for i, shown in plan.own.items():
        if not store.has(plan.image_keys[i]):
            _, png = await asyncio.to_thread(own_media, i, media.own_still, shown.kind,
                                             shown.path)
            store.put(plan.image_keys[i], png)


async def make_portraits(plan: PicturePlan, executor: Executor, store: LocalStore
                         ) -> dict[str, bytes]:
    """Each character's reference portrait, made once by the image workers and kept under
    its content key, so later scenes and later jobs reuse it."""
    keys = plan.portrait_keys
    missing = [name for name in plan.looks if not store.has(keys[name])]
    requests = [portraits.portrait_request(plan.looks[name], plan.side, plan.portrait_sampling)
                for name in missing]
    async for n, png in executor.map("image", requests):
        store.put(keys[missing[n]], png)
    return {name: store.get(keys[name]) for name in plan.looks}


def drawn_from(requests: list[ImageRequest], drawn: dict[str, bytes]) -> list[ImageRequest]:
    """The requests with each character's portrait attached (IP-Adapter draws from it)."""
    return [replace(r, looks=tuple(replace(x, portrait=drawn[x.name]) for x in r.looks))
            for r in requests]
