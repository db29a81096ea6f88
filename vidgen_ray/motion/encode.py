"""A clip's frames to MP4 bytes: raw RGB piped into FFmpeg (programs.py), H.264 in yuv420p.

The arguments are a pure function; the encode runs ffmpeg once, writing to a temporary file
(an MP4 on a pipe cannot be seeked back to for its index, so +faststart needs a file).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from vidgen_ray.programs import run_capture

# Near-transparent quality: the clip is an intermediate that clip fitting
# (pipeline/clip_fit.py) and assembly encode again.
CRF = 16
PRESET = "veryfast"


def encode_args(width: int, height: int, fps: int, output: str) -> list[str]:
    """ffmpeg arguments reading width x height RGB24 frames on stdin at ``fps``. One
    encoder thread and bitexact flags: the same frames give the same bytes on any machine
    with the same FFmpeg (x264's output depends on its thread count)."""
    return ["-hide_banner", "-nostdin", "-y", "-v", "error",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}",
            "-framerate", str(fps), "-i", "-", "-an",
            "-c:v", "libx264", "-preset", PRESET, "-crf", str(CRF), "-pix_fmt", "yuv420p",
            "-threads", "1", "-fflags", "+bitexact", "-flags:v", "+bitexact",
            "-map_metadata", "-1", "-movflags", "+faststart", output]


def encode_mp4(frames, fps: int) -> bytes:
    """``frames``: uint8 array (frames, height, width, 3), RGB. yuv420p halves the colour
    resolution, so both sides must be even."""
    count, height, width, channels = frames.shape
    if channels != 3 or width % 2 or height % 2 or count < 1:
        raise ValueError(f"cannot encode {count} frames of {width}x{height}x{channels}: "
                            "H.264 yuv420p needs RGB frames with even sides")
    with tempfile.TemporaryDirectory(prefix="vidgen-clip-") as folder:
        output = Path(folder) / "clip.mp4"
        run_capture("ffmpeg", encode_args(width, height, fps, str(output)),
                    input=frames.tobytes(), timeout=600)
        return output.read_bytes()
