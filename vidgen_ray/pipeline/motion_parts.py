"""A job's moving shots (issue 21): for each scene with motion ``clip`` while a video model
is set (``video_model``), its generated clips and the one clip fitted to its frames.

Clip i of a scene animates the scene's picture (the main shape's, by its key) with its
motion prompt, from a seed derived from the scene's seed, at the model's native size nearest
the video's shape (motion/base.py native_size), ``ltx_frames`` long. Its key hashes the
picture's key, the request and the model's version, so a resumed or edited job makes only
what is missing; clip i does not depend on how many clips the scene needs, so clip 0 can be
made as soon as the picture exists, before speech fixes the scene's length.

The fitted clip (pipeline/clip_fit.py: chained, crossfaded, looped past
``max_clips_per_scene``) has exactly the frames the scene is on screen (the timeline's
Clip, transitions included), at the render's rate, in the video's shape; its key hashes its
clips' keys and the plan. A chunk showing the scene names that key (chunks.chunk_key) and
shows the fitted clip as it shows a user's own clip.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vidgen_ray.config import RenderSettings
from vidgen_ray.errors import ScriptError, SettingsError
from vidgen_ray.motion.base import MAX_SEED, ClipRequest, native_size
from vidgen_ray.pipeline import clip_fit
from vidgen_ray.programs import ffmpeg
from vidgen_ray.storage import content_key
from vidgen_ray.storyboard import Storyboard, stable_seed
from vidgen_ray.timeline import Timeline

FIT_VERSION = "clip-fit-1"  # bump when the fitted clip's pixels change
CLIP_KIND, FITTED_KIND = "motion", "motion-fit"  # part kinds (the store's folders)
SIZE_MULTIPLE = 32  # LTX-Video's latent grid (motion/ltx.py checks it again at the model)


def clip_scenes(storyboard: Storyboard, settings: RenderSettings) -> list[int]:
    """The scenes a video model animates: motion ``clip``, with a video model set."""
    if settings.video_model == "none":
        return []
    return [i for i, scene in enumerate(storyboard.scenes) if scene.motion == "clip"]


def clip_size(settings: RenderSettings) -> tuple[int, int]:
    """The generated clips' size: the model's native shape nearest the video's."""
    return native_size(settings.size, settings.ltx_clip_side, SIZE_MULTIPLE)


def fit_size(settings: RenderSettings) -> tuple[int, int]:
    """The fitted clip's size: the generated clip cropped to the video's shape (even sides;
    the chunks scale it to each output size, as they scale a user's clip)."""
    (width, height), (out_w, out_h) = clip_size(settings), settings.size
    if width * out_h > height * out_w:  # the clip is wider than the video
        width = height * out_w / out_h
    else:
        height = width * out_h / out_w
    return (max(2, int(width) // 2 * 2), max(2, int(height) // 2 * 2))


def clip_prompt(storyboard: Storyboard, scene: int) -> str:
    """How the shot moves: the scene's motion prompt, else its description."""
    shown = storyboard.scenes[scene]
    prompt = (shown.motion_prompt or shown.description or "").strip()
    if not prompt:
        raise ScriptError(f"scene {scene + 1} asks for a generated clip but has neither a "
                          "motion_prompt nor a description: say how the shot moves")
    return prompt


def clip_seed(storyboard: Storyboard, scene: int, index: int) -> int:
    """Clip ``index`` of ``scene``: the scene's seed for the first, then seeds derived from
    it (each clip of a chain starts from its own noise)."""
    seed = storyboard.scene_seed(scene)
    return seed % (MAX_SEED + 1) if index == 0 else stable_seed("clip", str(seed), str(index))


def clip_request(storyboard: Storyboard, settings: RenderSettings, scene: int, index: int,
                 picture: bytes) -> ClipRequest:
    width, height = clip_size(settings)
    return ClipRequest(
        picture=picture, prompt=clip_prompt(storyboard, scene),
        seed=clip_seed(storyboard, scene, index), width=width, height=height,
        frames=settings.ltx_frames, negative_prompt=settings.ltx_negative_prompt,
        fps=settings.ltx_fps, steps=settings.ltx_steps,
        guidance_scale=settings.ltx_guidance_scale,
        decode_timestep=settings.ltx_decode_timestep,
        decode_noise_scale=settings.ltx_decode_noise_scale)


def clip_key(storyboard: Storyboard, settings: RenderSettings, scene: int, index: int,
             picture_key: str, version: str) -> str:
    """Clip ``index`` of ``scene``: the picture by its key, the request but its bytes, and
    the model's version (what the workers loaded)."""
    fields = vars(clip_request(storyboard, settings, scene, index, b"")).copy()
    del fields["picture"]
    return content_key(CLIP_KIND, backend=settings.video_model, version=version,
                       picture=picture_key, request=fields)


def plan_fit(settings: RenderSettings, scene_frames: int) -> clip_fit.ClipPlan:
    """How a scene of ``scene_frames`` is filled with clips (clip_fit.fit_clips); a
    crossfade too long for the clips is the settings' error, naming the fix."""
    try:
        return clip_fit.fit_clips(scene_frames, settings.ltx_frames / settings.ltx_fps,
                                  settings.fps, round(settings.clip_crossfade * settings.fps),
                                  settings.max_clips_per_scene)
    except ValueError as exc:
        raise SettingsError(f"clip_crossfade {settings.clip_crossfade:g} s does not fit "
                            f"clips of {settings.ltx_frames} frames at {settings.ltx_fps} fps "
                            f"({exc}): make it shorter", field="clip_crossfade") from None


@dataclass(frozen=True)
class SceneClips:
    """One clip scene: its clips' keys (as many as its plan makes) and the fitted clip's."""

    scene: int
    plan: clip_fit.ClipPlan
    clip_keys: tuple[str, ...]
    fitted_key: str


def scene_clips(storyboard: Storyboard, settings: RenderSettings, scene: int, frames: int,
                picture_key: str, version: str) -> SceneClips:
    """The keys of a clip scene on screen for ``frames`` frames (pure)."""
    plan = plan_fit(settings, frames)
    keys = tuple(clip_key(storyboard, settings, scene, i, picture_key, version)
                 for i in range(plan.clips))
    fitted = content_key(FITTED_KIND, version=FIT_VERSION, clips=keys,
                         frames=plan.scene_frames, clip_frames=plan.clip_frames,
                         crossfade=plan.crossfade_frames, placements=plan.placements,
                         fps=settings.fps, size=fit_size(settings))
    return SceneClips(scene, plan, keys, fitted)


def scene_frames(timeline: Timeline) -> dict[int, int]:
    """Each scene's frames on screen (its Clip, transitions included): final for every
    scene of a timeline, also one planned while later scenes are still voiced."""
    return {clip.scene: clip.frames for clip in timeline.clips}


def render_fitted(work: Path, plan: clip_fit.ClipPlan, clips: list[bytes], fps: int,
                  size: tuple[int, int]) -> bytes:
    """The fitted clip's MP4 (clip_fit.fit_args) made by FFmpeg in the folder ``work``."""
    paths = []
    for index, data in enumerate(clips):
        paths.append(work / f"clip{index}.mp4")
        paths[-1].write_bytes(data)
    out = work / "fitted.mp4"
    ffmpeg(clip_fit.fit_args(plan, paths, fps, size, out))
    return out.read_bytes()
