"""`vidgen farm start` keeps a farm up on this machine and `vidgen render` uses it: real
commands in subprocesses, as a user types them (one farm for the module, stopped at its
end). The second render reuses the first's workers (same processes, models loaded once),
Ctrl-C cancels a render's job and leaves the farm up, a render asking for other farm
settings is refused, and a second start says the farm is running."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from vidgen_ray.testing.signals import heed_ctrl_c

pytestmark = [pytest.mark.ray, pytest.mark.ffmpeg, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "examples" / "lighthouse.md"


def vidgen(env: dict, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vidgen_ray", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def farm_env():
    """A farm of this module's own (its record and Ray in folders of their own), started
    with `vidgen farm start` and stopped with `vidgen farm stop`."""
    folder = Path(tempfile.mkdtemp(prefix="vg-farm-", dir="/tmp"))  # Ray's sockets: short
    env = {**os.environ, "VIDGEN_FARM_DIR": str(folder / "farm"),
           "RAY_TMPDIR": str(folder / "ray"), "PYTHONPATH": str(REPO)}
    (folder / "ray").mkdir()
    started = vidgen(env, "farm", "start")
    record = folder / "farm" / "farm.json"
    try:
        assert started.returncode == 0, started.stderr
        assert "farm started" in started.stderr, started.stderr
        yield env
    finally:
        keeper = json.loads(record.read_text())["pid"] if record.exists() else None
        stopped = vidgen(env, "farm", "stop", timeout=120)
        if keeper is not None:  # only what this module started, should stop have failed
            with contextlib.suppress(ProcessLookupError):
                os.killpg(keeper, signal.SIGKILL)
        shutil.rmtree(folder, ignore_errors=True)
        assert stopped.returncode == 0 and "farm stopped" in stopped.stderr, stopped.stderr


def workers(env: dict) -> dict[str, dict]:
    shown = vidgen(env, "farm", "status", "--json", timeout=120)
    assert shown.returncode == 0, shown.stderr
    return {row["pool"]: row for row in json.loads(shown.stdout)}


def video_seconds(path: Path) -> float:
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration",
                            "-of", "csv=p=0", str(path)], capture_output=True, text=True,
                           check=True)
    decode = subprocess.run(["ffmpeg", "-v", "error", "-xerror", "-i", str(path), "-f", "null",
                             "-"], capture_output=True, text=True)
    assert decode.returncode == 0 and not decode.stderr, decode.stderr
    return float(probe.stdout)


def test_the_farm_starts_warm_and_a_second_start_says_it_runs(farm_env):
    before = workers(farm_env)
    assert set(before) == {"image:cards", "speech:espeak"}  # started with the farm
    assert all(row["loaded"] and row["node_ip"] == "127.0.0.1" for row in before.values())
    again = vidgen(farm_env, "farm", "start")
    assert again.returncode == 0, again.stderr
    assert "already running" in again.stderr
    assert workers(farm_env).keys() == before.keys()  # nothing new started


def test_two_renders_share_the_farm_and_its_loaded_workers(farm_env, tmp_path):
    before = workers(farm_env)
    outputs = []
    for name in ("first", "second"):
        out = tmp_path / name
        done = vidgen(farm_env, "render", str(DEMO), "-o", str(out), "--preview")
        assert done.returncode == 0, done.stderr[-3000:]
        assert "using the farm running at 127.0.0.1:" in done.stderr
        assert "models warm" in done.stderr
        outputs.append(out)
        after = workers(farm_env)
        for pool, row in after.items():  # the same processes, the model never loaded again
            assert row["pid"] == before[pool]["pid"], pool
            assert row["loaded"] and row["releases"] == 0, pool
            assert row["calls"] > before[pool]["calls"], pool
        before = after
    for out in outputs:  # written where -o says, parts beside them, as a private render does
        assert video_seconds(out / "video.mp4") > 10
        assert (out / "parts").is_dir() and (out / "manifest.json").is_file()
    manifests = [json.loads((out / "manifest.json").read_text()) for out in outputs]
    assert manifests[0]["settings"] == manifests[1]["settings"]


def test_ctrl_c_cancels_the_job_and_leaves_the_farm_up(farm_env, tmp_path):
    before = workers(farm_env)
    proc = subprocess.Popen([sys.executable, "-m", "vidgen_ray", "render", str(DEMO), "-o",
                             str(tmp_path / "stopped")], env=farm_env, cwd=REPO,
                            stderr=subprocess.PIPE, text=True, preexec_fn=heed_ctrl_c)
    seen = ""
    while "models warm" not in seen:  # the render found the farm; its job is under way
        line = proc.stderr.readline()
        assert line, f"the render ended early: {seen}"
        seen += line
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    rest = proc.communicate(timeout=120)[1]
    assert proc.returncode == 130, seen + rest
    assert "interrupted; finished parts kept in" in rest
    assert {p: r["pid"] for p, r in workers(farm_env).items()} == {
        p: r["pid"] for p, r in before.items()}
    # The farm is free again: the job was cancelled, not left running beside the next one.
    done = vidgen(farm_env, "render", str(DEMO), "-o", str(tmp_path / "after"), "--preview")
    assert done.returncode == 0, done.stderr[-3000:]


def test_a_render_asking_other_farm_settings_is_refused(farm_env, tmp_path):
    refused = vidgen({**farm_env, "VIDGEN_IMAGE_WORKERS": "3"}, "render", str(DEMO), "-o",
                     str(tmp_path / "refused"), "--image-batch-size", "2")
    assert refused.returncode == 2, refused.stderr
    message = " ".join(refused.stderr.split())
    assert "image_workers 3 (the farm has None)" in message
    assert "image_batch_size 2 (the farm has 4)" in message
    assert "--private-farm" in message and "vidgen farm stop" in message
    assert not (tmp_path / "refused" / "video.mp4").exists()


def test_private_farm_renders_beside_the_running_farm_without_touching_it(farm_env, tmp_path):
    before = workers(farm_env)
    done = vidgen(farm_env, "render", str(DEMO), "-o", str(tmp_path / "private"), "--preview",
                  "--private-farm")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "using the farm" not in done.stderr
    assert video_seconds(tmp_path / "private" / "video.mp4") > 10
    after = workers(farm_env)  # the farm served none of it
    assert {p: (r["pid"], r["calls"]) for p, r in after.items()} == {
        p: (r["pid"], r["calls"]) for p, r in before.items()}
