"""The storyboard: what a script means, as data. Analysers write it, renderers read it.

It is saved with every render (``storyboard.json``) and can be edited and rendered again
exactly as written, so every field has a default a person can leave out.
"""

from __future__ import annotations

import hashlib
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from vidgen_ray.config import Camera, Transition

NARRATOR = "NARRATOR"

Mood = Literal["neutral", "calm", "tense", "joyful", "sad", "mysterious", "epic"]
Ambience = Literal[
    "none", "room", "rain", "wind", "ocean", "forest", "city", "night", "fire", "crowd"
]
# Transition and Camera: the meanings are in README "Transitions" and "Camera moves".
# How a scene's picture moves (README "Moving shots"): held, a camera move, or a generated clip.
Motion = Literal["still", "camera", "clip"]
Effect = Literal["thunder", "door", "footsteps", "knock", "phone", "explosion", "bell"]
EFFECTS: tuple[str, ...] = get_args(Effect)


def stable_seed(*parts: str) -> int:
    """A seed that depends only on the given text, the same in every process and run."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Character(_Model):
    name: str = Field(min_length=1, description="As written in the script, upper case.")
    description: str = Field("", description="Fixed visual description, used in every picture.")
    voice: str | None = Field(
        None, description="Voice for the speech backend; chosen by casting when empty."
    )
    seed: int | None = Field(None, ge=0, description="Stable seed; derived from the name.")
    gender: Literal["female", "male"] | None = Field(
        None, description="Casts the voice; empty: unknown (voices then alternate).")
    age: Literal["child", "young", "adult", "old"] | None = Field(
        None, description="Casting hint for the voice and the look; empty: unknown.")

    @model_validator(mode="after")
    def _default_seed(self) -> Character:
        if self.seed is None:
            self.seed = stable_seed("character", self.name)
        return self


class Line(_Model):
    speaker: str = Field(NARRATOR, min_length=1, description="A character name or NARRATOR.")
    text: str = Field(min_length=1)
    parenthetical: str | None = Field(None, description="Delivery note, e.g. 'whispering'.")
    extension: str | None = Field(None, description="Cue extension such as V.O. or O.S.")
    language: str | None = Field(None, description="Overrides the storyboard's language.")

    @field_validator("text")
    @classmethod
    def _not_blank(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("a line needs text to speak: write the words or delete the line")
        return text.strip()


class SoundCue(_Model):
    """A one-shot sound in a scene: just before line ``line`` (0-based; the number of lines
    means after the last), or ``offset`` seconds after the scene starts; neither: once the
    scene is on screen (after its dissolve)."""

    name: Effect
    line: int | None = Field(None, ge=0, description="Sounds just before this line (0-based).")
    offset: float | None = Field(None, ge=0, le=3600, description="Seconds after scene start.")

    @model_validator(mode="after")
    def _one_place(self) -> SoundCue:
        if self.line is not None and self.offset is not None:
            raise ValueError(f"sound {self.name!r} has both a line and an offset: keep one")
        return self


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".mpg", ".mpeg")


def media_kind(path: str) -> Literal["image", "video"] | None:
    """A file's kind by its name: a picture, a video clip, or None when the name says not."""
    suffix = "." + path.rsplit(".", 1)[-1].lower() if "." in path else ""
    return "image" if suffix in IMAGE_SUFFIXES else "video" if suffix in VIDEO_SUFFIXES else None


class Media(_Model):
    """A picture or clip of your own, shown for the scene instead of a made picture, with
    the scene's camera move and transitions. A picture is scaled and cropped to cover the
    frame; a clip too, and trimmed to the scene's length or looped to fill it (its sound is
    not used). A relative path is read from the script's (or storyboard's) folder; through
    the service it names a file uploaded with the job."""

    path: str = Field(min_length=1, description="The picture or clip file.")
    kind: Literal["image", "video"] | None = Field(
        None, description="image or video; empty: told by the file name's extension.")

    @model_validator(mode="after")
    def _known_kind(self) -> Media:
        if self.kind is None:
            self.kind = media_kind(self.path)
        if self.kind is None:
            raise ValueError(
                f"{self.path!r}: cannot tell a picture from a clip by its name: use a "
                f"picture ({', '.join(IMAGE_SUFFIXES)}) or a clip "
                f"({', '.join(VIDEO_SUFFIXES)}), or set kind to image or video")
        return self


class Scene(_Model):
    title: str = ""
    description: str = Field("", description="What the picture shows.")
    lines: list[Line] = Field(default_factory=list)
    characters: list[str] = Field(default_factory=list, description="Names present.")
    mood: Mood = "neutral"
    ambience: Ambience = "none"
    transition: Transition | None = Field(
        None, description="How this scene gives way to the next; empty: the render's default.")
    camera: Camera | None = Field(
        None, description="Camera move on the picture; empty: chosen by the render's seed.")
    motion: Motion | None = Field(
        None, description="still: the picture held (no move); camera: a camera move; clip: a "
        "generated motion clip (until a video model is set: a camera move); empty: camera.")
    motion_prompt: str = Field(
        "", description="How the shot moves, for a generated clip, e.g. 'slow dolly in, rain "
        "streaks the window'.")
    seed: int | None = Field(None, ge=0)
    sfx: list[SoundCue] = Field(default_factory=list, description="One-shot sound effects.")
    media: Media | None = Field(
        None, description="Your own picture or clip for this scene; empty: a made picture.")
    music: str | None = Field(
        None, description="A music file for this scene, or 'none' for silence; empty: the "
        "render's --music, else music made for the mood.")

    @model_validator(mode="after")
    def _cues_in_range(self) -> Scene:
        for cue in self.sfx:
            if cue.line is not None and cue.line > len(self.lines):
                raise ValueError(f"sound {cue.name!r} is placed before line {cue.line} but the "
                                 f"scene has {len(self.lines)} lines: use 0 to "
                                 f"{len(self.lines)} or an offset")
        return self

    @model_validator(mode="after")
    def _motion_agrees(self) -> Scene:
        if self.motion == "still" and self.camera not in (None, "static"):
            raise ValueError(f"motion 'still' holds the picture but camera is {self.camera!r}: "
                             "set camera to 'static' or leave it out, or set motion to "
                             "'camera' to keep the move")
        if self.motion == "clip" and self.media is not None:
            # Refused rather than ignored: a clip from the user's own picture may come with
            # the video model, and accepting later is compatible where ignoring is not.
            raise ValueError(f"motion 'clip' asks for a generated clip but media shows your own "
                             f"{self.media.kind} {self.media.path!r}: leave motion out (or set "
                             "it to 'still' or 'camera'), or remove media")
        return self


class Storyboard(_Model):
    title: str = "Untitled"
    language: str = Field("en", min_length=2, description="Language code, e.g. en, fr, ar.")
    source_format: Literal["prose", "markdown", "fountain", "storyboard"] = "storyboard"
    characters: list[Character] = Field(default_factory=list)
    scenes: list[Scene] = Field(default_factory=list)
    metadata: dict[str, str] = Field(default_factory=dict, description="Title page and such.")

    @model_validator(mode="after")
    def _consistent(self) -> Storyboard:
        names = [c.name for c in self.characters]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"character {duplicates[0]!r} is listed twice: keep one entry")
        known = set(names) | {NARRATOR}
        for number, scene in enumerate(self.scenes, 1):
            for line in scene.lines:
                if line.speaker not in known:
                    raise ValueError(
                        f"scene {number}: speaker {line.speaker!r} is not in the character "
                        f"list: add it to 'characters' or use {NARRATOR}"
                    )
        return self

    def character(self, name: str) -> Character | None:
        return next((c for c in self.characters if c.name == name), None)

    def scene_seed(self, index: int) -> int:
        scene = self.scenes[index]
        return scene.seed if scene.seed is not None else stable_seed("scene", str(index))

    def line_count(self) -> int:
        return sum(len(scene.lines) for scene in self.scenes)
