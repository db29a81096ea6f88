"""How far is the video stage from the encoder's floor? CPU-seconds per second of video for
the chunk graphs of vidgen_ray/pipeline/assembly.py (camera moves, dissolves, as a render
builds them: storyboard cards, one FFmpeg thread a chunk) against x264 alone encoding the
same frames read from a raw file, with the same encoder arguments. Floor and ours
alternate, runs repeated; medians with min and max. CPU time is the children's rusage
(user + system of each ffmpeg). Then where the time goes: the graph run without encoding,
with the camera moves and then the dissolves' blending replaced by ``null``.

    .venv/bin/python benchmarks/assembly_cost.py [--runs 3] [--seconds 10]
        [--resolutions 720p,1080p] [--held]

``--held``: every scene ``motion: still`` (the picture held, no camera move), as MoviePy's
side of benchmarks/assembly_vs_moviepy.py shows it.

Prints a table and writes benchmarks/results/assembly_cost.json (assembly_cost_held.json).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from common import write_results  # benchmarks/ is on sys.path when run as a script
from machine import machine

from vidgen_ray.config import RenderSettings
from vidgen_ray.images.base import ImageRequest
from vidgen_ray.images.cards import CardsBackend
from vidgen_ray.pipeline import assembly, encoders
from vidgen_ray.programs import ffmpeg_version
from vidgen_ray.storyboard import Line, Scene, Storyboard
from vidgen_ray.timeline import Pacing, plan_timeline

# One of each kind of move, dissolves between them (the default transition).
MOVES = ("zoom_in", "pan_left", "zoom_out", "pan_up", "zoom_in", "pan_right")
MOODS = ("calm", "tense", "joyful", "sad", "mysterious", "epic")
# Ablations for the split: each removes one kind of work from the graph (old and new graphs).
# A zoom's filters are named (camera.zoom_filters); its frame crop stays (a cheap one).
MOVE_FILTERS = re.compile(r"perspective=[^,;\[]*|(?:sendcmd@zc|crop@zw|scale@zs)\w*="
                          r"(?:\\.|[^\\,;\[])*")
BLEND_FILTERS = re.compile(r",format=yuva420p,fade=t=in:[^,;\[]*:alpha=1")


def build(folder: Path, seconds: float, scenes: int, settings: RenderSettings,
          held: bool = False):
    """A timeline of ``scenes`` moving (or ``held``) cards over about ``seconds``, and their
    stills."""
    board = Storyboard(scenes=[
        Scene(title=f"Scene {i + 1}", lines=[Line(text="x")], mood=MOODS[i % len(MOODS)],
              **({"motion": "still"} if held else {"camera": MOVES[i % len(MOVES)]}))
        for i in range(scenes)])
    pacing = Pacing(fps=settings.fps)
    line = (seconds + (scenes - 1) * pacing.crossfade) / scenes - pacing.lead_in - pacing.tail
    timeline = plan_timeline(board, [[line - pacing.crossfade if i else line]
                                     for i in range(scenes)], pacing)
    width, height = settings.size
    pngs = CardsBackend().generate([ImageRequest(i + 1, s.title, "A benchmark card.", (),
                                                 s.mood, width, height, i)
                                    for i, s in enumerate(board.scenes)])
    stills = {}
    for i, png in enumerate(pngs):
        stills[i] = folder / f"{i}.png"
        stills[i].write_bytes(png)
    return timeline, stills


def cpu_seconds(command: list[str]) -> float:
    """User + system CPU time of one ffmpeg run (a child: RUSAGE_CHILDREN grows when it is
    waited for)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, check=True, stdin=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def ffmpeg_cmd(args: list[str]) -> list[str]:
    return ["ffmpeg", "-hide_banner", "-nostdin", "-y", "-v", "error", *args]


def chunk_commands(timeline, stills, settings, folder: Path) -> list[list[str]]:
    """The ffmpeg command of every chunk, as the video stage runs them."""
    commands = []
    for start, end in timeline.chunks(settings.chunk_seconds):
        needed = {s: stills[s] for s in assembly.scenes_in(timeline, start, end)}
        commands.append(ffmpeg_cmd(assembly.chunk_args(
            timeline, start, end, needed, settings, folder / f"ours{start}.mp4")))
    return commands


def graph_only(command: list[str], fps: int, edit=None) -> list[str]:
    """A chunk's command with its filter graph (edited) run into the null muxer: no encode."""
    args = command[: command.index("-map") + 2]
    at = args.index("-filter_complex") + 1
    if edit is not None:
        args[at] = edit(args[at])
    return [*args, "-r", str(fps), "-f", "null", "-"]


def floor_commands(timeline, stills, settings, folder: Path) -> list[list[str]]:
    """Each chunk's frames rendered once to raw YUV, and the command that encodes them with
    the chunk's encoder arguments: the encoder alone."""
    width, height = settings.size
    commands = []
    for n, command in enumerate(chunk_commands(timeline, stills, settings, folder)):
        raw = folder / f"chunk{n}.yuv"
        wanted = int(command[command.index("-frames:v") + 1])
        # The output's rate as the chunk's: without -r, the raw muxer took the stills' 25 fps
        # and dropped every sixth frame (the floor then encoded 254 of 303 frames).
        subprocess.run([*command[: command.index("-map") + 2], "-r", str(settings.fps),
                        "-frames:v", str(wanted), "-f", "rawvideo", "-pix_fmt", "yuv420p",
                        str(raw)], check=True)
        frames = raw.stat().st_size // (width * height * 3 // 2)
        if frames != wanted:
            raise SystemExit(f"the floor's raw frames of chunk {n}: {frames}, not {wanted}")
        commands.append(ffmpeg_cmd([
            "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{width}x{height}",
            "-r", str(settings.fps), "-i", str(raw), *encoders.encoder_args(settings),
            "-frames:v", str(frames), str(folder / f"floor{n}.mp4")]))
    return commands


def summary(values: list[float], video_s: float) -> dict:
    per = [v / video_s for v in values]
    return {"runs": [round(v, 3) for v in values], "median": round(statistics.median(per), 3),
            "min": round(min(per), 3), "max": round(max(per), 3)}


def measure(resolution: str, args, folder: Path) -> dict:
    settings = RenderSettings(resolution=resolution)
    timeline, stills = build(folder, args.seconds, args.scenes, settings, args.held)
    video_s, fps = timeline.duration, settings.fps
    ours = chunk_commands(timeline, stills, settings, folder)
    floor = floor_commands(timeline, stills, settings, folder)
    variants = {  # the split: the graph alone, then without moves, then without blending
        "graph, no encode": [graph_only(c, fps) for c in ours],
        "graph without camera moves": [graph_only(c, fps, lambda g: MOVE_FILTERS.sub("null", g))
                                       for c in ours],
        "graph without moves or dissolve blending": [
            graph_only(c, fps, lambda g: BLEND_FILTERS.sub("", MOVE_FILTERS.sub("null", g)))
            for c in ours],
    }
    times: dict[str, list[float]] = {"floor": [], "ours": [], **{k: [] for k in variants}}
    for _ in range(args.runs):  # alternated, so a change of load hits both alike
        times["floor"].append(sum(cpu_seconds(c) for c in floor))
        times["ours"].append(sum(cpu_seconds(c) for c in ours))
        for label, commands in variants.items():
            times[label].append(sum(cpu_seconds(c) for c in commands))
    result = {"resolution": resolution, "size": list(settings.size), "fps": settings.fps,
              "video_s": round(video_s, 3), "frames": timeline.total_frames,
              "chunks": len(ours), "preset": settings.x264_preset, "crf": settings.crf,
              "command_ours": shlex.join(ours[0]), "command_floor": shlex.join(floor[0]),
              **{k: summary(v, video_s) for k, v in times.items()}}
    result["ratio"] = round(result["ours"]["median"] / result["floor"]["median"], 2)
    return result


def print_table(rows: list[dict]) -> None:
    print(f"{'resolution':<11}{'measure':<44}{'CPU-s per video-s (min-max)':>30}")
    for row in rows:
        for label in ("floor", "ours", "graph, no encode", "graph without camera moves",
                      "graph without moves or dissolve blending"):
            name = {"floor": "x264 alone (raw frames in)", "ours": "video stage (graph + x264)"
                    }.get(label, label)
            s = row[label]
            print(f"{row['resolution']:<11}{name:<44}"
                  f"{s['median']:>12.3f} ({s['min']:.3f}-{s['max']:.3f})")
        g, nm, nb = (row[k]["median"] for k in ("graph, no encode", "graph without camera moves",
                                                "graph without moves or dissolve blending"))
        print(f"{row['resolution']:<11}split: camera moves {g - nm:.3f}, dissolve blending "
              f"{nm - nb:.3f}, rest of the graph (decode, scale, loop, concat) {nb:.3f}, "
              f"encode in the stage {row['ours']['median'] - g:.3f}")
        print(f"{row['resolution']:<11}ratio video stage / encoder alone: {row['ratio']:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0, help="video length")
    parser.add_argument("--scenes", type=int, default=4)
    parser.add_argument("--resolutions", default="720p,1080p")
    parser.add_argument("--held", action="store_true",
                        help="hold every picture (motion: still) instead of moving it")
    args = parser.parse_args()
    command = shlex.join([Path(sys.executable).name, *sys.argv])
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="vidgen-cost-") as tmp:
        rows = []
        for resolution in args.resolutions.split(","):
            folder = Path(tmp) / resolution
            folder.mkdir()
            rows.append(measure(resolution, args, folder))
    load_after = os.getloadavg()
    print(f"$ {command}")
    print(f"machine: {machine()}; {ffmpeg_version()}; load average before "
          f"{load_before[0]:.2f}, after {load_after[0]:.2f} (1 min)")
    shown = "held stills" if args.held else f"moves {', '.join(MOVES[:args.scenes])}"
    print(f"{args.scenes} scenes, {rows[0]['video_s']} s, {rows[0]['fps']} fps, {shown}, "
          f"dissolves; x264 {rows[0]['preset']} "
          f"crf {rows[0]['crf']}, 1 thread; medians of {args.runs} runs")
    print_table(rows)
    target = write_results("assembly_cost_held" if args.held else "assembly_cost", {
        "machine": machine(), "ffmpeg": ffmpeg_version(), "command": command,
        "assembly_version": assembly.ASSEMBLY_VERSION, "runs": args.runs, "held": args.held,
        "load_average_before": load_before, "load_average_after": load_after, "rows": rows})
    print(f"written {target}")


if __name__ == "__main__":
    main()
