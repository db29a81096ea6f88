"""How should a render split its video work? Renders the example script with the video in
one piece and in chunks of several lengths, side by side in one run, fresh each time (no
reuse of parts), and reports each stage's seconds and the speed relative to one piece.

    .venv/bin/python benchmarks/render_chunks.py [--script examples/lighthouse.md]

Prints a table and writes benchmarks/results/render_chunks.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from machine import machine  # benchmarks/machine.py (a script's folder is on sys.path)

from vidgen_ray.config import RenderSettings
from vidgen_ray.farm.connect import connect, render

CONFIGS = [  # (label, chunk seconds, ffmpeg threads per chunk)
    ("one piece, 2 threads", 600.0, 2),
    ("10 s chunks, 1 thread", 10.0, 1),
    ("10 s chunks, 2 threads", 10.0, 2),
    ("5 s chunks, 1 thread", 5.0, 1),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--script", type=Path, default=Path("examples/lighthouse.md"))
    parser.add_argument("--resolution", default="720p")
    args = parser.parse_args()
    connect(None)
    rows = []
    for label, chunk, threads in CONFIGS:
        out = Path(tempfile.mkdtemp(prefix="vidgen-bench-"))
        settings = RenderSettings(resolution=args.resolution, chunk_seconds=chunk,
                                  ffmpeg_threads=threads)
        started = time.perf_counter()
        result = render(args.script, out, settings)
        total = time.perf_counter() - started
        rows.append({"config": label, "chunk_seconds": chunk, "threads": threads,
                     "video_seconds": round(result.duration, 2), "total": round(total, 2),
                     **{k: round(v, 2) for k, v in result.timings.items()}})
        shutil.rmtree(out)
    base = rows[0]["total"]
    print(f"machine: {machine()}; video {rows[0]['video_seconds']} s at {args.resolution}")
    print(f"{'config':<24}{'video stage s':>14}{'total s':>10}{'speed vs one piece':>20}")
    for row in rows:
        row["speedup"] = round(base / row["total"], 2)
        print(f"{row['config']:<24}{row['video']:>14.2f}{row['total']:>10.2f}"
              f"{row['speedup']:>19.2f}x")
    target = Path("benchmarks/results/render_chunks.json")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"machine": machine(), "script": str(args.script),
                                  "resolution": args.resolution, "rows": rows}, indent=2))
    print(f"written {target}")


if __name__ == "__main__":
    main()
