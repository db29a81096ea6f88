"""FFmpeg work as Ray tasks on CPU nodes: chunk encodes and the soundtrack mix.

They ask for the custom resource ``assembly`` when a node offers it (cluster.yaml gives it to
CPU nodes), else plain CPUs, so FFmpeg never competes with model workers for a GPU node.
Each works in its own folder under the job's scratch root (scratch.py), removed when the
task ends, also when it is cancelled.
"""

from __future__ import annotations

import asyncio

import ray

from vidgen_ray.config import RenderSettings
from vidgen_ray.farm.placement import assembly_options
from vidgen_ray.pipeline import assembly, scratch, soundtrack
from vidgen_ray.storyboard import Storyboard
from vidgen_ray.timeline import Timeline

# A cancelled task gets KeyboardInterrupt, stops its ffmpeg and removes its folder; one still
# running after this long is killed (its folder then goes with the job's root).
CANCEL_GRACE_SECONDS = 10.0


@ray.remote(max_retries=3)
def _encode_chunk(job_id: str, timeline: Timeline, start: int, end: int,
                  stills: dict[int, bytes], settings: RenderSettings,
                  size: tuple[int, int] | None, ass: str | None,
                  clips: dict[int, bytes] | None = None) -> tuple[bytes, str]:
    with scratch.task_folder(job_id, "chunk") as work:
        mp4 = assembly.render_chunk(timeline, start, end, stills, settings, size, ass, work,
                                    clips)
    return mp4, ray.get_runtime_context().get_node_id()


@ray.remote(max_retries=3)
def _mix(job_id: str, speech: list[bytes], cue_starts: list[float], storyboard: Storyboard,
         timeline: Timeline, settings: RenderSettings, music: dict[str, bytes] | None = None
         ) -> tuple[bytes, dict, dict[str, bytes], float, str]:
    with scratch.task_folder(job_id, "mix") as work:
        wav, record, exports, seconds = soundtrack.mix_in(
            work, speech, cue_starts, storyboard, timeline, settings, music or {})
    return wav, record, exports, seconds, ray.get_runtime_context().get_node_id()


async def encode_chunk(job_id: str, timeline: Timeline, start: int, end: int,
                       stills: dict[int, bytes], settings: RenderSettings,
                       cluster: dict[str, float], size: tuple[int, int] | None = None,
                       ass: str | None = None, clips: dict[int, bytes] | None = None
                       ) -> tuple[bytes, str]:
    """Frames [start, end) as an MP4 at ``size`` (default: the settings'), with the ASS
    subtitles ``ass`` burned in if given (``clips``: the video of each scene shown by one);
    returns it and the id of the node that encoded it. ``job_id`` names the scratch root
    the task works under."""
    options = assembly_options(cluster, settings.ffmpeg_threads)
    ref = _encode_chunk.options(**options).remote(job_id, timeline, start, end, stills,
                                                  settings, size, ass, clips)
    return await _owned(ref)


async def mix_soundtrack(job_id: str, speech: list[bytes], cue_starts: list[float],
                         storyboard: Storyboard, timeline: Timeline, settings: RenderSettings,
                         cluster: dict[str, float], music: dict[str, bytes] | None = None
                         ) -> tuple[bytes, dict, dict[str, bytes], float, str]:
    """The normalised soundtrack WAV, the loudness record, the exported mix and stems
    by relative file name (none unless settings.stems), seconds taken, node id. ``speech``:
    each line's WAV, laid at its cue start on the node that mixes (not in the driver).
    ``music``: each music file the storyboard or settings name, by that name."""
    ref = _mix.options(**assembly_options(cluster, 1)).remote(
        job_id, speech, cue_starts, storyboard, timeline, settings, music)
    return await _owned(ref)


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
