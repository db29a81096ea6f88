"""Signals for tests that press Ctrl-C on a child process."""

from __future__ import annotations

import signal


def heed_ctrl_c() -> None:
    """A Popen ``preexec_fn``: the child takes SIGINT as a terminal's program does. A test
    run started as a shell's background job (``make test &``) ignores SIGINT, and a child
    would inherit that and never see the Ctrl-C the test sends."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
