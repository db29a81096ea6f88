"""One FFmpeg pass or parallel chunks? The same 60 s, 12-scene 720p30 timeline (cards, Ken
Burns moves, 0.5 s dissolves) encoded as one pass using every core, and as 10 s chunks
encoded in parallel (one thread each, one per core) then joined with the concat demuxer
`-c copy`. ``--rounds`` rounds (default 3), the two alternating; median (min-max) of wall
and FFmpeg CPU seconds. Prints the command and a table and writes
benchmarks/results/chunked_encode.json with keys single_pass_s, chunked_s, ratio (medians).

    .venv/bin/python benchmarks/chunked_encode.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

from common import (  # benchmarks/common.py (a script's folder is on sys.path)
    alternate,
    command,
    spread,
    spread_text,
    timed,
    write_results,
)
from machine import machine

from vidgen_ray.config import RenderSettings
from vidgen_ray.images.base import ImageRequest
from vidgen_ray.images.cards import CardsBackend
from vidgen_ray.pipeline import assembly
from vidgen_ray.programs import ffmpeg
from vidgen_ray.storyboard import Line, Scene, Storyboard
from vidgen_ray.timeline import Pacing, plan_timeline

SCENES, SECONDS = 12, 60.0
MOODS = ("calm", "tense", "joyful", "sad", "mysterious", "epic")


def build(folder: Path, motion: str | None = None):
    """The timeline and its stills; ``motion="still"`` holds every picture (no camera move)."""
    board = Storyboard(scenes=[Scene(title=f"Scene {i + 1}", lines=[Line(text="x")],
                                     mood=MOODS[i % len(MOODS)], motion=motion)
                               for i in range(SCENES)])
    pacing = Pacing()
    # Line lengths chosen so the whole video lasts 60 s with its padding and dissolves.
    line = (SECONDS + (SCENES - 1) * pacing.crossfade) / SCENES - pacing.lead_in - pacing.tail
    timeline = plan_timeline(board, [[line - pacing.crossfade if i else line]
                                     for i in range(SCENES)], pacing)
    width, height = RenderSettings().size
    pngs = CardsBackend().generate([ImageRequest(i + 1, s.title, "A benchmark card.", (),
                                                 s.mood, width, height, i)
                                    for i, s in enumerate(board.scenes)])
    stills = {}
    for i, png in enumerate(pngs):
        stills[i] = folder / f"{i}.png"
        stills[i].write_bytes(png)
    return timeline, stills


def encode(timeline, stills, start, end, threads, out: Path) -> Path:
    settings = RenderSettings(ffmpeg_threads=threads)
    needed = {s: stills[s] for s in assembly.scenes_in(timeline, start, end)}
    ffmpeg(assembly.chunk_args(timeline, start, end, needed, settings, out))
    return out


def single(timeline, stills, folder: Path) -> None:
    encode(timeline, stills, 0, timeline.total_frames, os.cpu_count() or 1,
           folder / "single.mp4")


def chunked(timeline, stills, folder: Path) -> None:
    ranges = timeline.chunks(10.0)
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:  # threads wait on ffmpeg processes
        parts = list(pool.map(lambda r: encode(timeline, stills, r[0], r[1], 1,
                                               folder / f"c{r[0]}.mp4"), ranges))
    listing = folder / "list.ffconcat"
    listing.write_text(assembly.concat_list(
        [(p, (b - a) / timeline.fps) for p, (a, b) in zip(parts, ranges, strict=True)]))
    ffmpeg(["-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy",
            str(folder / "joined.mp4")])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"Command: {command()}", flush=True)
    ways = {"single_pass": single, "chunked": chunked}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        timeline, stills = build(folder)
        runs = alternate({name: partial(timed, partial(way, timeline, stills, folder))
                          for name, way in ways.items()}, args.rounds)
    loads = [r["load_start"] for series in runs.values() for r in series]
    walls = {name: [r["wall_s"] for r in runs[name]] for name in ways}
    cpus = {name: [r["cpu_s"] for r in runs[name]] for name in ways}
    row = {"command": command(), "machine": machine(), "video_s": round(timeline.duration, 2),
           "chunks": len(timeline.chunks(10.0)), "rounds": args.rounds,
           "single_pass_s": spread(walls["single_pass"])["median"],
           "chunked_s": spread(walls["chunked"])["median"],
           "spread": {name: {"wall_s": spread(walls[name]), "cpu_s": spread(cpus[name])}
                      for name in ways},
           "load_average_1min": spread(loads), "runs": runs}
    row["ratio"] = round(row["single_pass_s"] / row["chunked_s"], 2)
    print(f"machine: {row['machine']}; {row['video_s']} s of 720p30, {SCENES} scenes; "
          f"{args.rounds} rounds, alternating; median (min-max)")
    print(f"{'':<12}{'wall s':>22}{'CPU s':>22}")
    for name in ways:
        print(f"{name:<12}{spread_text(walls[name]):>22}{spread_text(cpus[name]):>22}")
    print(f"single pass / chunked, medians of wall: {row['ratio']:.2f}x")
    print(f"written {write_results('chunked_encode', row)}")


if __name__ == "__main__":
    main()
