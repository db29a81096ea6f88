"""What the job flow needs from whoever runs its work, so the flow never imports the farm.

The farm runs it with Ray (farm/actors/executor.py: worker pools, FFmpeg tasks on CPU
nodes); pipeline/in_process.py runs it in this process (tests, no Ray). The flow stays the
same either way: it only decides what is made, in which order, and where it is stored.
FFmpeg work (chunks, the mix, finishing) is held to the slots its nodes offer
(pipeline/slots.py): the flow may ask for every chunk at once. Stored parts go to the
executor by key with the store to ``get`` them from, so it reads (and ships) each once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal, Protocol

from vidgen_ray.config import RenderSettings
from vidgen_ray.pipeline.clip_fit import ClipPlan
from vidgen_ray.pipeline.finishing import Finished, QcInputs
from vidgen_ray.pipeline.slots import Span
from vidgen_ray.storyboard import Storyboard
from vidgen_ray.timeline import Timeline

# image: PNGs, speech: WAVs, motion: generated clips (MP4) from motion.base.ClipRequest,
# talking: talking shots (MP4) from motion.talking.TalkingRequest, beds: generated music
# and ambience beds (WAV) from beds.base.BedRequest.
Kind = Literal["image", "speech", "motion", "talking", "beds"]
# The normalised soundtrack WAV, its loudness record, the exported mix and stems by relative
# file name, the seconds the mix took, and the node that mixed it.
MixResult = tuple[bytes, dict, dict[str, bytes], float, str]


class Parts(Protocol):
    """Where stored parts are read by key (storage.LocalStore)."""

    def get(self, key: str) -> bytes: ...


class Executor(Protocol):
    spans: list[Span]  # every FFmpeg task run for the job: kind, node and times

    def version(self, kind: Kind) -> str:
        """The backend version the workers of ``kind`` run (content keys name it, and it may
        differ from this process's); raises RenderError if the workers disagree."""
        ...

    def map(self, kind: Kind, requests: list) -> AsyncIterator[tuple[int, bytes]]:
        """Every request made by the workers of ``kind``: (index, PNG, WAV or MP4) in completion
        order. A failed batch does not stop the others; the first failure is raised last."""
        ...

    async def resolve_encoder(self, asked: str) -> str:
        """The video encoder of this job's chunks (pipeline/encoders.py resolve), asked of a
        node where chunks are encoded: x264 at once; auto -> nvenc where NVENC works there,
        else x264; nvenc, or SettingsError when that node has no working NVENC."""
        ...

    async def encode_chunk(self, timeline: Timeline, start: int, end: int,
                           stills: dict[int, str], parts: Parts, settings: RenderSettings,
                           size: tuple[int, int], ass: str | None,
                           clips: dict[int, str] | None,
                           generated: dict[int, str] | None = None,
                           talking: dict[int, str] | None = None) -> tuple[bytes, str]:
        """Frames [start, end) as an MP4 at ``size`` (``stills``: each scene's picture by its
        part key in ``parts``; ``ass`` burned in; ``clips``: the user's video file of each
        scene that shows one, read with media.read_checked; ``generated``: the fitted
        motion clip of each scene a video model animates, by its part key, shown as a
        user's clip is; ``talking``: the talking clip of each shot in range, by shot index
        into ``timeline.shots``, by its part key) and the node that encoded it."""
        ...

    async def fit_clip(self, plan: ClipPlan, clips: list[str], parts: Parts, fps: int,
                       size: tuple[int, int]) -> bytes:
        """A scene's generated clips (part keys, clip i of ``plan`` first) fitted to its
        frames (pipeline/motion_parts.py render_fitted): an FFmpeg task, where chunks run."""
        ...

    async def mix_soundtrack(self, speech: list[bytes], cue_starts: list[float],
                             storyboard: Storyboard, timeline: Timeline,
                             settings: RenderSettings, music: dict[str, bytes],
                             beds: dict[str, dict[int, str]] | None = None) -> MixResult:
        """Each line's WAV laid at its cue start, mixed with the bed and normalised
        (pipeline/soundtrack.py mix_in); ``music``: each music file by the name it has, and
        each generated bed by the name ``beds`` gives it ({"music": {scene: name}, ...})."""
        ...

    async def finish(self, chunks: list[tuple[str, float]], parts: Parts, soundtrack: str,
                     title: str, settings: RenderSettings, frames: int,
                     size: tuple[int, int], qc: QcInputs | None) -> Finished:
        """One size's video (pipeline/finishing.py finish_video): ``chunks`` (part keys and
        seconds) joined and muxed with ``soundtrack`` (a part key), checked, and its QC
        measured when ``qc`` is given; ``Finished.node`` is where that ran."""
        ...
