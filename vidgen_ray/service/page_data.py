"""What the web monitor asks of the job service, apart from HTTP and Ray: analysing a script
without rendering it, a job's scenes with their parts, the files a job wrote, and the farm's
workers, nodes, queue and recent throughput. api.py serves these; they are tested directly
(tests/unit/test_monitor.py) and over HTTP (tests/integration/test_web.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from vidgen_ray.errors import NotFoundError
from vidgen_ray.farm.jobs import JobRecord, JobStatus, SceneParts, SceneStatus
from vidgen_ray.storyboard import Storyboard

THROUGHPUT_WINDOW_S = 3600.0  # "recent" throughput: jobs finished in the last hour
MEDIA = {".mp4": "video/mp4", ".srt": "application/x-subrip", ".vtt": "text/vtt",
         ".json": "application/json", ".wav": "audio/wav", ".flac": "audio/flac",
         ".mp3": "audio/mpeg", ".m4a": "audio/mp4",
         ".otio": "application/json", ".fcpxml": "application/xml", ".edl": "text/plain",
         ".m3u8": "application/vnd.apple.mpegurl", ".ts": "video/mp2t"}


class PriorityRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    priority: int = Field(ge=-100, le=100, strict=True, description="Higher runs first.")


# ---- a job's scenes --------------------------------------------------------------------------

class SceneView(BaseModel):
    index: int = Field(description="0-based.")
    title: str
    status: SceneStatus
    lines: list[str] = Field(description="'SPEAKER: text' of each line, in order.")
    picture: str | None = Field(description="URL of its picture, once it exists.")
    speech: list[str | None] = Field(description="URL of each line's speech, once it exists.")
    timings: dict[str, float] = Field(description="Seconds after the job started when its "
                                      "picture ('picture') and all its speech ('speech') "
                                      "were ready.")
    error: str | None = Field(description="Why it failed, for the scene that failed the job.")


def scene_views(record: JobRecord, board: Storyboard, url: str,
                has: Callable[[str], bool]) -> list[SceneView]:
    """Each scene of a job; ``url`` is the job's URL, ``has(key)`` whether a part is stored."""
    views = []
    for index, scene in enumerate(board.scenes):
        parts = (record.scene_parts[index] if index < len(record.scene_parts)
                 else SceneParts())
        base = f"{url}/scenes/{index}"
        picture = f"{base}/picture" if parts.image and has(parts.image) else None
        speech = [f"{base}/speech/{n}" if n < len(parts.speech) and has(parts.speech[n])
                  else None for n in range(len(scene.lines))]
        timings = {}
        for name, at in (("picture", parts.image_ready), ("speech", parts.speech_ready)):
            if at is not None and record.started is not None:
                timings[name] = round(max(0.0, at - record.started), 3)
        status = record.scenes[index] if index < len(record.scenes) else SceneStatus.queued
        failed = record.failed_scene == index or (
            status == SceneStatus.failed and record.failed_scene is None)
        views.append(SceneView(
            index=index, title=scene.title or f"Scene {index + 1}", status=status,
            lines=[f"{line.speaker}: {line.text}" for line in scene.lines], picture=picture,
            speech=speech, timings=timings, error=record.error if failed else None))
    return views


def part_key(record: JobRecord, scene: int, kind: str, line: int = 0) -> str:
    """The content key of a scene's picture or one line's speech; NotFoundError naming what
    is missing otherwise."""
    if not 0 <= scene < len(record.scene_parts):
        raise NotFoundError(f"job {record.id} has no parts for scene {scene} yet: scenes are "
                            f"0..{len(record.scenes) - 1}, and their parts appear once it runs")
    parts = record.scene_parts[scene]
    if kind == "picture" and parts.image:
        return parts.image
    if kind == "speech" and 0 <= line < len(parts.speech):
        return parts.speech[line]
    what = "picture" if kind == "picture" else f"line {line}"
    raise NotFoundError(f"scene {scene} of job {record.id} has no {what}: see "
                        f"/v1/jobs/{record.id}/scenes for what exists")


# ---- a job's files ---------------------------------------------------------------------------

def media_type(name: str) -> str:
    return MEDIA.get(Path(name).suffix, "application/octet-stream")


# ---- the farm --------------------------------------------------------------------------------

class Throughput(BaseModel):
    window_s: float
    jobs_done: int
    scenes_done: int
    jobs_per_hour: float
    scenes_per_minute: float
    seconds_per_scene: float | None = Field(description="Mean wall time per scene of those "
                                            "jobs (started to finished / scenes).")


class FarmView(BaseModel):
    queue_depth: int
    running: int
    max_queued: int
    max_running: int
    jobs: dict[str, int] = Field(description="Jobs by state.")
    throughput: Throughput
    workers: list[dict[str, Any]] = Field(description="One row per worker: pool, kind, "
                                          "backend, node, GPU ids and share, calls, in flight, "
                                          "loaded, ok, memory.")
    nodes: list[dict[str, Any]] = Field(description="Ray nodes: id, address, alive, CPUs, "
                                        "GPUs, workers on it.")


def farm_view(records: list[JobRecord], stats: dict, workers: list[dict],
              nodes: list[dict], now: float | None = None,
              window: float = THROUGHPUT_WINDOW_S) -> FarmView:
    now = time.time() if now is None else now
    recent = [r for r in records if r.status == JobStatus.done and r.finished is not None
              and 0 <= now - r.finished <= window]
    scenes = sum(len(r.scenes) for r in recent)
    busy = sum(r.finished - r.started for r in recent if r.started is not None)
    throughput = Throughput(
        window_s=window, jobs_done=len(recent), scenes_done=scenes,
        jobs_per_hour=round(len(recent) * 3600 / window, 3),
        scenes_per_minute=round(scenes * 60 / window, 3),
        seconds_per_scene=round(busy / scenes, 3) if scenes else None)
    counts = {s.value: sum(r.status == s for r in records) for s in JobStatus}
    on_node = {}
    for row in workers:
        on_node[row.get("node_id")] = on_node.get(row.get("node_id"), 0) + 1
    nodes = [{**n, "workers": on_node.get(n.get("node_id"), 0)} for n in nodes]
    return FarmView(queue_depth=stats["queued"], running=stats["running"],
                    max_queued=stats["max_queued"], max_running=stats["max_running"],
                    jobs=counts, throughput=throughput, workers=workers, nodes=nodes)


def node_rows(ray_nodes: list[dict]) -> list[dict]:
    """The fields of ``ray.nodes()`` the monitor shows, alive nodes first."""
    rows = []
    for node in ray_nodes:
        resources = node.get("Resources") or {}
        rows.append({"node_id": node.get("NodeID"), "address": node.get("NodeManagerAddress"),
                     "alive": bool(node.get("Alive")), "cpus": resources.get("CPU", 0.0),
                     "gpus": resources.get("GPU", 0.0),
                     "assembly": resources.get("assembly", 0.0)})
    return sorted(rows, key=lambda r: (not r["alive"], str(r["address"])))
