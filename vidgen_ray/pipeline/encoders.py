"""The video encoder of a render's chunks: x264 on the CPUs, or NVENC on a card that has one.

Every chunk of one render is made by one encoder with one set of arguments, each starting on
an IDR frame with closed GOPs, so the chunks join with ``-c copy`` (assembly.py). The setting
``encoder`` (config/video.py) is x264 (the default), nvenc, or auto: NVENC where the chunks
are encoded has a working one, else x264.

* Resolved once per job (``resolve``): the job flow asks its executor, which asks a node
  where chunks run (a Ray task placed as a chunk task is); the resolved name is what the
  job's settings say from then on, so it is in every chunk's key (only when not x264: the
  keys of x264 chunks stay what they were) and in the manifest.
* nvenc where it does not work is refused before any work: by the CLI on this machine
  (preflight.check_encoder), by a Farm at submit on a node where chunks run (farm/pools.py).
* A chunk task whose node cannot encode with the job's encoder refuses (``require``) rather
  than encode with another: chunks of two encoders would not join exactly.
* Detected by a tiny trial encode, asked once per process (``nvenc_problem``): Debian's
  ffmpeg lists h264_nvenc on every machine, with or without an NVIDIA card and driver.
"""

from __future__ import annotations

import functools
import logging
import re
import socket
from typing import Literal

from vidgen_ray.config import RenderSettings
from vidgen_ray.errors import RenderError, SettingsError, VidgenError

Encoder = Literal["x264", "nvenc"]
log = logging.getLogger("vidgen.encoders")

# x264 preset -> NVENC preset: NVENC is fast at any preset, so the slower, better ones
# (p4..p7); -tune hq. The quality level: -cq = crf + CQ_OFFSET. Not yet measured on a card
# (benchmarks/encoder_quality.py picks the level that matches x264's SSIM; set it from that).
NVENC_PRESETS = {"ultrafast": "p4", "superfast": "p4", "veryfast": "p5", "faster": "p5",
                 "fast": "p6", "medium": "p7"}
CQ_OFFSET = 0
# A trial encode: a tenth of a second of a flat 256x256 frame (NVENC's minimum is 145x49).
TRIAL = ["-f", "lavfi", "-i", "color=s=256x256:d=0.1", "-c:v", "h264_nvenc", "-f", "null", "-"]
TRIAL_TIMEOUT_S = 30.0
FIX = ("NVENC needs an NVIDIA card that has one (L4, A10G, L40S, T4, RTX; H100, H200 and "
       "A100 have none), its driver (libcuda and libnvidia-encode) and an ffmpeg built with "
       "h264_nvenc")


def encoder_args(settings: RenderSettings) -> list[str]:
    """The video encoder's arguments, identical for every chunk of a render (pure).
    ``settings.encoder`` must be resolved already (``resolve``): auto is refused."""
    fps = settings.fps
    common = ["-pix_fmt", "yuv420p", "-r", str(fps), "-g", str(2 * fps)]
    color = ["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709",
             "-video_track_timescale", str(fps * 512), "-an"]
    if settings.encoder == "x264":
        return ["-c:v", "libx264", "-preset", settings.x264_preset, "-crf", str(settings.crf),
                *common, "-sc_threshold", "0", "-x264-params", "open-gop=0",
                "-threads", str(settings.ffmpeg_threads), *color]
    if settings.encoder == "nvenc":
        return [*nvenc_quality(settings), *common, *NVENC_KEYFRAMES, *color]
    raise RenderError(f"encoder {settings.encoder!r} reached a chunk unresolved: the job "
                      "flow resolves it once per job (encoders.resolve) before any chunk")


# Keyframes as x264's: the first frame of every chunk is an IDR (as an encode's first frame
# always is), then one every 2 s (FFmpeg sets NVENC's H.264 IDR period to the GOP: closed
# GOPs; -forced-idr keeps any forced keyframe an IDR too), none at scene cuts, and no
# B-frames, so nothing is reordered across a join (x264's closed GOPs give the same).
NVENC_KEYFRAMES = ["-forced-idr", "1", "-no-scenecut", "1", "-bf", "0"]


def nvenc_quality(settings: RenderSettings) -> list[str]:
    """h264_nvenc at the quality of the x264 setting: preset, tune, constant-quality VBR."""
    cq = min(51, max(1, settings.crf + CQ_OFFSET))  # 0 would mean "automatic" to NVENC
    return ["-c:v", "h264_nvenc", "-preset", NVENC_PRESETS[settings.x264_preset],
            "-tune", "hq", "-profile:v", "high", "-rc", "vbr", "-cq", str(cq), "-b:v", "0"]


@functools.cache
def nvenc_problem() -> str | None:
    """Why NVENC cannot encode on this machine (ffmpeg's own last words), or None when a
    trial encode works. Asked once per process."""
    from vidgen_ray.programs import ffmpeg

    try:
        ffmpeg(TRIAL, timeout=TRIAL_TIMEOUT_S)
    except VidgenError as exc:
        detail = str(exc).strip().splitlines()
        return _first_cause(detail) or "the trial encode failed"
    return None


def _first_cause(lines: list[str]) -> str:
    """The line that says why (libcuda missing, no capable device), else the last one,
    without ffmpeg's prefixes ("ffmpeg failed (exit 1): ", "[h264_nvenc @ 0x55...] ")."""
    found = next((line for line in lines if any(word in line for word in CAUSES)),
                 lines[-1] if lines else "")
    return re.sub(r"^(ffmpeg failed \(exit -?\d+\): )?(\[\w+ @ 0x[0-9a-f]+\] )?", "",
                  found.strip())


CAUSES = ("libcuda", "No capable devices", "No NVENC", "not found", "Unknown encoder",
          "OpenEncodeSession", "Driver does not support")


def resolve(asked: str, problem: str | None, *, for_client: bool = False) -> Encoder:
    """The encoder a job's chunks use (pure): x264 as asked; auto -> nvenc when ``problem``
    is None (NVENC works where the chunks run), else x264; nvenc when it works, else a
    SettingsError naming the problem and the fix (``for_client``: without this machine's
    details, which go to the log)."""
    if asked == "x264":
        return "x264"
    if problem is None:
        return "nvenc"
    if asked == "auto":
        return "x264"
    public = ("the farm cannot encode this job's chunks with NVENC (encoder nvenc): ask for "
              "encoder x264, or auto (NVENC where the farm has it)")
    if for_client:
        log.warning("refused a job asking for encoder nvenc: %s", problem)
        raise SettingsError(public, field="settings.encoder")
    error = SettingsError(f"encoder nvenc was asked for, but NVENC cannot encode on this "
                          f"machine ({socket.gethostname()}): {problem}. {FIX}: render with "
                          "--encoder x264 (or auto: NVENC only where it works)",
                          field="encoder")
    error.public = public  # what a service's client reads: no node's details
    raise error


def resolve_here(asked: str, *, for_client: bool = False) -> Encoder:
    """``resolve`` for this machine (no trial encode for x264)."""
    return resolve(asked, None if asked == "x264" else nvenc_problem(), for_client=for_client)


def require(encoder: str) -> None:
    """On a chunk's node: refuse a chunk this node cannot encode with the job's encoder,
    rather than encode it with another one and break the join."""
    if encoder == "nvenc" and (problem := nvenc_problem()) is not None:
        raise RenderError(
            f"this render's chunks are encoded with NVENC, but this node "
            f"({socket.gethostname()}) cannot: {problem}. Every chunk of a render is made by "
            f"one encoder, so this one is refused rather than encoded with x264. {FIX} on "
            "every assembly node, or render with --encoder x264",
            public="a node of the farm cannot encode this render's chunks with NVENC: render "
            "again with encoder x264")
