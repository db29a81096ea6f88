"""The body cap counts what is read, not what Content-Length says: a chunked upload of
hundreds of MB, or a body longer than its Content-Length, is refused as it arrives, and
the replica's memory stays within a budget (it once grew to 2.2 GB on a 400 MB upload).

Real Serve app on loopback, raw sockets (http.client cannot lie about Content-Length)."""

from __future__ import annotations

import json
import os
import select
import socket
import threading

import psutil
import pytest

from vidgen_ray.testing.service import job_service

pytestmark = [pytest.mark.ray, pytest.mark.slow]

KEY = "cap-key-0123456789abcdef"
MAX_SCRIPT = 4096  # cap = 2 * 4096 + 1 MiB, about 1 MB
SEND_MB = 300  # what a client tries to send
BUDGET_MB = 300  # the replica's RSS may not grow more than this while it does
CHUNK = b"x" * (1024 * 1024)
# How long the client waits for an answer after each MB: Serve's proxy reads a body as fast
# as loopback brings it and hands it to the replica, which counts it; on a loaded machine an
# unpaced client sent all 300 MB before the replica's 413 (refused at ~44 MB) came back. The
# pace leaves the replica 3 s to answer, and a server that read everything still fails.
PACE_S = 0.01


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    home = tmp_path_factory.mktemp("cap") / "home"
    env = dict(VIDGEN_API_KEYS=f"cap:{KEY}", VIDGEN_STORAGE=str(home),
               VIDGEN_MAX_SCRIPT_BYTES=str(MAX_SCRIPT))
    with job_service(env) as address:
        yield address


def replica() -> psutil.Process:
    """This test's Serve replica: a process of the Ray this test process started (its
    raylet is our child), so another Ray on the machine is never measured."""
    mine = psutil.Process(os.getpid()).children(recursive=True)
    found = [p for p in mine if "ServeReplica:vidgen" in " ".join(_cmdline(p))]
    assert len(found) == 1, [(p.pid, _cmdline(p)[:1]) for p in mine]
    return found[0]


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:
        return []


class PeakRss:
    """The highest RSS of a process while the block runs (sampled every 20 ms)."""

    def __init__(self, process: psutil.Process):
        self.process, self.peak, self.stop = process, 0, threading.Event()

    def _sample(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            self.stop.wait(0.02)

    def __enter__(self):
        self.start = self.process.memory_info().rss
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()

    @property
    def growth_mb(self) -> float:
        return (max(self.peak, self.start) - self.start) / 2**20


def send(address: str, head: dict[str, str], chunks, chunked: bool) -> tuple[int, dict, int]:
    """Send a request's head, then the body piece by piece until the server answers or
    closes; (status, parsed JSON answer or {}, body bytes sent)."""
    host, port = address.split(":")
    sock = socket.create_connection((host, int(port)), timeout=60)
    lines = ["POST /v1/jobs HTTP/1.1", f"Host: {address}", f"Authorization: Bearer {KEY}",
             "Content-Type: application/json", *(f"{k}: {v}" for k, v in head.items())]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    sent = 0
    try:
        for piece in chunks:
            if select.select([sock], [], [], PACE_S)[0]:
                break  # an answer (or a close) is waiting: stop sending
            frame = (b"%x\r\n" % len(piece)) + piece + b"\r\n" if chunked else piece
            sock.sendall(frame)
            sent += len(piece)
        else:
            if chunked:
                sock.sendall(b"0\r\n\r\n")
    except OSError:
        pass  # the server closed the connection after answering: read that answer
    answer = b""
    try:
        while b"\r\n\r\n" not in answer or not _complete(answer):
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    except OSError:
        pass
    sock.close()
    head_text, _, body = answer.partition(b"\r\n\r\n")
    status = int(head_text.split(b" ")[1]) if head_text.startswith(b"HTTP/") else 0
    try:
        parsed = json.loads(body) if body else {}
    except ValueError:
        parsed = {}
    return status, parsed, sent


def _complete(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


def megabytes(n: int):
    return (CHUNK for _ in range(n))


def test_a_chunked_upload_is_refused_as_it_arrives(service):
    with PeakRss(replica()) as rss:
        status, answer, sent = send(service, {"Transfer-Encoding": "chunked"},
                                    megabytes(SEND_MB), chunked=True)
    assert status == 413, (status, answer)
    assert answer["error"]["type"] == "TooLargeError" and answer["error"]["field"] == "body"
    assert sent < SEND_MB * len(CHUNK), "the server read the whole upload"
    assert rss.growth_mb < BUDGET_MB, f"the replica grew {rss.growth_mb:.0f} MB"


def test_a_declared_length_over_the_cap_is_refused_before_reading(service):
    with PeakRss(replica()) as rss:
        status, answer, sent = send(service, {"Content-Length": str(SEND_MB * len(CHUNK))},
                                    megabytes(SEND_MB), chunked=False)
    assert status == 413 and answer["error"]["type"] == "TooLargeError", (status, answer)
    assert sent < SEND_MB * len(CHUNK)
    assert rss.growth_mb < BUDGET_MB, f"the replica grew {rss.growth_mb:.0f} MB"


def test_a_body_longer_than_its_content_length_goes_no_further(service):
    """Content-Length says 100 bytes, then 300 MB follow: the body is those 100 bytes, and
    what follows is not HTTP: the HTTP server answers 400 (or the app 422, the 100 bytes
    being no JSON) and closes; nothing after the 100 bytes is buffered as a body."""
    with PeakRss(replica()) as rss:
        status, answer, sent = send(service, {"Content-Length": "100"},
                                    megabytes(SEND_MB), chunked=False)
    assert status in (400, 422), (status, answer)
    assert sent < SEND_MB * len(CHUNK)
    assert rss.growth_mb < BUDGET_MB, f"the replica grew {rss.growth_mb:.0f} MB"


def test_a_small_chunked_body_is_read_as_usual(service):
    body = json.dumps({"script": "   "}).encode()
    status, answer, _ = send(service, {"Transfer-Encoding": "chunked"}, [body], chunked=True)
    assert status == 400 and answer["error"]["type"] == "ScriptError", answer
