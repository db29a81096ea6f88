"""One FFmpeg pass or parallel chunks? The same 60 s, 12-scene 720p30 timeline (cards, Ken
Burns moves, 0.5 s dissolves) encoded as one pass using every core, and as 10 s chunks
encoded in parallel (one thread each, one per core) then joined with the concat demuxer
`-c copy`. Side by side in one run; prints a table and writes
benchmarks/results/chunked_encode.json with keys single_pass_s, chunked_s, ratio.

    .venv/bin/python benchmarks/chunked_encode.py
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from vidgen_ray.config import RenderSettings
from vidgen_ray.images.base import ImageRequest
from vidgen_ray.images.cards import CardsBackend
from vidgen_ray.pipeline import assembly
from vidgen_ray.programs import ffmpeg
from vidgen_ray.storyboard import Line, Scene, Storyboard
from vidgen_ray.timeline import Pacing, plan_timeline

SCENES, SECONDS = 12, 60.0
MOODS = ("calm", "tense", "joyful", "sad", "mysterious", "epic")


def build(folder: Path):
    board = Storyboard(scenes=[Scene(title=f"Scene {i + 1}", lines=[Line(text="x")],
                                     mood=MOODS[i % len(MOODS)]) for i in range(SCENES)])
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


def main() -> None:
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        timeline, stills = build(folder)
        started = time.perf_counter()
        encode(timeline, stills, 0, timeline.total_frames, cores, folder / "single.mp4")
        single = time.perf_counter() - started

        started = time.perf_counter()
        ranges = timeline.chunks(10.0)
        with ThreadPoolExecutor(cores) as pool:  # threads wait on ffmpeg processes
            parts = list(pool.map(lambda r: encode(timeline, stills, r[0], r[1], 1,
                                                   folder / f"c{r[0]}.mp4"), ranges))
        listing = folder / "list.ffconcat"
        listing.write_text(assembly.concat_list(
            [(p, (b - a) / timeline.fps) for p, (a, b) in zip(parts, ranges, strict=True)]))
        ffmpeg(["-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy",
                str(folder / "joined.mp4")])
        chunked = time.perf_counter() - started
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    row = {"machine": f"{cpu}, {cores} CPUs", "video_s": round(timeline.duration, 2),
           "chunks": len(ranges), "single_pass_s": round(single, 2),
           "chunked_s": round(chunked, 2), "ratio": round(single / chunked, 2)}
    print(f"machine: {row['machine']}; {row['video_s']} s of 720p30, {SCENES} scenes")
    print(f"{'single pass s':>14}{'chunked s':>12}{'ratio':>8}")
    print(f"{single:>14.2f}{chunked:>12.2f}{row['ratio']:>7.2f}x")
    target = Path("benchmarks/results/chunked_encode.json")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(row, indent=2))


if __name__ == "__main__":
    main()
