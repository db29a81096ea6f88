"""One real HTTP request to a service under test, for every test that talks to the job
service: the same connection, headers and decoding everywhere."""

from __future__ import annotations

import http.client
import json
from email.message import Message


def request(address: str, method: str, path: str, body=None, *, key: str | None = None,
            raw: bytes | None = None, headers: dict | None = None,
            timeout: float = 60) -> tuple[int, Message, object]:
    """(status, headers, content) of one request to ``address`` ("127.0.0.1:PORT"): ``body``
    is sent as JSON (``raw`` as given), ``key`` as a bearer token. A JSON answer is parsed;
    any other answer is its bytes."""
    sent = {"Content-Type": "application/json", **(headers or {})}
    if key:
        sent["Authorization"] = f"Bearer {key}"
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    conn = http.client.HTTPConnection(address, timeout=timeout)
    try:
        conn.request(method, path, data, sent)
        answer = conn.getresponse()
        content = answer.read()
    finally:
        conn.close()
    if answer.getheader("Content-Type", "").startswith("application/json"):
        content = json.loads(content)
    return answer.status, answer.headers, content
