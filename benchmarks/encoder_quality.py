"""Which NVENC quality level matches x264's? The same frames (a chunk's filter graph over
storyboard cards and textured stand-ins for drawn pictures, camera moves and dissolves, kept
losslessly) encoded with x264 at the video stage's settings and a few CRFs around them, and
with every other encoder this machine has (NVENC) at a few -cq levels, each with the
arguments a chunk gets (pipeline/encoders.py). Reports SSIM against the lossless frames
(FFmpeg's ssim filter: Debian's ffmpeg has no libvmaf, so no VMAF), bitrate and speed, and
picks the highest -cq whose SSIM is at least x264's at the setting's CRF: the CQ_OFFSET to
put in encoders.py. An encoder this machine cannot run is recorded as untested, with why.

    .venv/bin/python benchmarks/encoder_quality.py            # 6 s of 720p30
    .venv/bin/python benchmarks/encoder_quality.py --quick    # 2 s, fewer levels (GPU suite):
                                                              # nothing but the why without NVENC

Prints a table and writes benchmarks/results/encoder_quality.json (or --results DIR).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import write_results  # benchmarks/common.py (a script's folder is on sys.path)
from machine import machine

from vidgen_ray.config import RenderSettings
from vidgen_ray.images.base import ImageRequest
from vidgen_ray.images.cards import CardsBackend
from vidgen_ray.pipeline import assembly, encoders
from vidgen_ray.storyboard import Line, Scene, Storyboard
from vidgen_ray.timeline import Pacing, plan_timeline

CRFS = (18, 20, 23, 26)
CQS = (16, 18, 20, 22, 24, 26, 28, 30)
QUICK_CQS = (18, 20, 22, 24, 26)


def stills(folder: Path, settings: RenderSettings, count: int) -> dict[int, Path]:
    """Cards (flat colour, text) and, every other scene, a Mandelbrot still: the fine
    detail a drawn picture has and a card lacks."""
    width, height = settings.size
    cards = CardsBackend().generate([
        ImageRequest(i + 1, f"Scene {i + 1}", "The boats come home under a grey sky.", (),
                     "calm", width, height, i) for i in range(count)])
    paths = {}
    for i, png in enumerate(cards):
        paths[i] = folder / f"{i}.png"
        if i % 2:
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                            f"mandelbrot=s={width}x{height}:end_pts=1:start_scale={0.5 + i}",
                            "-frames:v", "1", str(paths[i])], check=True)
        else:
            paths[i].write_bytes(png)
    return paths


def reference(folder: Path, settings: RenderSettings, seconds: float) -> tuple[Path, int]:
    """The frames, kept losslessly (FFV1), and how many there are."""
    scenes = max(2, round(seconds / 1.5))
    board = Storyboard(scenes=[Scene(title=f"Scene {i}", lines=[Line(text="x")],
                                     transition="dissolve") for i in range(scenes)])
    timeline = plan_timeline(board, [[seconds / scenes]] * scenes,
                             Pacing(fps=settings.fps), seed=3)
    frames = timeline.total_frames
    args = assembly.chunk_args(timeline, 0, frames, stills(folder, settings, scenes),
                               settings, Path("-"))
    graph = args[: args.index("-map") + 2]
    out = folder / "reference.mkv"
    subprocess.run(["ffmpeg", "-v", "error", "-y", *graph, "-r", str(settings.fps),
                    "-frames:v", str(frames), "-c:v", "ffv1", "-pix_fmt", "yuv420p",
                    str(out)], check=True)
    return out, frames


def encode(ref: Path, settings: RenderSettings, out: Path, frames: int) -> dict:
    """One encode with a chunk's arguments: SSIM against the reference, kbit/s, frames/s."""
    started = time.perf_counter()
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(ref),
                    *encoders.encoder_args(settings), "-frames:v", str(frames), str(out)],
                   check=True)
    seconds = time.perf_counter() - started
    done = subprocess.run(["ffmpeg", "-hide_banner", "-i", str(out), "-i", str(ref),
                           "-lavfi", "[0:v][1:v]ssim", "-f", "null", "-"],
                          capture_output=True, text=True, check=True)
    ssim = float(re.search(r"All:([0-9.]+)", done.stderr)[1])
    kbps = out.stat().st_size * 8 / (frames / settings.fps) / 1000
    return {"ssim": round(ssim, 5), "kbps": round(kbps), "seconds": round(seconds, 3),
            "fps": round(frames / seconds, 1)}


def match(target: float, rows: list[dict]) -> dict | None:
    """The highest -cq (fewest bits) whose SSIM reaches ``target``."""
    good = [row for row in rows if row["ssim"] >= target]
    return max(good, key=lambda row: row["cq"]) if good else None


def has_filter(name: str) -> bool:
    listing = subprocess.run(["ffmpeg", "-hide_banner", "-filters"], capture_output=True,
                             text=True).stdout
    return any(line.split()[1:2] == [name] for line in listing.splitlines())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--quick", action="store_true", help="2 s, fewer levels; without "
                        "NVENC, only why it is untested")
    parser.add_argument("--results", type=Path, default=None, help="folder for the JSON")
    args = parser.parse_args(argv)
    seconds = 2.0 if args.quick else args.seconds
    base = RenderSettings()  # the video stage's: 720p30, x264 veryfast, CRF 20, 1 thread
    problem = encoders.nvenc_problem()
    data: dict = {"machine": machine(), "size": base.size, "fps": base.fps,
                  "x264_preset": base.x264_preset, "crf": base.crf,
                  "vmaf": "libvmaf is in this ffmpeg, not used" if has_filter("libvmaf")
                  else "libvmaf is not in this ffmpeg (Debian's has none): SSIM only",
                  "x264": [], "nvenc": [], "nvenc_untested": problem}
    if args.quick and problem is not None:  # nothing to compare x264 with (an H100, H200)
        print(f"nvenc: untested here ({problem}); libvmaf: {data['vmaf']}")
        print(f"wrote {write_results('encoder_quality', data, args.results)}")
        return 0
    with tempfile.TemporaryDirectory(prefix="vidgen-encoders-") as tmp:
        folder = Path(tmp)
        ref, frames = reference(folder, base, seconds)
        data["frames"] = frames
        for crf in (base.crf,) if args.quick else CRFS:
            row = encode(ref, base.model_copy(update={"crf": crf}), folder / "x.mp4", frames)
            data["x264"].append({"crf": crf, **row})
        if problem is None:
            preset = encoders.NVENC_PRESETS[base.x264_preset]
            for cq in QUICK_CQS if args.quick else CQS:
                nvenc = base.model_copy(update={"encoder": "nvenc",
                                                "crf": cq - encoders.CQ_OFFSET})
                row = encode(ref, nvenc, folder / "n.mp4", frames)
                data["nvenc"].append({"preset": preset, "cq": cq, **row})
    target = next(row for row in data["x264"] if row["crf"] == base.crf)
    picked = match(target["ssim"], data["nvenc"])
    data["picked"] = picked and {"cq": picked["cq"], "cq_offset": picked["cq"] - base.crf}
    report(data, target)
    print(f"wrote {write_results('encoder_quality', data, args.results)}")
    return 0


def report(data: dict, target: dict) -> None:
    print(f"machine: {data['machine']}; {data['frames']} frames of "
          f"{data['size'][0]}x{data['size'][1]} at {data['fps']} fps; {data['vmaf']}")
    print(f"{'encoder':<26}{'SSIM':>9}{'kbit/s':>9}{'frames/s':>10}")
    for row in data["x264"]:
        mark = "  <- the video stage's setting" if row is target else ""
        print(f"{'x264 ' + data['x264_preset'] + ' crf ' + str(row['crf']):<26}"
              f"{row['ssim']:>9.5f}{row['kbps']:>9}{row['fps']:>10.1f}{mark}")
    for row in data["nvenc"]:
        print(f"{'nvenc ' + row['preset'] + ' cq ' + str(row['cq']):<26}"
              f"{row['ssim']:>9.5f}{row['kbps']:>9}{row['fps']:>10.1f}")
    if data["nvenc_untested"]:
        print(f"nvenc: untested here ({data['nvenc_untested']})")
    elif data["picked"]:
        print(f"nvenc matching x264's SSIM {target['ssim']:.5f}: cq {data['picked']['cq']} "
              f"(CQ_OFFSET {data['picked']['cq_offset']:+d} in pipeline/encoders.py)")
    else:
        print("nvenc: no level tried reaches x264's SSIM: try lower -cq")


if __name__ == "__main__":
    sys.exit(main())
