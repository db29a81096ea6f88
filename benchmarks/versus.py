"""A benchmark side by side with an earlier commit, in one run: is this change slower?

Checks REF out into a temporary worktree, then runs the benchmark script ROUNDS times in
each tree in turn (base, this tree, base, this tree, ...), each tree with its own copy of
the script and its own code first on PYTHONPATH, so both measure the same work on the same
machine at the same time. Each run's JSON (benchmarks/results/<name>.json, which the
script writes in the tree it runs in) is read, and every number under the keys asked for
(``--keys``, matched at any depth: rows of a table are numbered) is reported as the median
over the rounds for each tree, with min-max, and the ratio this/base (below 1 is faster).

    .venv/bin/python benchmarks/versus.py --base 090a63d --keys total,wall \\
        render_chunks.py -- --resolution 360p

Prints a table and writes benchmarks/results/versus_<name>.json.
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

from common import spread_text  # benchmarks/common.py (a script's folder is on sys.path)
from machine import machine

ROOT = Path(__file__).resolve().parents[1]


def numbers(data: object, keys: set[str], path: str = "") -> dict[str, float]:
    """Every number in ``data`` whose own key is in ``keys``, by its dotted path."""
    found: dict[str, float] = {}
    items = (data.items() if isinstance(data, dict)
             else enumerate(data) if isinstance(data, list) else ())
    for key, value in items:
        where = f"{path}.{key}" if path else str(key)
        if isinstance(value, (dict, list)):
            found |= numbers(value, keys, where)
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and key in keys:
            found[where] = float(value)
    return found


def run_once(tree: Path, script: str, extra: list[str]) -> tuple[float, dict]:
    env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1"}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, f"benchmarks/{script}", *extra], cwd=tree, env=env,
                          capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{script} failed in {tree}:\n{done.stdout[-2000:]}{done.stderr[-4000:]}")
    result = tree / "benchmarks" / "results" / f"{Path(script).stem}.json"
    return wall, json.loads(result.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the commit to compare with")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keys", default="total", help="comma-separated JSON keys to report")
    parser.add_argument("script", help="a script in benchmarks/, e.g. render_chunks.py")
    parser.add_argument("args", nargs="*", help="the script's own arguments (after --)")
    args = parser.parse_args()
    keys = set(args.keys.split(","))
    with tempfile.TemporaryDirectory(prefix="vidgen-versus-") as tmp:
        base = Path(tmp) / "base"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(base), args.base],
                       cwd=ROOT, check=True)
        try:
            runs: dict[str, list[tuple[float, dict]]] = {"base": [], "this": []}
            for _ in range(args.rounds):
                runs["base"].append(run_once(base, args.script, args.args))
                runs["this"].append(run_once(ROOT, args.script, args.args))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    rows = [{"measure": "script wall s",
             "base": [w for w, _ in runs["base"]], "this": [w for w, _ in runs["this"]]}]
    found = [numbers(data, keys) for _, data in runs["base"]]
    ours = [numbers(data, keys) for _, data in runs["this"]]
    for where in found[0]:
        if all(where in f for f in found + ours):
            rows.append({"measure": where, "base": [f[where] for f in found],
                         "this": [f[where] for f in ours]})
    print(f"machine: {machine()}; {args.script} {' '.join(args.args)}; "
          f"base {args.base} vs this {commit}, {args.rounds} rounds, interleaved")
    print(f"{'measure':<36}{'base median (min-max)':>26}{'this median (min-max)':>26}"
          f"{'this/base':>11}")
    for row in rows:
        row["ratio"] = round(statistics.median(row["this"]) / statistics.median(row["base"]), 3)
        print(f"{row['measure']:<36}{spread_text(row['base']):>26}{spread_text(row['this']):>26}"
              f"{row['ratio']:>10.3f}x")
    target = ROOT / "benchmarks" / "results" / f"versus_{Path(args.script).stem}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"machine": machine(), "script": args.script,
                                  "args": args.args, "base": args.base, "this": commit,
                                  "rounds": args.rounds, "rows": rows}, indent=2))
    print(f"written {target}")


if __name__ == "__main__":
    main()
