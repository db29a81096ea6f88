"""The video section: frame, pace, transitions, subtitles, outputs and encoding."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from vidgen_ray.config.scope import SERVER, Section

Resolution = Literal["360p", "480p", "720p", "1080p", "1440p", "2160p"]
Aspect = Literal["16:9", "9:16", "1:1"]
# How a scene gives way to the next, and camera moves: defined here so that the default
# setting and the storyboard (which imports them) share one list. See storyboard.py.
Transition = Literal["cut", "dissolve", "fade", "fade_black", "wipe_left", "wipe_right",
                     "slide_left", "slide_right"]
Camera = Literal["zoom_in", "zoom_out", "pan_left", "pan_right", "pan_up", "pan_down", "static"]
SubtitlePosition = Literal["bottom", "top"]
MAX_SIDE = 4096  # pixels: 2160p in either orientation (3840x2160, 2160x3840) fits

# Short side of the frame in pixels for each named resolution.
SHORT_SIDE = {"360p": 360, "480p": 480, "720p": 720, "1080p": 1080, "1440p": 1440, "2160p": 2160}
ASPECT_RATIO = {"16:9": (16, 9), "9:16": (9, 16), "1:1": (1, 1)}
# What --preview sets (RenderSettings.preview): a draft in a fraction of the time.
PREVIEW: dict[str, object] = {"resolution": "360p", "fps": 15, "x264_preset": "ultrafast",
                              "renditions": [], "stems": None}
# Subtitle reading speeds (characters a second) by audience: the streaming services' rules.
READING_SPEEDS = {"adult": 17.0, "default": 17.0, "children": 13.0}


class VideoSection(Section):
    """The frame and its pace, subtitles, extra outputs and the encoder."""

    resolution: Resolution = Field("720p", description="Frame height class of the video.")
    aspect: Aspect = Field("16:9", description="Frame shape: landscape, portrait or square.")
    fps: int = Field(30, ge=12, le=60, description="Frames per second.")
    preview: bool = Field(False, description="A fast draft: 360p, 15 fps, the fastest x264 "
                          "preset, no renditions or stems (a size, fps or preset given is kept).")
    crossfade: float = Field(0.5, ge=0.0, le=2.0, description="Transition length in seconds.")
    transition: Transition = Field(
        "dissolve", description="Transition for scenes whose storyboard leaves it empty.")
    burn_subtitles: bool = Field(False, description="Draw the subtitles into the picture too.")
    subtitle_font: str = Field("DejaVu Sans", min_length=1, description="Burn-in font family.")
    subtitle_fonts_dir: str = Field(
        "/usr/share/fonts/truetype/dejavu", min_length=1,
        description="Folder holding the burn-in font (fonts-dejavu-core installs this one).")
    subtitle_size: int = Field(
        48, ge=8, le=300, description="Burn-in text height in pixels of a 1080-line frame.")
    subtitle_outline: float = Field(
        3.0, ge=0.0, le=20.0, description="Burn-in outline width in pixels of a 1080-line frame.")
    subtitle_position: SubtitlePosition = Field("bottom", description="Burn-in: bottom or top.")
    subtitle_box: bool = Field(False, description="Burn-in on a dark background box.")
    subtitle_max_cps: float = Field(
        17.0, ge=5.0, le=40.0, description="Subtitle reading speed, characters a second at "
        "most, or a preset: adult/default (17), children (13).")
    subtitle_speakers: bool = Field(
        False, description="Name the speaker in the subtitles where their turn begins "
        "(SDH style: 'MARA: ...', a dash for each speaker in a two-speaker cue).")
    # NoDecode: the environment gives "otio,fcpxml" as a flag does, not JSON.
    timeline_formats: Annotated[list[Literal["otio", "fcpxml", "edl"]], NoDecode] = Field(
        default_factory=lambda: ["otio"], max_length=3,
        description="Editable timelines written beside the video: otio (timeline.otio), "
        "fcpxml (timeline.fcpxml), edl (timeline.edl, pictures only); empty writes none.")
    qc_strict: bool = Field(False, description="Fail the job when the QC report (qc.json) "
                            "finds a violation.")
    renditions: list[str] = Field(
        default_factory=list, max_length=8,
        description="More outputs besides the main one, each WIDTHxHEIGHT, e.g. 1080x1920.")
    chunk_seconds: float = Field(
        10.0, ge=1.0, le=600.0, description="Length of the video pieces encoded in parallel."
    )
    crf: int = Field(20, ge=0, le=51, description="x264 quality; lower is better and larger.")
    x264_preset: Literal["ultrafast", "superfast", "veryfast", "faster", "fast", "medium"] = (
        "veryfast"
    )
    # x264 by default: its output is the same on every farm, and NVENC's quality level was
    # not measured against it on a card (BENCHMARKS.md "Hardware encoders"). A job's choice,
    # checked against the farm's hardware at submit (pipeline/encoders.py).
    encoder: Literal["auto", "x264", "nvenc"] = Field(
        "x264", description="Video encoder: x264 (CPU), nvenc (an NVIDIA card's hardware "
        "encoder: L4, A10G, L40S, RTX; H100 and H200 have none) or auto (NVENC where the "
        "chunks are encoded has one, else x264). One encoder for every chunk of a render.")
    # One thread per chunk, one chunk per CPU: the fastest on 2 CPUs when the machine was
    # quiet enough to tell (render_chunks.py, BENCHMARKS.md). Each chunk task reserves this
    # many CPUs from Ray.
    ffmpeg_threads: Annotated[int, SERVER] = Field(
        1, ge=1, le=64, description="Threads per chunk encode.")
    seed: int = Field(0, ge=0, description="Varies camera moves and sound; same seed, same video.")

    @field_validator("timeline_formats", mode="before")
    @classmethod
    def _formats_list(cls, value: object) -> object:
        # "otio,fcpxml" from a flag or the environment, as well as a list.
        if isinstance(value, str) and not value.lstrip().startswith("["):
            return [part.strip().lower() for part in value.split(",") if part.strip()]
        return value

    @field_validator("subtitle_max_cps", mode="before")
    @classmethod
    def _reading_speed_preset(cls, value: object) -> object:
        name = value.strip().lower() if isinstance(value, str) else None
        if name is not None and not is_number(name):
            if name not in READING_SPEEDS:
                raise ValueError(f"subtitle reading speed {value!r} is neither a number of "
                                 f"characters a second nor a preset: use one of "
                                 f"{', '.join(READING_SPEEDS)} or e.g. 15")
            return READING_SPEEDS[name]
        return value

    @field_validator("subtitle_font")
    @classmethod
    def _font_name(cls, name: str) -> str:
        # The name goes into the ASS script's style line: a comma or a line break there
        # would shift or add fields.
        if any(ch in name for ch in ",\r\n{}\\") or not name.isprintable():
            raise ValueError(f"subtitle font {name!r} holds a comma, brace, backslash or "
                             "control character: give a font family name such as DejaVu Sans")
        return name

    @field_validator("renditions")
    @classmethod
    def _rendition_sizes(cls, renditions: list[str]) -> list[str]:
        for text in renditions:
            rendition_size(text)
        return renditions

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels, both even as H.264 4:2:0 requires."""
        short = SHORT_SIDE[self.resolution]
        w, h = ASPECT_RATIO[self.aspect]
        if w >= h:
            return (round(short * w / h / 2) * 2, short)
        return (short, round(short * h / w / 2) * 2)

    @property
    def rendition_sizes(self) -> list[tuple[int, int]]:
        """(width, height) of each extra output, in order, without repeats of the main one."""
        sizes = []
        for text in self.renditions:
            size = rendition_size(text)
            if size != self.size and size not in sizes:
                sizes.append(size)
        return sizes


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def rendition_size(text: str) -> tuple[int, int]:
    """"1080x1920" -> (1080, 1920); both sides even (H.264 4:2:0) and 16..MAX_SIDE."""
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not match:
        raise ValueError(f"rendition {text!r} is not WIDTHxHEIGHT: write e.g. 1080x1920")
    width, height = int(match[1]), int(match[2])
    for side in (width, height):
        if side % 2 or not 16 <= side <= MAX_SIDE:
            raise ValueError(f"rendition {text!r}: each side must be even and 16-{MAX_SIDE} "
                             "pixels, e.g. 1280x720 or 3840x2160")
    return width, height
