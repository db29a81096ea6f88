"""The CLI's overhead on the embedded demo: what `vidgen render` spends besides its stages,
on a private farm (today's default without a running farm) and on a warm one, side by side.

Runs `vidgen render examples/lighthouse.md` (the script of `make demo`) N times as a user
does (a fresh process, a fresh output folder each time, so nothing resumes), and for each
run reads the stage timings from its manifest.json. Overhead = wall time - sum of stages:
Python and package imports, starting and stopping Ray, the workers' start (their models'
load), the summary and QC printout. Since pictures run beside speech and the soundtrack
beside the video, the sum counts them twice: "outside" = wall time - the stages' critical
path (analyze + max(speech, images) + max(video, audio) + check + mux) is the truer
overhead. Two series: with --private-farm (each render starts and stops its own Ray and
workers), then with a farm `vidgen farm start` keeps up (in a
farm dir of the benchmark's own, stopped at the end; its start and stop are timed once).
Also times `import vidgen_ray.cli.app` alone, and reads each run's time to the first
segment of the live preview (manifest.json's preview.first_segment_seconds: from the job's
start, so Ray's start is not in it). Prints a table of medians with min/max and
writes benchmarks/results/cli_overhead.json.

    .venv/bin/python benchmarks/cli_overhead.py [--runs 4] [--preview] [--farm both|private|warm]

The first run of each series warms the machine (page cache, Python bytecode) and is left
out of the medians unless --runs is 1.
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

from common import spread  # benchmarks/common.py (a script's folder is on sys.path)
from machine import machine

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "lighthouse.md"
ROWS = ("wall", "stages", "overhead", "path", "outside", "first_preview")


def one_render(script: Path, out: Path, extra: list[str], env: dict) -> dict:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "vidgen_ray", "render", str(script), "-o",
                           str(out), *extra], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"render failed ({done.returncode}):\n{done.stderr[-3000:]}")
    manifest = json.loads((out / "manifest.json").read_text())
    timings = manifest["timings"]
    stages = sum(timings.values())
    path = critical_path(timings)
    # From the job's start until the live preview's first segment was in preview.m3u8.
    first = manifest.get("preview", {}).get("first_segment_seconds")
    return {"wall_s": wall, "stages_s": stages, "overhead_s": wall - stages,
            "path_s": path, "outside_s": wall - path, "first_preview_s": first or 0.0,
            "timings": timings}


def critical_path(timings: dict) -> float:
    """The stages as they run: pictures beside speech, the soundtrack beside the video (the
    plain sum counts those twice, and on a loaded machine the overhead it gives goes below
    zero)."""
    get = timings.get
    return (get("analyze", 0) + max(get("speech", 0), get("images", 0))
            + max(get("video", 0), get("audio", 0)) + get("check", 0) + get("mux", 0))


def import_seconds() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import vidgen_ray.cli.app"], check=True)
    return time.perf_counter() - started


def series(script: Path, folder: Path, extra: list[str], runs: int, env: dict) -> list[dict]:
    results = []
    for number in range(runs):
        results.append(one_render(script, folder / f"out-{number}", extra, env))
        print(f"  run {number + 1}: wall {results[-1]['wall_s']:.2f} s, stages "
              f"{results[-1]['stages_s']:.2f} s", file=sys.stderr)
    return results


def summary(runs: list[dict]) -> dict:
    """Medians with min/max of the runs after the first (it warms the machine)."""
    warm = runs[1:] if len(runs) > 1 else runs
    result = {name: spread([r[f"{name}_s"] for r in warm])
              for name in ROWS}
    result["stage_medians"] = {stage: round(statistics.median(r["timings"][stage]
                                                              for r in warm), 2)
                               for stage in warm[0]["timings"]}
    result.update(runs=len(runs), measured_runs=len(warm),
                  each=[{k: round(v, 2) for k, v in r.items() if k != "timings"} for r in runs])
    return result


def farm_command(env: dict, action: str) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "vidgen_ray", "farm", action], env=env,
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"vidgen farm {action} failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--script", type=Path, default=DEMO)
    parser.add_argument("--preview", action="store_true", help="render with --preview")
    parser.add_argument("--farm", choices=("both", "private", "warm"), default="both")
    parser.add_argument("--note", default="", help="a remark stored with the results "
                        "(e.g. 'machine shared with other jobs')")
    args = parser.parse_args()
    extra = ["--preview"] if args.preview else []
    result: dict = {}
    with tempfile.TemporaryDirectory(prefix="cli-overhead-", dir="/tmp") as folder:
        base = Path(folder)
        # A farm dir of the benchmark's own: a farm the user keeps is neither used nor stopped.
        env = {**os.environ, "OMP_NUM_THREADS": "1", "VIDGEN_FARM_DIR": str(base / "farm")}
        if args.farm in ("both", "private"):
            print("private farm (each render starts and stops its own Ray):", file=sys.stderr)
            result["private"] = summary(series(args.script, base / "private",
                                               [*extra, "--private-farm"], args.runs, env))
        if args.farm in ("both", "warm"):
            print("warm farm (vidgen farm start once, then every render on it):",
                  file=sys.stderr)
            result["farm_start_s"] = round(farm_command(env, "start"), 2)
            try:
                result["warm"] = summary(series(args.script, base / "warm", extra, args.runs,
                                                env))
            finally:
                result["farm_stop_s"] = round(farm_command(env, "stop"), 2)
    result["import_cli"] = spread([import_seconds() for _ in range(3)])
    result.update(script=args.script.name, preview=args.preview, machine=machine(),
                  note=args.note, load=os.getloadavg()[0])
    print_table(result, args)
    target = ROOT / "benchmarks" / "results" / "cli_overhead.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written {target}")


def print_table(result: dict, args) -> None:
    farms = [name for name in ("private", "warm") if name in result]
    print(f"{args.script.name}{', --preview' if args.preview else ''}: median (min-max) of "
          f"the runs after the first")
    print(f"{'':<14}" + "".join(f"{name:>22}" for name in farms))
    for row in ROWS:
        cells = [result[name][row] for name in farms]
        print(f"{row:<14}" + "".join(f"{c['median']:>8.2f} ({c['min']:.2f}-{c['max']:.2f})"
                                     .rjust(22) for c in cells))
    if "farm_start_s" in result:
        print(f"vidgen farm start {result['farm_start_s']:.2f} s, stop "
              f"{result['farm_stop_s']:.2f} s (once, not per render)")
    imports = result["import_cli"]
    print(f"import vidgen_ray.cli.app {imports['median']:.2f} s")


if __name__ == "__main__":
    main()
