"""run_tool with input larger than a pipe holds, to a program that starts reading late: all
of it arrives (communicate() retried in slices used to stop writing after the first slice,
and the program waited for the rest until the timeout)."""

from __future__ import annotations

from vidgen_ray.programs import run_tool


def test_input_over_a_pipes_size_reaches_a_late_reader_whole():
    data = bytes(range(256)) * 4096  # 1 MiB, 16 pipe buffers
    out = run_tool("sh", ["-c", "sleep 0.5; cat"], input=data, timeout=60)
    assert out == data


def test_a_program_that_reads_nothing_still_finishes():
    assert run_tool("sh", ["-c", "echo done"], input=b"x" * 1_000_000, timeout=60) == b"done\n"
