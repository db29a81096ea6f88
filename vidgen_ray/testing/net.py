"""Free loopback ports for the servers tests start (Serve, Ray heads, HTTP fakes)."""

from __future__ import annotations

import socket


def free_ports(count: int = 1) -> list[int]:
    """``count`` distinct ports free on 127.0.0.1 now (held together while picked, so they
    differ; a race with another process remains possible, as with any such helper)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def free_port() -> int:
    return free_ports(1)[0]
