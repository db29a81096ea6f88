"""Which dissolve filter? A 15-frame 720p dissolve of two moving stills, made with a
per-pixel blend expression and with fade(alpha)+overlay (what assembly.py uses), side by
side, best of three runs each. Prints a table and writes benchmarks/results/dissolve.json.

    .venv/bin/python benchmarks/dissolve.py
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from pathlib import Path

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


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        stills = []
        for n, color in enumerate(("0x3060a0", "0xa06030")):
            path = Path(tmp) / f"{n}.png"
            subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                            f"testsrc2=s={SIZE}:d=1,drawbox=c={color}@0.5:t=fill",
                            "-frames:v", "1", str(path)], check=True)
            stills.append(path)
        rows = []
        for label, graph in GRAPHS.items():
            runs = []
            for _ in range(3):
                started = time.perf_counter()
                subprocess.run(["ffmpeg", "-v", "error", "-i", str(stills[0]), "-i",
                                str(stills[1]), "-filter_complex", graph, "-map", "[v]",
                                "-r", str(FPS), "-f", "null", "-"], check=True)
                runs.append(time.perf_counter() - started)
            rows.append({"method": label, "seconds": round(min(runs), 3)})
    base = rows[0]["seconds"]
    print(f"{'method':<30}{'seconds':>10}{'speed':>10}")
    for row in rows:
        row["speedup"] = round(base / row["seconds"], 1)
        print(f"{row['method']:<30}{row['seconds']:>10.3f}{row['speedup']:>9.1f}x")
    target = Path("benchmarks/results/dissolve.json")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"frames": FRAMES, "size": SIZE, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
