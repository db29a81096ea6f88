"""A job's talking shots (issue 21, ``shots: talking``): which lines cut to a close-up of
their speaker, and each close-up's request and key (pure).

Every line a character speaks (not the narrator's) gets one: the character's cast portrait
(pipeline/pictures.py makes one per character when shots are talking) animated by the
talking workers from the line's own WAV, at the video's frame rate, so clip frame k is
video frame F + k where the line's speech starts on frame F (the timeline snaps it there:
timeline.plan_timeline's ``talking``). Its key hashes the portrait's key, the line's speech
key, the request and the workers' version: a resumed or edited job makes only what is new.
"""

from __future__ import annotations

from vidgen_ray.config import RenderSettings
from vidgen_ray.motion.base import MAX_SEED, native_size
from vidgen_ray.storage import content_key
from vidgen_ray.storyboard import NARRATOR, Storyboard, stable_seed

TALKING_KIND = "talking"  # the part kind (the store's folder)
SIZE_MULTIPLE = 32  # LTX-2's latent grid (motion/talking.py checks it again at the model)
Line = tuple[int, int]  # (scene, line within the scene), 0-based


def talking_lines(storyboard: Storyboard, settings: RenderSettings) -> frozenset[Line]:
    """The lines that cut to their speaker talking: every character's line, with talking
    shots on; none otherwise."""
    if settings.shots != "talking":
        return frozenset()
    return frozenset((s, n) for s, scene in enumerate(storyboard.scenes)
                     for n, line in enumerate(scene.lines) if line.speaker != NARRATOR)


def line_index(storyboard: Storyboard, scene: int, line: int) -> int:
    """The line's place in script order (speech keys are in that order)."""
    return sum(len(s.lines) for s in storyboard.scenes[:scene]) + line


def talking_size(settings: RenderSettings) -> tuple[int, int]:
    """A talking clip's size: the model's native shape nearest the video's (the chunks
    scale and crop it to the frame)."""
    return native_size(settings.size, settings.ltx2_clip_side, SIZE_MULTIPLE)


def talking_prompt(storyboard: Storyboard, speaker: str) -> str:
    """Who speaks: users report LTX-2 leaves a face still unless the prompt says it talks."""
    character = storyboard.character(speaker)
    who = (character.description.strip() if character else "") or speaker.title()
    return (f"Close-up portrait of {who}, speaking to the camera, lips moving clearly with "
            "each word, natural small head movements, steady camera")


def talking_seed(storyboard: Storyboard, scene: int, line: int) -> int:
    """A line's own noise, the same in every run."""
    return stable_seed("talking", str(storyboard.scene_seed(scene)), str(line)) % (MAX_SEED + 1)


def talking_fields(storyboard: Storyboard, settings: RenderSettings, scene: int,
                   line: int) -> dict:
    """A talking request's fields but its portrait and speech bytes
    (motion.talking.TalkingRequest)."""
    width, height = talking_size(settings)
    speaker = storyboard.scenes[scene].lines[line].speaker
    return dict(prompt=talking_prompt(storyboard, speaker),
                seed=talking_seed(storyboard, scene, line), width=width, height=height,
                fps=settings.fps)


def talking_key(storyboard: Storyboard, settings: RenderSettings, scene: int, line: int,
                portrait_key: str, speech_key: str, version: str) -> str:
    """A talking clip's key: the portrait and speech by their keys, the request, and the
    workers' version."""
    return content_key(TALKING_KIND, backend=settings.talking_model, version=version,
                       portrait=portrait_key, speech=speech_key,
                       request=talking_fields(storyboard, settings, scene, line))
