"""What several benchmarks share: a Ray of their own on loopback, where results go, and the
honest-table helpers (issue 20): the command that made a table, median (min-max) over
rounds, rounds in alternating order, CPU seconds of child processes, the load average.

Benchmarks run as scripts (``python benchmarks/x.py``), so their folder is on ``sys.path``
and they import this module as ``common``.
"""

from __future__ import annotations

import json
import os
import resource
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

RESULTS = Path(__file__).resolve().parent / "results"


def start_ray(cpus: int, gpus: float = 0, object_store_mb: int = 512) -> None:
    """A local Ray on 127.0.0.1 only, with ``gpus`` GPUs (logical where the machine has fewer
    cards: Ray then only does the bookkeeping). Workers inherit this process's environment,
    one torch thread among it (NOTES.md: more threads thrash a shared CPU)."""
    import ray

    from vidgen_ray.farm.actors.listen import prepare_local_start

    prepare_local_start()  # loopback only, even though ray is imported already
    os.environ.pop("RAY_ADDRESS", None)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    ray.init(address="local", num_cpus=cpus, num_gpus=gpus, include_dashboard=False,
             _node_ip_address="127.0.0.1", logging_level="WARNING", log_to_driver=False,
             object_store_memory=object_store_mb * 1024**2)


def write_results(name: str, data: dict, folder: Path | str | None = None) -> Path:
    """``data`` as indented JSON in ``folder`` (default benchmarks/results/), as NAME.json."""
    target = Path(folder or RESULTS) / f"{name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return target


def command() -> str:
    """The command line that ran this script, as BENCHMARKS.md prints it beside a table."""
    script = Path(sys.argv[0])
    if script.is_absolute() and script.is_relative_to(Path.cwd()):
        script = script.relative_to(Path.cwd())
    return shlex.join([".venv/bin/python", str(script), *sys.argv[1:]])


def spread(values: list[float], digits: int = 2) -> dict:
    """Median, min and max of a series (every table reports all three, never the best)."""
    return {"median": round(statistics.median(values), digits),
            "min": round(min(values), digits), "max": round(max(values), digits)}


def spread_text(values: list[float]) -> str:
    """``median (min-max)``, as in the tables."""
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def rotations(names: list[str], rounds: int) -> list[list[str]]:
    """The order of each round: every name once a round, the first rotated to the back each
    round (A B, B A, A B ...), so that no configuration always runs first on a warming or
    changing machine."""
    return [names[r % len(names):] + names[:r % len(names)] for r in range(rounds)]


def alternate(work: dict[str, Callable[[], T]], rounds: int) -> dict[str, list[T]]:
    """Each of ``work`` run once a round for ``rounds`` rounds, in the order of
    ``rotations``; what each run returned, by name, in round order (each logged to stderr)."""
    runs: dict[str, list[T]] = {name: [] for name in work}
    for number, order in enumerate(rotations(list(work), rounds)):
        for name in order:
            runs[name].append(work[name]())
            print(f"  round {number + 1} {name}: {runs[name][-1]}", file=sys.stderr, flush=True)
    return runs


def timed(work: Callable[[], object]) -> dict:
    """One run of ``work``: wall seconds, the CPU seconds of the child processes it waited
    for (FFmpeg: the figure to compare on a shared machine), the load average at its start."""
    load, cpu, started = load_average(), children_cpu_seconds(), time.perf_counter()
    work()
    return {"wall_s": round(time.perf_counter() - started, 3),
            "cpu_s": round(children_cpu_seconds() - cpu, 3), "load_start": load}


def children_cpu_seconds() -> float:
    """User + system seconds of this process's finished (waited-for) child processes."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def own_cpu_seconds() -> float:
    """User + system seconds of this process itself, every thread."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


def load_average() -> float:
    """The 1-minute load average (on a shared machine, what the wall times also measure)."""
    return round(os.getloadavg()[0], 2)
