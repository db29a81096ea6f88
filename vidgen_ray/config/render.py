"""RenderSettings: what a render is made with, composed of the sections (video, sound,
speech, image, motion, beds, analysis, farm), and load_settings, the one way to read them.

The sections are mixins, so every setting stays a flat attribute (``settings.fps``) with a
flat name in JSON, flags and the environment (``VIDGEN_FPS``). Which fields a job may
choose, and which the manifest records, is asked of their scope (config/scope.py).
"""

from __future__ import annotations

from pydantic import BaseModel, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from vidgen_ray.config.analysis import AnalysisSection
from vidgen_ray.config.backends.bark import BarkSettings
from vidgen_ray.config.backends.kokoro import KokoroSettings
from vidgen_ray.config.backends.ltx import LtxSettings
from vidgen_ray.config.backends.ltx2 import Ltx2Settings
from vidgen_ray.config.backends.sdxl import SdxlSettings
from vidgen_ray.config.backends.stable_audio import StableAudioSettings
from vidgen_ray.config.beds import BedsSection
from vidgen_ray.config.farm import FarmSection
from vidgen_ray.config.image import ImageSection
from vidgen_ray.config.motion import MotionSection
from vidgen_ray.config.scope import unrecorded_fields
from vidgen_ray.config.sound import SoundSection
from vidgen_ray.config.speech import SpeechSection
from vidgen_ray.config.video import MAX_SIDE, PREVIEW, VideoSection
from vidgen_ray.errors import SettingsError

# Sections in reverse: pydantic lists the fields of the last base first, so a dump, the
# OpenAPI schema and the flags read video, sound, speech, image, motion, beds, analysis, farm.
SECTIONS = (VideoSection, SoundSection, SpeechSection, ImageSection, MotionSection,
            BedsSection, AnalysisSection, FarmSection)


class RenderSettings(FarmSection, AnalysisSection, BedsSection, MotionSection, ImageSection,
                     SpeechSection, SoundSection, VideoSection, BaseSettings):
    """What a render is made with. The defaults need no GPU, no key and no download."""

    model_config = SettingsConfigDict(env_prefix="VIDGEN_", extra="forbid", populate_by_name=True,
                                      defer_build=False)

    @model_validator(mode="after")
    def _preview_draft(self) -> RenderSettings:
        # A quick look (--preview): small, few frames, fastest encode, nothing extra. A size,
        # frame rate or x264 preset given explicitly is kept; renditions and stems are not.
        if self.preview:
            given = self.model_fields_set
            for name, value in PREVIEW.items():
                if name not in given or name in ("renditions", "stems"):
                    object.__setattr__(self, name, value)
        return self

    @property
    def picture_size(self) -> tuple[int, int]:
        """Pictures keep the main frame's shape, made large enough for every rendition to
        cover its own frame by cropping, without enlarging (up to MAX_SIDE)."""
        width, height = self.size
        grow = max([1.0, *(max(w / width, h / height) for w, h in self.rendition_sizes)])
        grow = min(grow, MAX_SIDE / max(width, height))
        return (round(width * grow / 2) * 2, round(height * grow / 2) * 2)

    @property
    def picture_sizes(self) -> dict[tuple[int, int], tuple[int, int]]:
        """Each output size (the main one first) -> the size its pictures are drawn at.

        Every shape gets its own pictures, drawn for it: a 9:16 rendition of a 16:9 render
        has its cards laid out again for 9:16, never cut from the 16:9 ones. Sizes of one
        shape share pictures large enough for the largest. Only SDXL pictures with
        ``rendition_pictures=crop`` (or ``subject``) are drawn once, at ``picture_size``,
        and cropped at the centre (or around the subject) for every shape (one diffusion
        pass instead of one per shape)."""
        sizes = [self.size, *self.rendition_sizes]
        if self.image_model == "sdxl" and self.rendition_pictures in ("crop", "subject"):
            return dict.fromkeys(sizes, self.picture_size)
        shapes: list[list[tuple[int, int]]] = []
        for w, h in sizes:
            same = [g for g in shapes if abs(g[0][0] / g[0][1] - w / h) <= 0.01 * w / h]
            if same:
                same[0].append((w, h))
            else:
                shapes.append([(w, h)])
        out: dict[tuple[int, int], tuple[int, int]] = {}
        for group in shapes:
            width, height = group[0]
            grow = max(max(w / width, h / height) for w, h in group)
            grow = min(grow, MAX_SIDE / max(width, height))
            picture = (round(width * grow / 2) * 2, round(height * grow / 2) * 2)
            out.update(dict.fromkeys(group, picture))
        return out

    def for_manifest(self) -> dict:
        """Settings that shape the output; where and how the work ran does not (scope)."""
        return self.model_dump(exclude=set(unrecorded_fields(type(self))))


# The backends with options of their own (config/backends/); the others read none.
BACKEND_SETTINGS: dict[str, type[BaseModel]] = {
    options.BACKEND: options for options in (KokoroSettings, BarkSettings, SdxlSettings,
                                             LtxSettings, Ltx2Settings, StableAudioSettings)}


def load_fields(name: str) -> tuple[str, ...]:
    """The settings that decide what backend ``name`` loads (its LOAD_FIELDS); none for the
    embedded backends (cards, espeak), which load nothing."""
    options = BACKEND_SETTINGS.get(name)
    return options.LOAD_FIELDS if options else ()


def backend_options(settings: RenderSettings, kind: str) -> tuple[str, tuple]:
    """A pool's key: the backend a pool of this kind ("image", "speech", "motion", "talking"
    or "beds") runs and the values of the settings that decide what its workers load
    (load_fields). Jobs share a pool when these agree; what they ask of it (size, steps,
    style, temperature) travels with each request."""
    name = {"image": settings.image_model, "speech": settings.tts_model,
            "motion": settings.video_model, "talking": settings.talking_model,
            "beds": settings.bed_model}[kind]
    return name, tuple((field, repr(getattr(settings, field))) for field in load_fields(name))


def load_settings(**overrides) -> RenderSettings:
    """Environment, then overrides (CLI flags); a bad value becomes a SettingsError."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return RenderSettings(**given)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(p) for p in error["loc"]) or "settings"
        value = error.get("input")
        raise SettingsError(
            f"setting {field}={value!r} is not allowed: {error['msg']}", field=field
        ) from None
