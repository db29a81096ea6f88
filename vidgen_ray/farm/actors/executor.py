"""The job flow's executor on Ray: requests go to the farm's resident worker pools, chunk
encodes and the soundtrack mix to FFmpeg tasks on CPU nodes (ffmpeg_tasks.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from vidgen_ray.config import RenderSettings
from vidgen_ray.errors import RenderError
from vidgen_ray.farm.actors import ffmpeg_tasks
from vidgen_ray.farm.actors.pool import WorkerPool
from vidgen_ray.pipeline.executor import Kind, MixResult
from vidgen_ray.storyboard import Storyboard
from vidgen_ray.timeline import Timeline


@dataclass
class Pools:
    image: WorkerPool
    speech: WorkerPool
    cluster: dict[str, float]


class RayExecutor:
    """One job's work on the farm's pools; ``job_id`` names the scratch root its FFmpeg
    tasks work under."""

    def __init__(self, pools: Pools, job_id: str):
        self.pools, self.job_id = pools, job_id

    def _pool(self, kind: Kind) -> WorkerPool:
        return self.pools.image if kind == "image" else self.pools.speech

    def version(self, kind: Kind) -> str:
        pool = self._pool(kind)
        versions = {info["backend"] for info in pool.ready_info}
        if len(versions) != 1:
            raise RenderError(f"the {pool.kind} workers run different backend versions "
                              f"{sorted(versions)}: install the same version on every node")
        return versions.pop()

    def map(self, kind: Kind, requests: list) -> AsyncIterator[tuple[int, bytes]]:
        return self._pool(kind).map(requests)

    async def encode_chunk(self, timeline: Timeline, start: int, end: int,
                           stills: dict[int, bytes], settings: RenderSettings,
                           size: tuple[int, int], ass: str | None,
                           clips: dict[int, bytes] | None) -> tuple[bytes, str]:
        return await ffmpeg_tasks.encode_chunk(self.job_id, timeline, start, end, stills,
                                               settings, self.pools.cluster, size, ass, clips)

    async def mix_soundtrack(self, speech: list[bytes], cue_starts: list[float],
                             storyboard: Storyboard, timeline: Timeline,
                             settings: RenderSettings, music: dict[str, bytes]) -> MixResult:
        return await ffmpeg_tasks.mix_soundtrack(self.job_id, speech, cue_starts, storyboard,
                                                 timeline, settings, self.pools.cluster, music)
