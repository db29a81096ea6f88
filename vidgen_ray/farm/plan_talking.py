"""What a render's talking shots (``shots: talking``) ask of the talking workers, for
``vidgen plan`` (pure): one clip per character line, as long as the line on screen."""

from __future__ import annotations

from dataclasses import dataclass

from vidgen_ray.farm.memory import MEASURED
from vidgen_ray.timeline import Timeline


@dataclass(frozen=True)
class TalkingCost:
    lines: tuple[tuple[int, int], ...]  # (scene, line), numbered from 1
    seconds: tuple[float, ...]  # each shot's time on screen (the estimated timeline)
    gpu_seconds_per_second: float | None  # measured GPU-s per clip second; None: not yet


def talking_cost(timeline: Timeline, model: str) -> TalkingCost | None:
    """The shots of an estimated timeline; None without any."""
    if not timeline.shots:
        return None
    table = MEASURED[model]
    return TalkingCost(lines=tuple((s.scene + 1, s.line + 1) for s in timeline.shots),
                       seconds=tuple(s.frames / timeline.fps for s in timeline.shots),
                       gpu_seconds_per_second=table.call_seconds)


def talking_rows(cost: TalkingCost) -> list[dict[str, str]]:
    def gpu(seconds: float) -> str:
        per = cost.gpu_seconds_per_second
        return "not measured yet" if per is None else f"{seconds * per:.0f} s"

    rows = [{"scene": str(scene), "line": str(line), "on screen": f"{seconds:.1f} s",
             "GPU time": gpu(seconds)}
            for (scene, line), seconds in zip(cost.lines, cost.seconds, strict=True)]
    total = sum(cost.seconds)
    rows.append({"scene": "all", "line": str(len(cost.lines)), "on screen": f"{total:.1f} s",
                 "GPU time": gpu(total)})
    return rows
