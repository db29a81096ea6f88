"""A render submitted with `ray job submit` to a Ray head this test starts (its own ports,
its own temp folder, loopback only), as docs/DEPLOY.md tells cluster users to do; the video
is checked with ffprobe. Only this head is stopped (its process group), never `ray stop`."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from vidgen_ray.testing.net import free_ports

pytestmark = [pytest.mark.cluster, pytest.mark.ffmpeg, pytest.mark.slow]

RAY = str(Path(sys.executable).with_name("ray"))
SCRIPT = "# Harbour\n\n## Dawn\n\nThe boats come home.\n"



@pytest.fixture
def head(tmp_path_factory):
    """(dashboard URL, env) of a Ray head on loopback; stopped by killing its group."""
    temp = Path(f"/tmp/vgj{os.getpid()}")  # short: Ray's socket paths have a length limit
    ports = free_ports(9)
    env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "disabled",
           "RAY_USAGE_STATS_ENABLED": "0", "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    env.pop("RAY_ADDRESS", None)
    command = [RAY, "start", "--head", "--node-ip-address=127.0.0.1", f"--port={ports[0]}",
               "--include-dashboard=true", "--dashboard-host=127.0.0.1",
               f"--dashboard-port={ports[1]}", f"--ray-client-server-port={ports[2]}",
               f"--dashboard-agent-listen-port={ports[3]}",
               f"--dashboard-agent-grpc-port={ports[4]}", f"--metrics-export-port={ports[5]}",
               f"--runtime-env-agent-port={ports[6]}", f"--node-manager-port={ports[7]}",
               f"--object-manager-port={ports[8]}", "--num-cpus=2", f"--temp-dir={temp}",
               "--disable-usage-stats", "--block"]
    log = tmp_path_factory.mktemp("head") / "head.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    url = f"http://127.0.0.1:{ports[1]}"
    try:
        for _ in range(240):
            try:
                with urllib.request.urlopen(f"{url}/api/version", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
            if process.poll() is not None:
                raise AssertionError(f"ray start exited: {log.read_text()[-2000:]}")
        else:
            raise AssertionError(f"the dashboard never answered: {log.read_text()[-2000:]}")
        yield url, env
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # this head and everything it started
        try:
            process.wait(timeout=5)  # `ray start --block` seldom exits on SIGTERM alone
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        subprocess.run(["rm", "-rf", str(temp)], check=False)


def test_render_submitted_as_a_ray_job(head, tmp_path):
    url, env = head
    script = tmp_path / "harbour.md"
    script.write_text(SCRIPT)
    out = tmp_path / "out"
    submitted = subprocess.run(
        [RAY, "job", "submit", "--address", url, "--", sys.executable, "-m", "vidgen_ray",
         "render", str(script), "-o", str(out), "--fps", "12"],
        env=env, capture_output=True, text=True, timeout=400)
    assert submitted.returncode == 0, submitted.stdout[-3000:] + submitted.stderr[-3000:]
    assert "succeeded" in submitted.stdout + submitted.stderr
    probe = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json",
         str(out / "video.mp4")], capture_output=True, text=True, check=True).stdout)
    kinds = {s["codec_type"]: s for s in probe["streams"]}
    assert kinds["video"]["codec_name"] == "h264" and kinds["video"]["r_frame_rate"] == "12/1"
    assert kinds["audio"]["codec_name"] == "aac" and float(probe["format"]["duration"]) > 1
    # The job joined the head's Ray (RAY_ADDRESS set by the job) instead of starting its own:
    # the shared, named Farm is there.
    listed = subprocess.run([RAY, "list", "actors", "--address", url, "--format", "json",
                             "--filter", "class_name=Farm"],
                            env=env, capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert [a["name"] for a in json.loads(listed.stdout)] == ["farm"]
