"""The CLI's overhead on the embedded demo: what `vidgen render` spends besides its stages.

Runs `vidgen render examples/lighthouse.md` (the script of `make demo`) N times as a user
does (a fresh process, a fresh output folder each time, so nothing resumes), and for each
run reads the stage timings from its manifest.json. Overhead = wall time - sum of stages:
Python and package imports, starting and stopping Ray, the workers' start, the summary and
QC printout. Also times `import vidgen_ray.cli.app` alone (the share imports take). Prints a
table of medians with min/max and writes benchmarks/results/cli_overhead.json.

    .venv/bin/python benchmarks/cli_overhead.py [--runs 3] [--preview] [--script FILE]

The first run warms the machine (page cache, Python bytecode) and is left out of the
medians unless --runs is 1.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import machine  # benchmarks/machine.py (a script's folder is on sys.path)

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "lighthouse.md"


def one_render(script: Path, out: Path, extra: list[str]) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "vidgen_ray", "render", str(script), "-o",
                           str(out), *extra], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"render failed ({done.returncode}):\n{done.stderr[-3000:]}")
    timings = json.loads((out / "manifest.json").read_text())["timings"]
    stages = sum(timings.values())
    return {"wall_s": wall, "stages_s": stages, "overhead_s": wall - stages, "timings": timings}


def import_seconds() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import vidgen_ray.cli.app"], check=True)
    return time.perf_counter() - started


def spread(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 2), "min": round(min(values), 2),
            "max": round(max(values), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--script", type=Path, default=DEMO)
    parser.add_argument("--preview", action="store_true", help="render with --preview")
    parser.add_argument("--note", default="", help="a remark stored with the results "
                        "(e.g. 'machine shared with other jobs')")
    args = parser.parse_args()
    extra = ["--preview"] if args.preview else []
    runs = []
    with tempfile.TemporaryDirectory(prefix="cli-overhead-") as folder:
        for number in range(args.runs):
            runs.append(one_render(args.script, Path(folder) / f"out-{number}", extra))
            print(f"run {number + 1}: wall {runs[-1]['wall_s']:.2f} s, stages "
                  f"{runs[-1]['stages_s']:.2f} s", file=sys.stderr)
    warm = runs[1:] if len(runs) > 1 else runs
    imports = [import_seconds() for _ in range(3)]
    result = {name: spread([r[f"{name}_s"] for r in warm])
              for name in ("wall", "stages", "overhead")}
    result["import_cli"] = spread(imports)
    result["stage_medians"] = {stage: round(statistics.median(r["timings"][stage] for r in warm),
                                            2) for stage in warm[0]["timings"]}
    result.update(runs=len(runs), warm_runs=len(warm), script=args.script.name,
                  preview=args.preview, machine=machine(), note=args.note,
                  load=os.getloadavg()[0])
    print(f"{'':<10}{'median':>8}{'min':>8}{'max':>8}   ({args.script.name}, "
          f"{len(warm)} warm runs{', --preview' if args.preview else ''})")
    for name in ("wall", "stages", "overhead", "import_cli"):
        row = result[name]
        print(f"{name:<10}{row['median']:>8.2f}{row['min']:>8.2f}{row['max']:>8.2f}")
    target = ROOT / "benchmarks" / "results" / "cli_overhead.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written {target}")


if __name__ == "__main__":
    main()
