"""The video's chunks: each one's key, its burned subtitles, and its encode.

A chunk is frames [a, b) of the timeline at one output size. Its key hashes everything the
frames are made from (the pictures' keys, the timeline's segments and clips, the talking
clips shown, the encoder and its arguments, the burned subtitles), so a chunk encoded before
is found again and an edit redoes only the chunks it touches.
"""

from __future__ import annotations

import io

from vidgen_ray.config import RenderSettings
from vidgen_ray.errors import MediaError, RenderError, VidgenError, client_message
from vidgen_ray.pipeline import assembly, encoders, subtitles
from vidgen_ray.pipeline.executor import Executor, Parts
from vidgen_ray.storage import content_key
from vidgen_ray.storyboard import Storyboard
from vidgen_ray.timeline import OVERLAPPING, Pacing, Timeline, transition_after


def pacing(settings: RenderSettings) -> Pacing:
    return Pacing(fps=settings.fps, crossfade=settings.crossfade,
                  transition=settings.transition)


def chunk_key(timeline: Timeline, start: int, end: int, size: tuple[int, int],
              image_keys: list[str], storyboard: Storyboard, settings: RenderSettings,
              generated: dict[int, str] | None = None,
              talking: dict[int, str] | None = None) -> str:
    """``image_keys``: the pictures of the shape ``size`` is made from, by scene;
    ``generated``: the fitted motion clip's key of each scene a video model animates;
    ``talking``: the talking clip's key of each shot (timeline.shots index) (pure)."""
    scenes = assembly.scenes_in(timeline, start, end)
    shots = shown_talking(timeline, start, end, talking)
    return content_key(
        "chunk", assembly=assembly.ASSEMBLY_VERSION, start=start, end=end,
        segments=timeline.segments(start, end), clips=[timeline.clips[s] for s in scenes],
        images=[image_keys[s] for s in scenes], size=size,
        fps=timeline.fps, encoder=encoders.encoder_args(settings),
        subtitles=burned_script(timeline, start, end, size, storyboard, settings),
        fonts=settings.subtitle_fonts_dir if settings.burn_subtitles else None,
        # Only when asked for, so the keys of every other chunk stay what they were.
        **({"framing": "subject"} if settings.rendition_pictures == "subject" else {}),
        # The fitted clips of the scenes shown, only in chunks that show one.
        **({"motion": [generated.get(s) for s in scenes]}
           if generated and set(generated) & set(scenes) else {}),
        # The talking shots shown (where each starts and its clip), only in chunks that show one.
        **({"talking": [[timeline.shots[i].start, timeline.shots[i].end, key]
                        for i, key in shots.items()]} if shots else {}),
        # The resolved encoder (encoders.py), likewise only when it is not x264.
        **({"video_encoder": settings.encoder} if settings.encoder != "x264" else {}))


def shown_talking(timeline: Timeline, start: int, end: int,
                  talking: dict[int, str] | None) -> dict[int, str]:
    """The talking clips' keys of the shots frames [start, end) show, by shot index, in
    order; a shot shown without its clip's key is refused (its chunk cannot be made)."""
    shots = assembly.shots_in(timeline, start, end)
    missing = [i for i in shots if i not in (talking or {})]
    if missing:
        shot = timeline.shots[missing[0]]
        raise ValueError(f"frames {start}-{end} show the talking shot of scene "
                         f"{shot.scene + 1} line {shot.line + 1} (shot {missing[0]}): give "
                         "its talking clip's key (talking)")
    return {i: talking[i] for i in shots}


def burned_script(timeline: Timeline, start: int, end: int, size: tuple[int, int],
                  storyboard: Storyboard, settings: RenderSettings) -> str | None:
    """The ASS script burned into frames [start, end), or None without burn-in."""
    if not settings.burn_subtitles:
        return None
    cuts = subtitles.scene_cuts(timeline, _next_fade(timeline, storyboard, settings))
    return subtitles.burn_script(timeline.cues, timeline.fps, start, end, settings, size, cuts)


def _next_fade(timeline: Timeline, storyboard: Storyboard,
               settings: RenderSettings) -> int | None:
    """Frames the transition after the timeline's last scene will overlap it, when the
    timeline stops short of the storyboard (chunks made while later scenes are voiced)."""
    last = len(timeline.clips) - 1
    if last + 1 >= len(storyboard.scenes):
        return None
    kind = transition_after(storyboard, last, pacing(settings))
    return round(settings.crossfade * timeline.fps) if kind in OVERLAPPING else 0


async def encode(executor: Executor, timeline: Timeline, start: int, end: int,
                 size: tuple[int, int], stills: dict[int, str], parts: Parts,
                 storyboard: Storyboard, settings: RenderSettings,
                 generated: dict[int, str] | None = None,
                 talking: dict[int, str] | None = None) -> tuple[bytes, str]:
    """The chunk's MP4 and the node that encoded it. ``stills``: each scene's picture by its
    part key in ``parts`` (assembly.scenes_in's: not those shown only through talking
    shots); a scene that shows the user's own clip is encoded from the clip instead, and
    one a video model animates from its fitted clip (``generated``: part keys in
    ``parts``); ``talking``: each shot's talking clip by its part key, for the shots shown.
    A failure names the scene it fails for."""
    shown = {s: storyboard.scenes[s].media for s in stills}
    clips = {s: m.path for s, m in shown.items() if m and m.kind == "video"}
    generated = {s: key for s, key in (generated or {}).items() if s in stills}
    stills = {s: key for s, key in stills.items() if s not in clips and s not in generated}
    talking = shown_talking(timeline, start, end, talking)
    try:
        return await executor.encode_chunk(
            timeline, start, end, stills, parts, settings, size,
            burned_script(timeline, start, end, size, storyboard, settings), clips or None,
            **({"generated": generated} if generated else {}),
            **({"talking": talking} if talking else {}))
    except MediaError:  # the user's clip is gone since the render started: it says so
        raise
    except VidgenError as exc:
        scene = blame({s: parts.get(key) for s, key in stills.items()})
        what = f"frames {start}-{end} at {size[0]}x{size[1]}"
        what = what if scene is None else f"scene {scene + 1} ({what})"
        raise RenderError(f"{what}: {exc}", stage="video", scene=scene,
                          public=f"{what}: {client_message(exc)}") from exc


def blame(stills: dict[int, bytes]) -> int | None:
    """The scene a failed chunk fails for: the one whose picture does not decode, else the
    first it shows (a chunk showing two scenes fails for either)."""
    from PIL import Image, UnidentifiedImageError

    for scene, data in stills.items():
        try:
            with Image.open(io.BytesIO(data)) as image:
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            return scene
    return min(stills, default=None)
