"""The CLI client against a service that accepts a request and never answers: a clear
error naming the wait, and for a submit, how not to make a second job."""

from __future__ import annotations

import http.server
import threading

import pytest

from vidgen_ray.errors import ServiceError
from vidgen_ray.service import client
from vidgen_ray.service.client import ServiceClient


class _Silent(http.server.BaseHTTPRequestHandler):
    def _hang(self):
        self.server.stop.wait(10)  # longer than the client waits; released at teardown

    do_GET = do_POST = _hang  # noqa: N815 - http.server's names

    def log_message(self, *args):
        pass


@pytest.fixture
def silent_url():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Silent)
    server.stop = threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.stop.set()
    server.shutdown()
    server.server_close()


def test_a_status_call_that_gets_no_answer_names_the_wait(silent_url):
    with pytest.raises(ServiceError, match=r"did not answer within 1 s: try again, or raise "
                                           "VIDGEN_TIMEOUT") as caught:
        ServiceClient(silent_url, timeout=1).status("job-1")
    assert caught.value.http_status == 504


def test_a_submit_waits_longer_and_then_warns_of_a_second_job(silent_url, tmp_path,
                                                             monkeypatch):
    monkeypatch.setattr(client, "SUBMIT_TIMEOUT_S", 2.0)
    script = tmp_path / "story.md"
    script.write_text("# A\n\nHello.\n")
    with pytest.raises(ServiceError, match=r"within 2 s; the job may still have been queued: "
                                           r"list jobs .* --idempotency-key"):
        ServiceClient(silent_url, timeout=1).submit(script)
