"""The GPU suite's CPU-safe parts (benchmarks/gpu_suite.py): its steps fit the nine minutes a
lent machine gives, a dry run lists them and runs nothing, and a step past its limit is
stopped and recorded as timed out while the suite goes on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import gpu_suite  # noqa: E402


def test_the_steps_fit_the_suite_and_cover_tests_e2e_and_pools(monkeypatch, tmp_path):
    monkeypatch.setenv("OUT", str(tmp_path))
    steps = gpu_suite.plan()
    assert sum(s["limit_s"] for s in steps) <= gpu_suite.TOTAL_S <= 540
    commands = {s["step"]: " ".join(s["command"]) for s in steps}
    assert "tests/gpu" in commands["gpu-tests"]
    assert "e2e_render.py --gpus 1" in commands["e2e-render"]
    assert "--pool" in commands["models-via-pools"]
    assert "encoder_quality.py --quick" in commands["encoder-quality"]
    assert "tests/integration/test_encoder_join.py" in commands["gpu-tests"]
    assert all(str(tmp_path) in commands[name]
               for name in ("gpu-tests", "e2e-render", "models-via-pools", "encoder-quality"))
    with pytest.raises(ValueError, match="add up to more than 60 s"):
        gpu_suite.plan(total_s=60)


def test_a_dry_run_lists_the_steps_and_writes_nothing(tmp_path):
    done = subprocess.run([sys.executable, str(BENCHMARKS / "gpu_suite.py"), "--dry-run"],
                          capture_output=True, text=True, timeout=60,
                          env={"OUT": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    for step in gpu_suite.STEPS:
        assert step.name in done.stdout
    assert f"results in {tmp_path}" in done.stdout
    assert list(tmp_path.iterdir()) == []


def test_a_step_past_its_limit_is_stopped_and_marked(tmp_path):
    (tmp_path / "logs").mkdir()
    slow = gpu_suite.Step("slow", 1, ("{python}", "-c", "import time; time.sleep(30)"))
    row = gpu_suite.run_step(slow, tmp_path, left_s=100)
    assert row["rc"] == 124 and row["timed_out"] and row["seconds"] < 15
    quick = gpu_suite.Step("quick", 30, ("{python}", "-c", "print('hello')"))
    row = gpu_suite.run_step(quick, tmp_path, left_s=100)
    assert row["rc"] == 0 and (tmp_path / "logs" / "quick.log").read_text() == "hello\n"
    assert gpu_suite.run_step(quick, tmp_path, left_s=0)["skipped"]
