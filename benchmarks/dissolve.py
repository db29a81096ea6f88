"""Which dissolve filter? A 15-frame 720p dissolve of two moving stills, made with a
per-pixel blend expression and with fade(alpha)+overlay (what assembly.py uses), side by
side: ``--rounds`` rounds (default 3), the two alternating, median (min-max) of the wall
and of FFmpeg's CPU seconds; speed = the ratio of the wall medians. Prints
the command and a table and writes benchmarks/results/dissolve.json.

    .venv/bin/python benchmarks/dissolve.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
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

FRAMES, FPS, SIZE = 15, 30, "1280x720"
MOVE = "perspective=x0='in':y0=0:x1=W:y1=0:x2=0:y2=H:x3=W:y3=H:eval=frame"
START = 100  # the dissolve's first frame in the video; fade is timed in absolute frames
STILL = f"loop=loop={FRAMES - 1}:size=1,settb=1/{FPS},setpts=N+{START},{MOVE}"
GRAPHS = {
    "blend all_expr (per pixel)": (
        f"[0:v]{STILL}[a];[1:v]{STILL}[b];"
        f"[a][b]blend=all_expr='A*(1-(N+1)/{FRAMES + 1})+B*(N+1)/{FRAMES + 1}',"
        f"setpts=N[v]"),
    "fade alpha + overlay": (
        f"[0:v]{STILL}[a];[1:v]{STILL},format=yuva420p,"
        f"fade=t=in:st={(START - 1) / FPS:.6f}:d={(FRAMES + 1) / FPS:.6f}:alpha=1[b];"
        f"[a][b]overlay=format=yuv420:eof_action=pass,setpts=N[v]"),
}


def run(graph: str, stills: list[Path]) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(stills[0]), "-i", str(stills[1]),
                    "-filter_complex", graph, "-map", "[v]", "-r", str(FPS), "-f", "null", "-"],
                   check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"Command: {command()}")
    with tempfile.TemporaryDirectory() as tmp:
        stills = []
        for n, color in enumerate(("0x3060a0", "0xa06030")):
            path = Path(tmp) / f"{n}.png"
            subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                            f"testsrc2=s={SIZE}:d=1,drawbox=c={color}@0.5:t=fill",
                            "-frames:v", "1", str(path)], check=True)
            stills.append(path)
        runs = alternate({label: partial(timed, partial(run, graph, stills))
                          for label, graph in GRAPHS.items()}, args.rounds)
    walls = {label: [r["wall_s"] for r in runs[label]] for label in GRAPHS}
    cpus = {label: [r["cpu_s"] for r in runs[label]] for label in GRAPHS}
    rows = [{"method": label, "seconds": spread(walls[label], 3)["median"],
             "spread": {"wall_s": spread(walls[label], 3), "cpu_s": spread(cpus[label], 3)},
             "runs": runs[label]} for label in GRAPHS]
    base = rows[0]["seconds"]
    loads = [r["load_start"] for series in runs.values() for r in series]
    print(f"machine: {machine()}; {args.rounds} rounds, alternating; median (min-max); "
          f"1-min load average {min(loads)}-{max(loads)}")
    print(f"{'method':<30}{'wall s':>22}{'CPU s':>22}{'speed':>10}")
    for row in rows:
        row["speedup"] = round(base / row["seconds"], 1)
        print(f"{row['method']:<30}{spread_text(walls[row['method']]):>22}"
              f"{spread_text(cpus[row['method']]):>22}{row['speedup']:>9.1f}x")
    write_results("dissolve", {"command": command(), "machine": machine(), "frames": FRAMES,
                               "size": SIZE, "rounds": args.rounds,
                               "load_average_1min": spread(loads), "rows": rows})


if __name__ == "__main__":
    main()
