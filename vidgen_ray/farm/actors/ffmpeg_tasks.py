"""FFmpeg work as Ray tasks on CPU nodes: chunk encodes, generated motion clips fitted to
their scenes, the soundtrack mix, and finishing (join, mux, check, QC), so the head (and the
farm actor on it) runs no FFmpeg.

They ask for the custom resource ``assembly`` when a node offers it (cluster.yaml gives it to
CPU nodes), else plain CPUs, so FFmpeg never competes with model workers for a GPU node.
``run`` hands one over once the farm's slot gate lets it (executor.py), so Ray's queue never
holds more than the nodes run. Large inputs (stills, chunks, the soundtrack) come as
top-level ObjectRefs, put once by the executor. Each task works in its own folder under the
job's scratch root (scratch.py), removed when the task ends, also when it is cancelled.
"""

from __future__ import annotations

import asyncio
import time

import ray

from vidgen_ray.config import RenderSettings
from vidgen_ray.farm.placement import assembly_options
from vidgen_ray.pipeline import assembly, encoders, finishing, motion_parts, scratch, soundtrack
from vidgen_ray.pipeline.clip_fit import ClipPlan
from vidgen_ray.pipeline.slots import SlotGate, Span
from vidgen_ray.storyboard import Storyboard
from vidgen_ray.timeline import Timeline

# A cancelled task gets KeyboardInterrupt, stops its ffmpeg and removes its folder; one still
# running after this long is killed (its folder then goes with the job's root).
CANCEL_GRACE_SECONDS = 10.0

Times = tuple[str, float, float]  # node id, started, ended


@ray.remote(max_retries=3)
def _encode_chunk(job_id: str, timeline: Timeline, start: int, end: int, scenes: list[int],
                  clip_scenes: list[int], settings: RenderSettings,
                  size: tuple[int, int] | None, ass: str | None, shots: list[int],
                  *inputs: bytes) -> tuple[bytes, Times]:
    # ``inputs``: the stills of ``scenes``, the clips of ``clip_scenes``, then the talking
    # clips of ``shots``; they came as top-level ObjectRefs, so Ray fetched them to this
    # node before the call.
    started = time.time()
    videos = len(scenes) + len(clip_scenes)
    stills = dict(zip(scenes, inputs[:len(scenes)], strict=True))
    clips = dict(zip(clip_scenes, inputs[len(scenes):videos], strict=True))
    talking = dict(zip(shots, inputs[videos:], strict=True))
    with scratch.task_folder(job_id, "chunk") as work:
        mp4 = assembly.render_chunk(timeline, start, end, stills, settings, size, ass, work,
                                    clips or None, talking=talking or None)
    return mp4, _times(started)


@ray.remote(max_retries=3)
def _fit_clip(job_id: str, plan: ClipPlan, fps: int, size: tuple[int, int],
              *clips: bytes) -> tuple[bytes, Times]:
    started = time.time()
    with scratch.task_folder(job_id, "fit") as work:
        mp4 = motion_parts.render_fitted(work, plan, list(clips), fps, size)
    return mp4, _times(started)


@ray.remote(max_retries=3)
def _resolve_encoder(asked: str) -> str:
    return encoders.resolve_here(asked)  # on this node, as a chunk task would see it


async def resolve_encoder(cluster: dict[str, float], asked: str) -> str:
    """The job's encoder (encoders.resolve) as a node where chunk tasks run sees it: a task
    placed as they are, on a sliver of a CPU (and of an assembly slot), so it never waits
    behind the chunks and holds no slot: a trial encode of a tenth of a second."""
    options = assembly_options(cluster, 1)
    options = {**options, "num_cpus": 0.01,
               **({"resources": {"assembly": 0.01}} if "resources" in options else {})}
    return await _owned(_resolve_encoder.options(**options).remote(asked))


@ray.remote(max_retries=3)
def _mix(job_id: str, speech: list[bytes], cue_starts: list[float], storyboard: Storyboard,
         timeline: Timeline, settings: RenderSettings, music: dict[str, bytes] | None = None,
         beds: dict[str, dict[int, str]] | None = None
         ) -> tuple[bytes, dict, dict[str, bytes], float, Times]:
    started = time.time()
    with scratch.task_folder(job_id, "mix") as work:
        wav, record, exports, seconds = soundtrack.mix_in(
            work, speech, cue_starts, storyboard, timeline, settings, music or {}, beds)
    return wav, record, exports, seconds, _times(started)


@ray.remote(max_retries=3)
def _finish(job_id: str, seconds: list[float], title: str, settings: RenderSettings,
            frames: int, size: tuple[int, int], qc: finishing.QcInputs | None,
            sound: bytes, *chunks: bytes) -> tuple[finishing.Finished, Times]:
    started = time.time()
    with scratch.task_folder(job_id, "finish") as work:
        finished = finishing.finish_video(work, list(zip(chunks, seconds, strict=True)),
                                          sound, title, settings, frames, size, qc)
    return finished, _times(started)


def _times(started: float) -> Times:
    """The node a task ran on, and when it started and ended there."""
    return ray.get_runtime_context().get_node_id(), started, time.time()


async def run(gate: SlotGate, kind: str, task, options: dict, *args) -> tuple[list, Span]:
    """``task`` with ``options`` once ``gate`` has a slot, holding it until the result is
    back: what the task returned, less its times, and its span."""
    async with gate.slot():
        submitted = time.time()
        *result, (node, started, ended) = await _owned(task.options(**options).remote(*args))
    return result, Span(kind, node, submitted, started, ended)


async def _owned(ref: ray.ObjectRef):
    """Await a task; if the awaiting job is cancelled, cancel the task too: first gently, so
    that it stops its ffmpeg and removes its folder, then by force if it lingers."""
    from vidgen_ray.farm.actors.errors import unwrap

    try:
        return await ref
    except ray.exceptions.RayTaskError as exc:
        raise unwrap(exc) from None
    except BaseException:
        ray.cancel(ref, force=False)
        asyncio.get_running_loop().call_later(CANCEL_GRACE_SECONDS, _force_cancel, ref)
        raise


def _force_cancel(ref: ray.ObjectRef) -> None:
    ready, _ = ray.wait([ref], timeout=0)
    if not ready:
        ray.cancel(ref, force=True)
