"""A job's generated beds (issue 21, ``music_model`` / ``ambience_model`` stable_audio): for
each scene, its music bed from its mood and its ambience bed from its place, made by the bed
workers (beds/) and mixed as a user's music file is.

A scene gets a generated music bed when music_model asks for one and nothing else plays
there: no music file of its own or of the render's, not 'none', music_volume above 0. It
gets a generated ambience bed when ambience_model asks for one and its ambience is not
'none' (ambience_volume above 0). The rest keep the procedural beds.

Each bed is exactly as long as its scene is on screen (the timeline's clip, dissolves
included), so beds are made once the full timeline is known, beside the chunks; the model
makes one piece up to its window (~47 s) and longer scenes loop it with crossfades
(beds/fit.py). Its key hashes the request (kind, prompt, samples, seed, steps, guidance,
negative prompt) and the workers' version: a resumed job makes only what is missing, and an
edited line remakes only the beds of the scenes whose length it changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from vidgen_ray.beds.base import MAX_SEED, NEGATIVE, BedRequest, bed_prompt
from vidgen_ray.config import RenderSettings
from vidgen_ray.errors import RenderError, VidgenError, client_message
from vidgen_ray.pipeline.executor import Executor
from vidgen_ray.storage import LocalStore, content_key
from vidgen_ray.storyboard import Storyboard, stable_seed
from vidgen_ray.timeline import Timeline

BED_KIND = "bed"  # the parts' kind (the store's folder)


def bed_scenes(storyboard: Storyboard, settings: RenderSettings) -> dict[str, list[int]]:
    """The scenes whose music and whose ambience a bed model makes (empty: none)."""
    music = ambience = []
    if settings.music_model == "stable_audio" and settings.music_volume > 0:
        music = [i for i, s in enumerate(storyboard.scenes) if not (s.music or settings.music)]
    if settings.ambience_model == "stable_audio" and settings.ambience_volume > 0:
        ambience = [i for i, s in enumerate(storyboard.scenes) if s.ambience != "none"]
    return {kind: scenes for kind, scenes in (("music", music), ("ambience", ambience))
            if scenes}


def uses_beds(storyboard: Storyboard, settings: RenderSettings) -> bool:
    """Whether the job needs bed workers at all."""
    return bool(bed_scenes(storyboard, settings))


def bed_request(storyboard: Storyboard, settings: RenderSettings, kind: str, scene: int,
                seconds: float) -> BedRequest:
    """Scene ``scene``'s ``kind`` bed, ``seconds`` long, with every value the key needs
    spelt out (the negative prompt resolved to the kind's own when unset)."""
    shown = storyboard.scenes[scene]
    prompt = bed_prompt(shown.mood, shown.ambience, kind)
    seed = stable_seed("bed", kind, str(settings.seed), str(storyboard.scene_seed(scene)))
    negative = settings.stable_audio_negative_prompt
    return BedRequest(kind=kind, prompt=prompt, seconds=seconds, seed=seed % (MAX_SEED + 1),
                      negative_prompt=NEGATIVE[kind] if negative is None else negative,
                      steps=settings.stable_audio_steps,
                      guidance_scale=settings.stable_audio_guidance_scale)


def bed_key(request: BedRequest, version: str) -> str:
    return content_key(BED_KIND, bed=request.kind, prompt=request.prompt,
                       samples=request.samples, seed=request.seed,
                       negative=request.negative_prompt, steps=request.steps,
                       guidance=request.guidance_scale, version=version)


@dataclass
class BedPlan:
    """Every generated bed of a job: its request, key, kind and scene, in one order."""

    requests: list[BedRequest] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    made: list[tuple[str, int]] = field(default_factory=list)  # (kind, scene) of each

    def by_scene(self) -> dict[str, dict[int, str]]:
        """{"music": {scene: key}, "ambience": {scene: key}}, kinds without beds left out:
        what the soundtrack's key and the mix take."""
        out: dict[str, dict[int, str]] = {}
        for (kind, scene), key in zip(self.made, self.keys, strict=True):
            out.setdefault(kind, {})[scene] = key
        return out


def plan_beds(storyboard: Storyboard, settings: RenderSettings, timeline: Timeline,
              version: str) -> BedPlan:
    """The beds of every scene the bed model makes, each as long as the scene is on screen."""
    seconds = {clip.scene: clip.frames / timeline.fps for clip in timeline.clips}
    plan = BedPlan()
    for kind, scenes in bed_scenes(storyboard, settings).items():
        for scene in scenes:
            request = bed_request(storyboard, settings, kind, scene, seconds[scene])
            plan.requests.append(request)
            plan.keys.append(bed_key(request, version))
            plan.made.append((kind, scene))
    return plan


async def make_beds(executor: Executor, store: LocalStore, plan: BedPlan,
                    report: Callable[[int, int], None]) -> None:
    """What the store lacks of ``plan``, made by the bed workers and stored as each comes;
    ``report(done, total)`` after each. A failure names the first scene left without its bed
    (RenderError, stage "beds") once every other bed is made."""
    missing = [i for i, key in enumerate(plan.keys) if not store.has(key)]
    done = len(plan.keys) - len(missing)
    report(done, len(plan.keys))
    try:
        async for n, wav in executor.map("beds", [plan.requests[i] for i in missing]):
            store.put(plan.keys[missing[n]], wav)
            done += 1
            report(done, len(plan.keys))
    except VidgenError as exc:
        kind, scene = next(plan.made[i] for i in missing if not store.has(plan.keys[i]))
        what = f"scene {scene + 1}'s {kind} bed"
        raise RenderError(f"{what}: {exc}", stage="beds", scene=scene,
                          public=f"{what}: {client_message(exc)}") from exc
