"""How should a render split its video work? Renders the example script with the video in
one piece and in chunks of several lengths, fresh each time (no reuse of parts), and
reports each stage's seconds and the speed relative to one piece.

Every configuration gets the same CPU allowance: one local Ray started with ``--cpus`` CPUs
(default: all of this machine's), in which an FFmpeg task holds as many CPUs as it has
threads. One piece uses them all in one FFmpeg process (``--cpus`` threads); chunks with one
thread run ``--cpus`` at a time; chunks with ``--cpus`` threads run one at a time. One
untimed render first warms Ray's workers and the page cache, then ``--rounds`` rounds, each
running every configuration once, in an order rotated each round (no configuration always
goes first). Reported: median (min-max) over the rounds of the video stage and the total,
and the ratio of the medians against one piece.

    .venv/bin/python benchmarks/render_chunks.py [--script examples/lighthouse.md]
        [--resolution 720p] [--rounds 3] [--cpus N]

Prints the command and a table and writes benchmarks/results/render_chunks.json (every run,
with the 1-minute load average at its start).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from functools import partial
from pathlib import Path

from common import (  # benchmarks/common.py (a script's folder is on sys.path)
    alternate,
    command,
    load_average,
    rotations,
    spread,
    spread_text,
    start_ray,
    write_results,
)
from machine import machine

from vidgen_ray.config import RenderSettings
from vidgen_ray.farm.connect import render


def configs(cpus: int) -> dict[str, tuple[float, int]]:
    """label -> (chunk seconds, FFmpeg threads per chunk), all within ``cpus`` CPUs."""
    return {f"one piece, {cpus} threads": (600.0, cpus),
            "10 s chunks, 1 thread": (10.0, 1),
            f"10 s chunks, {cpus} threads": (10.0, cpus),
            "5 s chunks, 1 thread": (5.0, 1)}


def render_once(script: Path, resolution: str, chunk: float, threads: int) -> dict:
    out = Path(tempfile.mkdtemp(prefix="vidgen-bench-"))
    settings = RenderSettings(resolution=resolution, chunk_seconds=chunk, ffmpeg_threads=threads)
    load = load_average()
    started = time.perf_counter()
    result = render(script, out, settings)
    total = time.perf_counter() - started
    shutil.rmtree(out)
    return {"video_seconds": round(result.duration, 2), "total": round(total, 2),
            "load_start": load, **{k: round(v, 2) for k, v in result.timings.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--script", type=Path, default=Path("examples/lighthouse.md"))
    parser.add_argument("--resolution", default="720p")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cpus", type=int, default=os.cpu_count() or 1,
                        help="the CPU allowance of every configuration (Ray's num_cpus)")
    args = parser.parse_args()
    print(f"Command: {command()}", flush=True)
    start_ray(args.cpus)
    table = configs(args.cpus)
    render_once(args.script, args.resolution, *table[next(iter(table))])  # warm-up, untimed
    runs = alternate({label: partial(render_once, args.script, args.resolution, *config)
                      for label, config in table.items()}, args.rounds)
    order = rotations(list(table), args.rounds)
    # "video" and "total" are the medians (the keys versus.py compares across commits).
    rows = [{"config": label, "chunk_seconds": chunk, "threads": threads,
             **{key: spread([r[key] for r in runs[label]])["median"] for key in ("video", "total")},
             "spread": {key: spread([r[key] for r in runs[label]]) for key in ("video", "total")},
             "runs": runs[label]} for label, (chunk, threads) in table.items()]
    base = rows[0]["total"]
    for row in rows:
        row["speedup"] = round(base / row["total"], 2)
    loads = [r["load_start"] for label in runs for r in runs[label]]
    result = {"command": command(), "machine": machine(), "script": str(args.script),
              "resolution": args.resolution, "cpus": args.cpus, "rounds": args.rounds,
              "order": order, "video_seconds": runs[rows[0]["config"]][0]["video_seconds"],
              "load_average_1min": spread(loads), "rows": rows}
    print(f"machine: {result['machine']}; video {result['video_seconds']} s at "
          f"{args.resolution}; {args.cpus} CPUs for every configuration; {args.rounds} "
          f"rounds, rotated; median (min-max); 1-min load average "
          f"{min(loads)}-{max(loads)} (median {statistics.median(loads)})")
    print(f"{'config':<24}{'video stage s':>22}{'total s':>22}{'speed vs one piece':>20}")
    for row in rows:
        print(f"{row['config']:<24}{spread_text([r['video'] for r in row['runs']]):>22}"
              f"{spread_text([r['total'] for r in row['runs']]):>22}{row['speedup']:>19.2f}x")
    print(f"written {write_results('render_chunks', result)}")


if __name__ == "__main__":
    main()
