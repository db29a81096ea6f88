"""Everything a lent GPU machine should run, once, in under nine minutes: the GPU tests, the
e2e render (SDXL and Bark sharing one card through fractional GPUs), the per-model
benchmarks through the farm's pools, and NVENC's quality against x264's where the card has
one. Every step runs under its own time limit, cut to what is left of the suite's; JSON,
logs and a summary go to $OUT (the device machine's folder that comes back) or
benchmarks/results/.

    python benchmarks/gpu_suite.py              # on the GPU machine, from the repository root
    python benchmarks/gpu_suite.py --dry-run    # the steps and their limits, run nothing

A step that fails or runs out of time is recorded and the next one runs. The summary
(gpu_suite.json) names the card, each step's exit status, seconds and log file.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOTAL_S = 540  # nine minutes for the whole suite
KILL_GRACE_S = 10  # after the limit, SIGTERM, then SIGKILL this much later


@dataclass(frozen=True)
class Step:
    name: str
    limit_s: int
    argv: tuple[str, ...]  # {python} and {out} are filled in


STEPS = (
    Step("card", 15, ("nvidia-smi", "--query-gpu=name,memory.total,driver_version",
                      "--format=csv")),
    # NVENC's quality level against x264's (an L4, A10G, L40S; an H100 or H200 has no NVENC:
    # it records why, in a second).
    Step("encoder-quality", 15, ("{python}", "benchmarks/encoder_quality.py", "--quick",
                                 "--results", "{out}")),
    # With the NVENC join test (skipped on a card without NVENC: an H100, H200).
    Step("gpu-tests", 120, ("{python}", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            "tests/gpu", "tests/integration/test_encoder_join.py",
                            "--junitxml={out}/gpu_tests.xml")),
    Step("e2e-render", 270, ("{python}", "benchmarks/e2e_render.py", "--gpus", "1",
                             "--results", "{out}")),
    Step("models-via-pools", 120, ("{python}", "benchmarks/gpu_models.py", "--images",
                                   "--speech", "--pool", "--results", "{out}")),
)


def results_folder() -> Path:
    out = os.environ.get("OUT")
    return Path(out) if out else ROOT / "benchmarks" / "results"


def command(step: Step, out: Path) -> list[str]:
    return [part.format(python=sys.executable, out=out) for part in step.argv]


def environment() -> dict[str, str]:
    """Ray on loopback (NOTES.md), this tree's vidgen_ray first, one torch thread per CPU
    worker; none of the developer's VIDGEN_ settings."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("VIDGEN_") and k != "RAY_ADDRESS"}
    return env | {"PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                              env.get("PYTHONPATH")])),
                  "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0",
                  "RAY_ENABLE_AUTO_CONNECT": "0", "RAY_AUTH_MODE": "disabled",
                  "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}


def plan(total_s: int = TOTAL_S) -> list[dict]:
    """The steps with their limits; the limits add up to at most ``total_s``."""
    if sum(step.limit_s for step in STEPS) > total_s:
        raise ValueError(f"the steps' limits add up to more than {total_s} s: shorten one")
    out = results_folder()
    return [{"step": s.name, "limit_s": s.limit_s, "command": command(s, out)} for s in STEPS]


def run_step(step: Step, out: Path, left_s: float) -> dict:
    limit = min(step.limit_s, int(left_s))
    log = out / "logs" / f"{step.name}.log"
    if limit <= 0:
        return {"step": step.name, "rc": None, "seconds": 0.0, "log": None,
                "skipped": "the suite's time was used up"}
    started = time.perf_counter()
    with log.open("w") as sink:
        try:
            # Its own process group: a step past its limit is stopped with the Ray it
            # started, so no stray worker keeps GPU memory from the next step.
            process = subprocess.Popen(command(step, out), cwd=ROOT, env=environment(),
                                       stdout=sink, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        except FileNotFoundError as exc:  # nvidia-smi missing: no card here
            sink.write(f"{exc}\n")
            return {"step": step.name, "rc": 127, "seconds": 0.0, "log": str(log)}
        try:
            rc = process.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            _stop(process)
            rc = 124  # what timeout(1) says
    return {"step": step.name, "rc": rc, "seconds": round(time.perf_counter() - started, 1),
            "limit_s": limit, "log": str(log), "timed_out": rc == 124}


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM to the step's process group, SIGKILL if it is still there after the grace."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=KILL_GRACE_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="list the steps, run nothing")
    args = parser.parse_args(argv)
    steps = plan()
    if args.dry_run:
        for row in steps:
            print(f"{row['step']:<18} {row['limit_s']:>4} s  {' '.join(row['command'])}")
        print(f"total limit {sum(r['limit_s'] for r in steps)} s (of {TOTAL_S} s); results "
              f"in {results_folder()}")
        return 0
    out = results_folder()
    (out / "logs").mkdir(parents=True, exist_ok=True)
    began, rows = time.perf_counter(), []
    for step in STEPS:
        rows.append(run_step(step, out, TOTAL_S - (time.perf_counter() - began)))
        print(f"{step.name}: {rows[-1]}", flush=True)
    summary = {"total_s": round(time.perf_counter() - began, 1), "steps": rows,
               "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    (out / "gpu_suite.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"wrote {out / 'gpu_suite.json'}")
    return 0 if all(row["rc"] == 0 for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
