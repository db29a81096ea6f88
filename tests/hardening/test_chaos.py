"""Chaos (issue 15): SIGTERM and SIGKILL of the farm actor's process and of each kind of
worker (image worker, speech worker, an FFmpeg chunk task) in the middle of a job on the
real job service. Every job must finish, no part finished before the signal may be written
again (same inode, same modification time), and no scratch may be left in the job's temp
root (scratch.py).

Pictures and speech come from slow fake backends (a model's latency) so that each job is
in flight when the signal lands; FFmpeg, Ray and Serve are real. Processes are found in
/proc among this test's own descendants (the local Ray it started), by the title Ray gives
a worker (``ray::ImageWorker``, ``ray::_encode_chunk``...), so nothing else is touched.

The service process itself: ``serve run serve_app:app`` (its own Ray, real backends) gets
SIGTERM mid-job and is started again on the same storage; the job finishes the same way.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import pytest

from vidgen_ray.pipeline import scratch
from vidgen_ray.storyboard import Line, Scene, Storyboard
from vidgen_ray.testing.fake_backends import SlowImageBackend, SlowSpeechBackend
from vidgen_ray.testing.net import free_port
from vidgen_ray.testing.service import job_service

pytestmark = [pytest.mark.ray, pytest.mark.ffmpeg, pytest.mark.slow]

KEY = "chaos-key-0123456789"
SETTINGS = {"fps": 12, "chunk_seconds": 2.0}
TITLES = {"farm": "ray::Farm", "image": "ray::ImageWorker",
          "speech": "ray::SpeechWorker", "chunk": "ray::_encode_chunk"}
PART_KINDS = ("image", "speech", "chunk", "soundtrack", "loudness")
ROOT = Path(__file__).resolve().parents[2]  # serve_app.py


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    home = tmp_path_factory.mktemp("chaos") / "home"
    env = dict(VIDGEN_API_KEYS=f"chaos:{KEY}", VIDGEN_STORAGE=str(home),
               VIDGEN_MAX_RUNNING_JOBS="1", VIDGEN_IMAGE_WORKERS="1",
               VIDGEN_SPEECH_WORKERS="1", VIDGEN_IMAGE_BATCH_SIZE="1",
               VIDGEN_SPEECH_BATCH_SIZE="1", VIDGEN_MAX_IN_FLIGHT="1")
    factories = {"image": partial(SlowImageBackend, latency_s=0.4),
                 "speech": partial(SlowSpeechBackend, latency_s=0.3)}
    with job_service(env, factories) as address:
        yield address, home


def call(address: str, method: str, path: str, body=None):
    conn = http.client.HTTPConnection(address, timeout=30)
    conn.request(method, path, body=json.dumps(body).encode() if body else None,
                 headers={"Authorization": f"Bearer {KEY}",
                          "Content-Type": "application/json"})
    answer = conn.getresponse()
    content = answer.read()
    conn.close()
    return answer.status, json.loads(content) if content else None


def test_serve_run_terminated_mid_job_and_started_again_finishes_it(tmp_path):
    home, port = tmp_path / "home", free_port()
    address = f"127.0.0.1:{port}"
    config = tmp_path / "serve.yaml"
    config.write_text(f"""proxy_location: EveryNode
http_options: {{host: 127.0.0.1, port: {port}}}
applications:
  - {{name: vidgen, route_prefix: /, import_path: serve_app:app}}
""")
    env = {**os.environ, "VIDGEN_API_KEYS": f"chaos:{KEY}", "VIDGEN_STORAGE": str(home),
           "VIDGEN_MAX_RUNNING_JOBS": "1", "VIDGEN_IMAGE_BATCH_SIZE": "1",
           "RAY_TMPDIR": f"/tmp/r-chaos-{port}"}  # its own Ray, away from the tests' Ray
    with serve_run(config, env, address):
        before = parts(home)
        status, job = call(address, "POST", "/v1/jobs",
                           {"storyboard": board("serve-run"), "settings": SETTINGS})
        assert status == 202, job
        until(lambda: sum(p.parent.name == "image" for p in parts(home)) >= 2, "pictures")
        assert call(address, "GET", f"/v1/jobs/{job['id']}")[1]["status"] == "running"
        finished = {p: v for p, v in parts(home).items() if p not in before}
    try:
        with serve_run(config, env, address):  # the first one got SIGTERM on leaving
            record = until(lambda: done(address, job["id"]), "job after restart", timeout=150)
    finally:
        shutil.rmtree(env["RAY_TMPDIR"], ignore_errors=True)
    assert record["status"] == "done", record.get("error")
    assert not [p.name for p, v in finished.items() if parts(home).get(p) != v]
    assert not scratch.job_root(job["id"]).exists()


@contextlib.contextmanager
def serve_run(config: Path, env: dict, address: str):
    """``serve run`` in a subprocess, ready when /healthz answers; SIGTERM on leaving, then
    whatever it started that is still alive (its Ray) is killed."""
    serve = Path(sys.executable).parent / "serve"
    process = subprocess.Popen([str(serve), "run", str(config)], env=env, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        until(lambda: _answers(address), "serve run ready", timeout=120)
        yield process
    finally:
        family = descendants(process.pid)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for pid, line in family.items():
            with contextlib.suppress(OSError):  # gone, or the pid is another's now
                if Path(f"/proc/{pid}/cmdline").read_bytes() == line:
                    os.kill(pid, signal.SIGKILL)


def _answers(address: str) -> bool:
    try:
        return call(address, "GET", "/healthz")[0] == 200
    except (OSError, ValueError):  # not listening yet, or the proxy's text 404
        return False


def done(address: str, job_id: str) -> dict | None:
    code, record = call(address, "GET", f"/v1/jobs/{job_id}")
    assert code in (200, 503), record  # 503: the farm is coming back
    return record if code == 200 and record["status"] in ("done", "failed", "cancelled") \
        else None


# ---- processes of this test's own Ray --------------------------------------------------------

def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            tree.setdefault(parent, []).append(int(entry))
    return tree


def descendants(pid: int) -> dict[int, bytes]:
    """Every process below ``pid``, with its command line."""
    tree, found, todo = _children(), {}, [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            todo.append(child)
            with contextlib.suppress(OSError):
                found[child] = Path(f"/proc/{child}/cmdline").read_bytes()
    return found


def ours(title: str) -> list[int]:
    """Descendants of this process whose title starts with ``title``."""
    return [pid for pid, line in descendants(os.getpid()).items()
            if line.replace(b"\0", b" ").decode("utf-8", "replace").startswith(title)]


def until(check, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError(f"{what}: not reached in {timeout} s")


# ---- parts ---------------------------------------------------------------------------------

def parts(home: Path) -> dict[Path, tuple[int, int]]:
    """Every stored part and its (inode, mtime): a part written again changes both."""
    found = {}
    for kind in PART_KINDS:
        for path in (home / "parts" / kind).glob("*"):
            if not path.name.startswith("."):
                info = path.stat()
                found[path] = (info.st_ino, info.st_mtime_ns)
    return found


def board(case: str) -> dict:
    # Lines and seeds of their own: no part of this job exists before it starts.
    return Storyboard(scenes=[Scene(title=f"{case} {i}", lines=[Line(text=f"{case} line {i}.")])
                              for i in range(4)]).model_dump()


def at_work(home: Path, before: dict, target: str) -> list[int] | None:
    """The target's processes, once it is working and some of this job's parts exist."""
    new = [p for p in parts(home) if p not in before]
    if target == "farm":
        ready = sum(p.parent.name == "image" for p in new) >= 2
    else:
        ready = bool(new) if target == "chunk" else any(p.parent.name == target for p in new)
    return (ours(TITLES[target]) or None) if ready else None


@pytest.mark.parametrize("target", ["farm", "image", "speech", "chunk"])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["TERM", "KILL"])
def test_a_signal_mid_job_loses_nothing_and_leaves_no_scratch(service, target, sig):
    address, home = service
    before = parts(home)
    status, job = call(address, "POST", "/v1/jobs",
                       {"storyboard": board(f"{target}-{sig.name}"), "settings": SETTINGS})
    assert status == 202, job
    victims = until(lambda: at_work(home, before, target), f"{target} at work")
    finished = {p: v for p, v in parts(home).items() if p not in before}
    for pid in victims:
        os.kill(pid, sig)

    record = until(lambda: done(address, job["id"]), f"job after {sig.name} of {target}",
                   timeout=150)
    assert record["status"] == "done", record.get("error")
    rewritten = [p.name for p, v in finished.items() if parts(home).get(p) != v]
    assert not rewritten, f"finished parts made again: {rewritten}"
    assert not scratch.job_root(job["id"]).exists()
