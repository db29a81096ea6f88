"""Do the worker pools scale? 48 scenes (one picture and two lines each) through the image
and speech pools at once, with 1, 2, 4 and 8 workers of each kind, on fake backends that
take a fixed 0.5 s per request (a call of B requests sleeps B * 0.5 s, as a saturated GPU
would). GPUs are logical (``num_gpus=8``): Ray only does the bookkeeping, so this measures
the farm's scheduling, not the machine's cores.

    .venv/bin/python benchmarks/farm_scaling.py [--scenes 48] [--latency 0.5]

Reported per worker count N:
- scenes/s: scenes / wall time from the first request sent to the last result received
  (pools started and warmed up beforehand: model loading is not throughput);
- efficiency: scenes/s at N / (N * scenes/s at 1); 1.0 is perfect scaling;
- overhead_ms: wall time the pools add per request over a perfect N-worker run of the
  same requests called directly in-process: (wall - ideal) / all requests, where ideal =
  the slower kind's direct seconds / N, and direct seconds = requests * latency (the
  sleep, exact) + the backend's own work, measured by calling it in-process (warmed up)
  with no latency;
- worker_overhead_ms: the stricter worker time lost per request, (finish time of a kind
  * N - its direct seconds) / its requests, the worse kind: a fixed delay counts N times.
A last row repeats the largest N with fixed batches of B (no balancing), to show what the
balanced last round buys. ``round_trip_ms``: one call of one request, sent one at a time
to a latency-free worker, minus the direct call; through the pool, and as a bare actor call.

Prints a table and writes benchmarks/results/farm_scaling.json.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import time

import ray
from common import start_ray, write_results  # benchmarks/common.py (the script's folder)
from machine import machine

from vidgen_ray.config import RenderSettings
from vidgen_ray.farm.actors.pool import WorkerPool
from vidgen_ray.images.base import ImageRequest
from vidgen_ray.speech.base import SpeechRequest
from vidgen_ray.testing import SlowImageBackend, SlowSpeechBackend

SETTINGS = RenderSettings()  # K=2 calls per worker, B=4 pictures / 8 lines per call
CLUSTER = {"CPU": 16.0, "GPU": 8.0}
FAKES = {"image": SlowImageBackend, "speech": SlowSpeechBackend}


def make_requests(scenes: int, lines: int) -> dict[str, list]:
    images = [ImageRequest(scene_number=i + 1, title=f"scene {i + 1}", description="the sea",
                           characters=(), mood="calm", width=320, height=180, seed=i)
              for i in range(scenes)]
    speech = [SpeechRequest(text=f"Line {k} of scene {i + 1}, spoken slowly.", voice="fake",
                            language="en") for i in range(scenes) for k in range(lines)]
    return {"image": images, "speech": speech}


def direct_seconds(requests: dict[str, list], latency: float) -> dict[str, float]:
    """Seconds the requests take called in-process, in batches of B, one after another."""
    out = {}
    for kind, items in requests.items():
        backend = FAKES[kind](latency_s=0.0)
        call = backend.generate if kind == "image" else backend.synthesize
        size = SETTINGS.image_batch_size if kind == "image" else SETTINGS.speech_batch_size
        call(items[:1])  # first use imports codecs (PIL's PNG plugin): not per-request work
        started = time.perf_counter()
        for at in range(0, len(items), size):
            results = call(items[at:at + size])
            for speech in results if kind == "speech" else []:
                speech.to_wav()  # the worker sends WAV bytes
        out[kind] = len(items) * latency + time.perf_counter() - started
    return out


def pools(workers: int, latency: float) -> dict[str, WorkerPool]:
    return {kind: WorkerPool(kind, SETTINGS, cluster=CLUSTER, size=workers,
                             factory=functools.partial(fake, latency_s=latency,
                                                       per_request=True))
            for kind, fake in FAKES.items()}


async def timed_run(workers: int, requests: dict[str, list], latency: float,
                    balanced: bool = True) -> dict[str, float]:
    """Seconds from start until each kind's last result, and for both ("wall")."""
    by_kind = pools(workers, latency)
    await asyncio.gather(*[p.start() for p in by_kind.values()])
    await asyncio.gather(*[_drain(p, requests[k][:workers], balanced)  # warm-up, untimed
                           for k, p in by_kind.items()])
    started = time.perf_counter()

    async def finish(kind: str) -> tuple[str, float]:
        await _drain(by_kind[kind], requests[kind], balanced)
        return kind, time.perf_counter() - started

    finished = dict(await asyncio.gather(*[finish(kind) for kind in by_kind]))
    finished["wall"] = time.perf_counter() - started
    await asyncio.gather(*[p.shutdown() for p in by_kind.values()])
    return finished


async def _drain(pool: WorkerPool, requests: list, balanced: bool) -> None:
    if balanced:
        async for _ in pool.map(requests):
            pass
        return
    size = pool.policy.batch_size  # what a plain "batches of B" loop sends
    await asyncio.gather(*[pool.call(requests[at:at + size])
                           for at in range(0, len(requests), size)])


async def round_trip_ms(calls: int = 300) -> dict[str, float]:
    """One-request calls sent one at a time to a latency-free worker, minus the direct call:
    through the pool, and as a bare actor call on the same worker."""
    request = make_requests(1, 1)["image"]
    backend = SlowImageBackend(latency_s=0.0)
    backend.generate(request)
    pool = WorkerPool("image", SETTINGS, cluster=CLUSTER, size=1,
                      factory=functools.partial(SlowImageBackend, latency_s=0.0))
    await pool.start()
    await pool.call(request)
    worker = pool.workers[0]
    seconds = {}
    for name, once in (("direct", lambda: _done(backend.generate(request))),
                       ("pool", lambda: pool.call(request)),
                       ("bare_actor", lambda: worker.generate.remote(request))):
        started = time.perf_counter()
        for _ in range(calls):
            await once()
        seconds[name] = time.perf_counter() - started
    await pool.shutdown()
    return {k: round((seconds[k] - seconds["direct"]) / calls * 1000, 3)
            for k in ("pool", "bare_actor")}


async def _done(value):
    return value


def row(workers: int, scenes: int, times: dict[str, float], direct: dict[str, float],
        requests: dict[str, list]) -> dict:
    ideal = max(direct.values()) / workers
    total = sum(len(items) for items in requests.values())
    per_kind = {k: (times[k] * workers - direct[k]) / len(requests[k]) * 1000 for k in direct}
    return {"workers": workers, "wall_s": round(times["wall"], 3),
            "ideal_s": round(ideal, 3), "scenes_per_s": round(scenes / times["wall"], 4),
            "overhead_ms": round((times["wall"] - ideal) / total * 1000, 3),
            "worker_overhead_ms": round(max(per_kind.values()), 2),
            "worker_overhead_ms_by_kind": {k: round(v, 2) for k, v in per_kind.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=48)
    parser.add_argument("--lines", type=int, default=2, help="lines of speech per scene")
    parser.add_argument("--latency", type=float, default=0.5, help="seconds per request")
    parser.add_argument("--workers", default="1,2,4,8")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    start_ray(int(CLUSTER["CPU"]), int(CLUSTER["GPU"]))
    requests = make_requests(args.scenes, args.lines)
    direct = direct_seconds(requests, args.latency)
    rows = [row(n, args.scenes, asyncio.run(timed_run(n, requests, args.latency)), direct,
                requests) for n in counts]
    fixed = row(counts[-1], args.scenes, asyncio.run(
        timed_run(counts[-1], requests, args.latency, balanced=False)), direct, requests)
    trip = asyncio.run(round_trip_ms())
    ray.shutdown()
    base = rows[0]["scenes_per_s"] / rows[0]["workers"]
    for r in [*rows, fixed]:
        r["efficiency"] = round(r["scenes_per_s"] / (r["workers"] * base), 3)
    report(rows, fixed, trip, args)


def report(rows: list[dict], fixed: dict, trip: dict, args: argparse.Namespace) -> None:
    print(f"machine: {machine()}; {args.scenes} scenes x (1 picture + {args.lines} lines), "
          f"{args.latency} s per request, K={SETTINGS.max_in_flight}, "
          f"B={SETTINGS.image_batch_size}/{SETTINGS.speech_batch_size}")
    print(f"{'workers':>8}{'wall s':>9}{'ideal s':>9}{'scenes/s':>10}{'efficiency':>12}"
          f"{'overhead ms':>13}{'worker ovh ms':>15}")
    for r in [*rows, fixed]:
        label = str(r["workers"]) + ("*" if r is fixed else "")
        print(f"{label:>8}{r['wall_s']:>9.2f}{r['ideal_s']:>9.2f}{r['scenes_per_s']:>10.3f}"
              f"{r['efficiency']:>12.3f}{r['overhead_ms']:>13.2f}"
              f"{r['worker_overhead_ms']:>15.2f}")
    print("* fixed batches of B, not balanced")
    print(f"one call at a time, over a direct call: {trip['pool']:.2f} ms through the pool, "
          f"{trip['bare_actor']:.2f} ms as a bare actor call")
    target = write_results("farm_scaling", {
        "machine": machine(), "scenes": args.scenes, "lines_per_scene": args.lines,
        "latency_s": args.latency, "per_worker": SETTINGS.max_in_flight,
        "batch_size": {"image": SETTINGS.image_batch_size,
                       "speech": SETTINGS.speech_batch_size},
        "rows": rows, "fixed_batches": fixed, "round_trip_ms": trip,
        "workers": [r["workers"] for r in rows],
        "scenes_per_s": [r["scenes_per_s"] for r in rows],
        "efficiency": [r["efficiency"] for r in rows],
        "overhead_ms": [r["overhead_ms"] for r in rows],
    })
    print(f"written {target}")


if __name__ == "__main__":
    main()
