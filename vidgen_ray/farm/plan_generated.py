"""What a render's talking shots (``shots: talking``) and generated beds (``music_model`` /
``ambience_model`` stable_audio) ask of their workers, for ``vidgen plan`` (pure): one
talking clip per character line, as long as the line on screen; one bed per scene and kind,
as long as the scene (the model makes one piece, looped past its window). GPU time only
where farm/memory.py has a measured time per call: none yet."""

from __future__ import annotations

from dataclasses import dataclass

from vidgen_ray.config import RenderSettings
from vidgen_ray.farm.memory import MEASURED
from vidgen_ray.pipeline.bed_parts import bed_scenes
from vidgen_ray.storyboard import Storyboard
from vidgen_ray.timeline import Timeline

UNMEASURED = "not measured yet"


@dataclass(frozen=True)
class TalkingCost:
    lines: tuple[tuple[int, int], ...]  # (scene, line), numbered from 1
    seconds: tuple[float, ...]  # each shot's time on screen (the estimated timeline)
    gpu_seconds_per_second: float | None  # measured GPU-s per clip second; None: not yet


@dataclass(frozen=True)
class BedCost:
    scenes: tuple[int, ...]  # scenes with a generated bed, numbered from 1
    music: tuple[float | None, ...]  # seconds of each one's music bed; None: not generated
    ambience: tuple[float | None, ...]
    gpu_seconds_per_bed: float | None  # measured GPU-s per call; None: not yet


def talking_cost(timeline: Timeline, model: str) -> TalkingCost | None:
    """The shots of an estimated timeline; None without any."""
    if not timeline.shots:
        return None
    return TalkingCost(lines=tuple((s.scene + 1, s.line + 1) for s in timeline.shots),
                       seconds=tuple(s.frames / timeline.fps for s in timeline.shots),
                       gpu_seconds_per_second=MEASURED[model].call_seconds)


def bed_cost(storyboard: Storyboard, settings: RenderSettings,
             timeline: Timeline) -> BedCost | None:
    """The generated beds of an estimated timeline; None without any."""
    kinds = bed_scenes(storyboard, settings)
    scenes = sorted({s for chosen in kinds.values() for s in chosen})
    if not scenes:
        return None
    seconds = {clip.scene: clip.frames / timeline.fps for clip in timeline.clips}

    def each(kind: str) -> tuple[float | None, ...]:
        return tuple(seconds[s] if s in kinds.get(kind, []) else None for s in scenes)

    return BedCost(scenes=tuple(s + 1 for s in scenes), music=each("music"),
                   ambience=each("ambience"),
                   gpu_seconds_per_bed=MEASURED[settings.bed_model].call_seconds)


def _gpu(amount: float, per: float | None) -> str:
    return UNMEASURED if per is None else f"{amount * per:.0f} s"


def talking_rows(cost: TalkingCost) -> list[dict[str, str]]:
    per = cost.gpu_seconds_per_second
    rows = [{"scene": str(scene), "line": str(line), "on screen": f"{seconds:.1f} s",
             "GPU time": _gpu(seconds, per)}
            for (scene, line), seconds in zip(cost.lines, cost.seconds, strict=True)]
    total = sum(cost.seconds)
    rows.append({"scene": "all", "line": str(len(cost.lines)), "on screen": f"{total:.1f} s",
                 "GPU time": _gpu(total, per)})
    return rows


def bed_rows(cost: BedCost) -> list[dict[str, str]]:
    def said(seconds: float | None) -> str:
        return "-" if seconds is None else f"{seconds:.1f} s"

    per = cost.gpu_seconds_per_bed
    rows = [{"scene": str(scene), "music": said(music), "ambience": said(ambience),
             "GPU time": _gpu((music is not None) + (ambience is not None), per)}
            for scene, music, ambience in zip(cost.scenes, cost.music, cost.ambience,
                                              strict=True)]
    beds = sum(x is not None for x in (*cost.music, *cost.ambience))
    rows.append({"scene": "all", "music": str(sum(x is not None for x in cost.music)),
                 "ambience": str(sum(x is not None for x in cost.ambience)),
                 "GPU time": _gpu(beds, per)})
    return rows
