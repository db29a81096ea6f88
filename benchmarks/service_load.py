"""Does the job service hold under load? A bounded number of concurrent clients on loopback
submit small jobs over HTTP and poll them until they end, against the real Serve app and
Farm (with a job home) on a local Ray (pictures from a fast fake backend; speech, FFmpeg real).

    .venv/bin/python benchmarks/service_load.py [--clients 8] [--jobs 3]
    .venv/bin/python benchmarks/service_load.py --burst 50

Each client submits ``--jobs`` one-scene jobs one after another; a 429 is counted as
rejected and the client waits its Retry-After, then sends the same job again; it polls every
accepted job until done, failed or cancelled. Reported: requests accepted (202), rejected
(429) and failed (anything else, or no answer), API latency p50/p99 over every request
(submit and poll), jobs completed, and jobs lost (accepted but not done). Target: failed = 0,
lost = 0.

Burst mode (``--burst N``): N submits at the same instant, each sent once (no retry), then
every accepted job polled until it ends. Reported: answers 202 / 429 (and how many 429s lack
Retry-After) / 5xx / other, jobs the service lists (must equal the 202s: a refused submit
leaves nothing behind), jobs lost (accepted but not done: must be 0) and the latency p50/p99
of the status reads while the burst drains.

Prints a table and writes benchmarks/results/service_load.json (service_load_burst.json).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import tempfile
import threading
import time
from functools import partial
from pathlib import Path

from machine import machine  # benchmarks/machine.py (a script's folder is on sys.path)

KEY = "bench-key-0123456789ab"


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.counts = {"accepted": 0, "rejected": 0, "failed": 0}
        self.final: dict[str, str] = {}
        self.errors: list[str] = []

    def request(self, address: str, method: str, path: str, body=None):
        started = time.perf_counter()
        try:
            conn = http.client.HTTPConnection(address, timeout=60)
            conn.request(method, path, json.dumps(body) if body else None,
                         {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})
            answer = conn.getresponse()
            status, data, retry = answer.status, answer.read(), answer.getheader("Retry-After")
            conn.close()
        except OSError as exc:
            status, data, retry = 0, str(exc).encode(), None
        with self.lock:
            self.latencies.append(time.perf_counter() - started)
        return status, data, retry

    def fail(self, what: str, status: int, data: bytes) -> None:
        with self.lock:
            self.counts["failed"] += 1
            self.errors.append(f"{what} {status}: {data[:200]!r}")


def client(address: str, jobs: int, index: int, tally: Tally) -> None:
    for n in range(jobs):
        body = {"script": f"# Job {index}.{n}\n\nClient {index} sends job {n}.",
                "settings": {"fps": 12, "chunk_seconds": 5.0}}
        status, data, retry = tally.request(address, "POST", "/v1/jobs", body)
        while status == 429:
            with tally.lock:
                tally.counts["rejected"] += 1
            time.sleep(float(retry or 1))
            status, data, retry = tally.request(address, "POST", "/v1/jobs", body)
        if status != 202:
            tally.fail("submit", status, data)
            continue
        with tally.lock:
            tally.counts["accepted"] += 1
        job_id = json.loads(data)["id"]
        while True:
            status, data, _ = tally.request(address, "GET", f"/v1/jobs/{job_id}")
            if status != 200:
                tally.fail("poll", status, data)
            elif json.loads(data)["status"] in ("done", "failed", "cancelled"):
                with tally.lock:
                    tally.final[job_id] = json.loads(data)["status"]
                break
            time.sleep(0.5)


def burst(address: str, count: int) -> dict:
    """``count`` concurrent submits, then poll the accepted ones to the end."""
    tally, gate = Tally(), threading.Barrier(count)
    answers: list[tuple[int, bytes, str | None]] = [(0, b"", None)] * count

    def one(index: int) -> None:
        body = {"script": f"# Burst {index}\n\nRequest {index} of the burst.",
                "settings": {"fps": 12, "chunk_seconds": 5.0}}
        gate.wait()
        answers[index] = tally.request(address, "POST", "/v1/jobs", body)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    codes = [status for status, _, _ in answers]
    accepted = [json.loads(data)["id"] for status, data, _ in answers if status == 202]
    reads = Tally()
    final: dict[str, str] = {}
    while len(final) < len(accepted):
        for job_id in accepted:
            if job_id in final:
                continue
            status, data, _ = reads.request(address, "GET", f"/v1/jobs/{job_id}")
            if status == 200 and json.loads(data)["status"] in ("done", "failed", "cancelled"):
                final[job_id] = json.loads(data)["status"]
            elif status != 200:
                reads.fail("poll", status, data)
        time.sleep(0.3)
    lat = sorted(reads.latencies)
    _, data, _ = reads.request(address, "GET", "/v1/jobs?limit=1000")
    done = sum(state == "done" for state in final.values())
    return {
        "burst": count, "accepted": codes.count(202), "rejected": codes.count(429),
        "rejected_without_retry_after": sum(1 for status, _, retry in answers
                                            if status == 429 and not retry),
        "server_errors": sum(500 <= c < 600 for c in codes),
        "other": sum(c not in (202, 429) and not 500 <= c < 600 for c in codes),
        "jobs_listed": json.loads(data)["total"], "jobs_completed": done,
        "jobs_lost": len(accepted) - done, "status_reads": len(lat),
        "status_read_failures": reads.counts["failed"],
        "read_p50_ms": round(1000 * statistics.median(lat), 1),
        "read_p99_ms": round(1000 * lat[min(len(lat) - 1, int(0.99 * len(lat)))], 1),
        "errors": (tally.errors + reads.errors)[:10],
    }


def report_burst(result: dict) -> None:
    print(f"machine: {result['machine']}")
    print(f"{'burst':>6} {'202':>5} {'429':>5} {'5xx':>5} {'other':>6} {'listed':>7} "
          f"{'done':>5} {'lost':>5} {'reads':>6} {'p50 ms':>7} {'p99 ms':>7} {'wall s':>7}")
    print(f"{result['burst']:>6} {result['accepted']:>5} {result['rejected']:>5} "
          f"{result['server_errors']:>5} {result['other']:>6} {result['jobs_listed']:>7} "
          f"{result['jobs_completed']:>5} {result['jobs_lost']:>5} {result['status_reads']:>6} "
          f"{result['read_p50_ms']:>7} {result['read_p99_ms']:>7} {result['wall_s']:>7}")
    print(f"429 without Retry-After: {result['rejected_without_retry_after']}; queue "
          f"{result['max_queued']} + running {result['max_running']}; load average "
          f"{result['load_average'][0]:.1f} (a shared machine)")
    for error in result["errors"]:
        print("error:", error)


def start_service(args) -> int:
    """A local Ray, the Serve app on a free loopback port; returns the port."""
    from ray import serve

    from vidgen_ray.farm.connect import connect
    from vidgen_ray.service.api import JobService
    from vidgen_ray.testing import SlowImageBackend

    connect(None)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    factories = {"image": partial(SlowImageBackend, latency_s=0.05)}
    serve.run(JobService.bind(factories=factories), name="vidgen", route_prefix="/")
    return port


def stop_service() -> None:
    import ray
    from ray import serve

    from vidgen_ray.farm.connect import FARM_NAME, FARM_NAMESPACE

    serve.shutdown()
    ray.kill(ray.get_actor(FARM_NAME, namespace=FARM_NAMESPACE), no_restart=True)
    ray.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=3, help="jobs per client")
    parser.add_argument("--max-queued", type=int, default=4)
    parser.add_argument("--max-running", type=int, default=2)
    parser.add_argument("--burst", type=int, default=0,
                        help="send this many submits at once instead of the clients' loop")
    args = parser.parse_args()

    home = tempfile.mkdtemp(prefix="vidgen-bench-")
    os.environ.update(VIDGEN_API_KEYS=f"bench:{KEY}", VIDGEN_STORAGE=home,
                      VIDGEN_MAX_QUEUED_JOBS=str(args.max_queued),
                      VIDGEN_MAX_RUNNING_JOBS=str(args.max_running), VIDGEN_RETRY_AFTER="1",
                      OMP_NUM_THREADS="1")
    port = start_service(args)
    if args.burst:
        started = time.perf_counter()
        result = {"machine": machine(), "max_queued": args.max_queued,
                  "max_running": args.max_running, **burst(f"127.0.0.1:{port}", args.burst)}
        result["wall_s"] = round(time.perf_counter() - started, 1)
        result["load_average"] = os.getloadavg()
        stop_service()
        shutil.rmtree(home, ignore_errors=True)
        report_burst(result)
        out = Path(__file__).parent / "results" / "service_load_burst.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
        return
    tally = Tally()
    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(f"127.0.0.1:{port}", args.jobs, i, tally))
               for i in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    stop_service()
    outputs = len(list(Path(home, "outputs").iterdir()))
    shutil.rmtree(home, ignore_errors=True)

    lat = sorted(tally.latencies)
    done = sum(state == "done" for state in tally.final.values())
    result = {
        "machine": machine(), "clients": args.clients, "jobs_per_client": args.jobs,
        "max_queued": args.max_queued, "max_running": args.max_running,
        **tally.counts, "requests": len(lat),
        "p50_ms": round(1000 * statistics.median(lat), 1),
        "p99_ms": round(1000 * lat[min(len(lat) - 1, int(0.99 * len(lat)))], 1),
        "jobs_completed": done, "jobs_lost": tally.counts["accepted"] - done,
        "output_folders": outputs, "load_average": os.getloadavg(),
        "wall_s": round(wall, 1), "jobs_per_minute": round(60 * done / wall, 1),
        "errors": tally.errors[:10],
    }
    print(f"machine: {result['machine']}")
    print(f"{'clients':>8} {'accepted':>9} {'rejected':>9} {'failed':>7} {'requests':>9} "
          f"{'p50 ms':>8} {'p99 ms':>8} {'done':>5} {'lost':>5} {'wall s':>7}")
    print(f"{args.clients:>8} {result['accepted']:>9} {result['rejected']:>9} "
          f"{result['failed']:>7} {result['requests']:>9} {result['p50_ms']:>8} "
          f"{result['p99_ms']:>8} {done:>5} {result['jobs_lost']:>5} {result['wall_s']:>7}")
    print(f"output folders: {outputs} (one per accepted job); load average "
          f"{result['load_average'][0]:.1f} (a shared machine)")
    for error in result["errors"]:
        print("error:", error)
    out = Path(__file__).parent / "results" / "service_load.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
