"""Chaos (issue 15): SIGTERM and SIGKILL of the farm actor's process and of each kind of
worker (image worker, speech worker, an FFmpeg chunk task) in the middle of a job on the
real job service. Every job must finish, no part finished before the signal may be written
again (same inode, same modification time), and no scratch may be left in the job's temp
root (scratch.py).

Pictures and speech come from slow fake backends (a model's latency) so that each job is
in flight when the signal lands; FFmpeg, Ray and Serve are real. Processes are found in
/proc among this test's own descendants (the local Ray it started), by the title Ray gives
a worker (``ray::ImageWorker``, ``ray::_encode_chunk``...), so nothing else is touched.

Killing the ``serve run`` process itself is not here: the service's state lives in the
farm and its home, which the farm-kill cases below and the API test
``test_farm_killed_mid_job_resumes_without_redoing_finished_scenes`` cover.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import time
from functools import partial
from pathlib import Path

import pytest

from vidgen_ray import scratch
from vidgen_ray.storyboard import Line, Scene, Storyboard
from vidgen_ray.testing.fake_backends import SlowImageBackend, SlowSpeechBackend
from vidgen_ray.testing.service import job_service

pytestmark = [pytest.mark.ray, pytest.mark.ffmpeg, pytest.mark.slow]

KEY = "chaos-key-0123456789"
SETTINGS = {"fps": 12, "chunk_seconds": 1.0}
TITLES = {"farm": "ray::DurableFarm", "image": "ray::ImageWorker",
          "speech": "ray::SpeechWorker", "chunk": "ray::_encode_chunk"}
PART_KINDS = ("image", "speech", "chunk", "soundtrack", "loudness")


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


def ours(title: str) -> list[int]:
    """Descendants of this process whose title starts with ``title``."""
    tree, found, todo = _children(), [], [os.getpid()]
    while todo:
        for child in tree.get(todo.pop(), []):
            todo.append(child)
            try:
                line = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if line.decode("utf-8", "replace").startswith(title):
                found.append(child)
    return found


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
                              for i in range(5)]).model_dump()


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

    def final():
        code, record = call(address, "GET", f"/v1/jobs/{job['id']}")
        assert code in (200, 503), record  # 503: the farm is coming back
        return record if code == 200 and record["status"] in (
            "done", "failed", "cancelled") else None

    record = until(final, f"job after {sig.name} of {target}", timeout=150)
    assert record["status"] == "done", record.get("error")
    rewritten = [p.name for p, v in finished.items() if parts(home).get(p) != v]
    assert not rewritten, f"finished parts made again: {rewritten}"
    assert not scratch.job_root(job["id"]).exists()
