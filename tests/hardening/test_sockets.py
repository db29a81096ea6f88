"""Nothing of the local job service listens off loopback (issue 15, point 1).

Every listening TCP socket and every bound UDP socket of every process of the service's Ray
session (driver, GCS, raylet, dashboard and its agents, Serve controller, proxy, replicas, the
farm and its workers) must be on 127.0.0.1 / ::1 (or ::ffff:127.0.0.1). A session's
processes are the driver and its descendants (Ray starts its servers as the driver's
children and every worker as the raylet's), plus any process whose command line names the
session's folder: never a process found by name, since other Ray instances may run here.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
import yaml

from vidgen_ray.service.client import ServiceClient
from vidgen_ray.testing.net import free_port
from vidgen_ray.testing.service import job_service

pytestmark = [pytest.mark.ray, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
KEY = "k" * 32
SCRIPT = "# Harbour\n\nThe boats come home.\n"
SERVE_PORT = 8000  # `serve run module:app` has no port option (NOTES.md)


def session_pids(driver: int, session_dir: str | None = None) -> set[int]:
    """The driver, its descendants, and processes whose command line names ``session_dir``."""
    pids = {driver} | {p.pid for p in psutil.Process(driver).children(recursive=True)}
    if session_dir:
        for proc in psutil.process_iter(["cmdline"]):
            if any(session_dir in arg for arg in proc.info["cmdline"] or ()):
                pids.add(proc.pid)
    return pids


def listeners(pids: set[int]) -> list[tuple[int, str, str]]:
    """(pid, process name, "host:port/proto") of every listening TCP and bound UDP socket."""
    found = []
    for pid in sorted(pids):
        try:
            proc = psutil.Process(pid)
            name, sockets = proc.name(), proc.net_connections(kind="inet")
        except psutil.NoSuchProcess:
            continue
        for s in sockets:
            listening = s.status == psutil.CONN_LISTEN if s.type == 1 else not s.raddr
            if listening and s.laddr:
                proto = "tcp" if s.type == 1 else "udp"
                found.append((pid, name, f"{s.laddr.ip}:{s.laddr.port}/{proto}"))
    return found


def is_loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address.rsplit(":", 1)[0].strip("[]"))
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback


def assert_loopback_only(pids: set[int]) -> list[tuple[int, str, str]]:
    found = listeners(pids)
    exposed = [row for row in found if not is_loopback(row[2])]
    assert not exposed, "listening off loopback (pid, process, address): " + "; ".join(
        f"{pid} {name} {address}" for pid, name, address in exposed)
    return found


@pytest.mark.ffmpeg
def test_job_service_listens_on_loopback_only(tmp_path):
    import ray

    env = {"VIDGEN_API_KEYS": f"alice:{KEY}", "VIDGEN_STORAGE": str(tmp_path / "home")}
    with job_service(env) as address:
        client = ServiceClient(f"http://{address}", KEY)
        script = tmp_path / "harbour.md"
        script.write_text(SCRIPT)
        job = client.submit(script, {"fps": 12, "chunk_seconds": 2.0})
        deadline = time.monotonic() + 300
        while job["status"] not in ("done", "failed", "cancelled"):
            assert time.monotonic() < deadline, f"job still {job['status']} after 300 s"
            time.sleep(0.5)
            job = client.status(job["id"])
        assert job["status"] == "done", job  # so workers, FFmpeg tasks and replicas all ran
        session = ray._private.worker._global_node.get_session_dir_path()
        found = assert_loopback_only(session_pids(os.getpid(), session))
    names = {name for _, name, _ in found}
    # The check saw the servers it is about: the Serve replica, its proxy, the raylet, the GCS.
    assert {"raylet", "gcs_server", "ray::ProxyActor"} <= names, names
    assert any(name.startswith("ray::ServeReplica") for name in names), names


LOCAL_RAY = """
import sys, ray
from vidgen_ray.farm.connect import connect
connect(None)
ray.get(ray.remote(lambda: 1).remote())
print("ready", flush=True)
sys.stdin.read()
"""


def test_local_render_ray_listens_on_loopback_only(tmp_path):
    """`vidgen render` and `make demo` start Ray through connect(None) after `ray` is
    imported, from a shell without the suite's Ray variables."""
    env = _user_env(tmp_path, keep_single_machine=False)
    ray_tmp = Path(tempfile.mkdtemp(prefix="vg-sock-", dir="/tmp"))
    proc = subprocess.Popen([sys.executable, "-c", LOCAL_RAY], cwd=REPO,
                            env=env | {"RAY_TMPDIR": str(ray_tmp)}, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        assert proc.stdout.readline() == b"ready\n"  # blocks until Ray and a worker are up
        found = assert_loopback_only(session_pids(proc.pid, str(ray_tmp)))
        assert {"raylet", "gcs_server"} <= {name for _, name, _ in found}, found
    finally:
        proc.stdin.close()  # the script returns and Ray shuts down with it
        _stop(proc)
        shutil.rmtree(ray_tmp, ignore_errors=True)


def test_kept_farm_listens_on_loopback_only(tmp_path):
    """`vidgen farm start` from a user's shell: the keeper's Ray, the farm and its warm
    workers (they outlive the command) listen on loopback only."""
    import json

    env = _user_env(tmp_path, keep_single_machine=False)
    ray_tmp = Path(tempfile.mkdtemp(prefix="vg-sock-", dir="/tmp"))
    env |= {"RAY_TMPDIR": str(ray_tmp), "VIDGEN_FARM_DIR": str(tmp_path / "farm")}
    vidgen = [sys.executable, "-m", "vidgen_ray", "farm"]
    started = subprocess.run([*vidgen, "start"], cwd=REPO, env=env, capture_output=True,
                             text=True, timeout=300)
    record = tmp_path / "farm" / "farm.json"
    keeper = json.loads(record.read_text())["pid"] if record.exists() else None
    try:
        assert started.returncode == 0, started.stderr
        found = assert_loopback_only(session_pids(keeper, str(ray_tmp)))
        names = {name for _, name, _ in found}
        assert {"raylet", "gcs_server"} <= names, found
        assert any("Worker" in name or "LocalFarm" in name for name in names), names
    finally:
        subprocess.run([*vidgen, "stop"], cwd=REPO, env=env, capture_output=True, timeout=120)
        if keeper is not None:  # only the keeper this test started, and its processes
            with contextlib.suppress(ProcessLookupError):
                os.killpg(keeper, signal.SIGKILL)
        shutil.rmtree(ray_tmp, ignore_errors=True)


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: TIME_WAIT is free
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_serve_run_listens_on_loopback_only(tmp_path):
    """The README's path, as a user types it: `serve run serve_app:app` with none of the test
    suite's Ray variables, so serve_app.py alone keeps the Ray that `serve run` starts on
    loopback."""
    if not _port_free(SERVE_PORT):
        pytest.skip(f"port {SERVE_PORT} is in use: `serve run serve_app:app` always takes it")
    env = _user_env(tmp_path, keep_single_machine=False)
    _serve_run_and_check(["serve_app:app"], SERVE_PORT, env, tmp_path)


def test_serve_run_of_the_config_listens_on_loopback_only(tmp_path):
    """`RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 serve run serve_config.yaml` as the README says
    (the CLI never imports serve_app here): the replica, importing the app, keeps its gRPC
    server off the wildcard address."""
    config = yaml.safe_load((REPO / "serve_config.yaml").read_text())
    port = free_port()
    config["http_options"]["port"] = port
    path = tmp_path / "serve_config.yaml"
    path.write_text(yaml.safe_dump(config))
    env = _user_env(tmp_path, keep_single_machine=True)
    _serve_run_and_check([str(path)], port, env, tmp_path)


def _user_env(tmp_path: Path, keep_single_machine: bool) -> dict[str, str]:
    """This environment without what vidgen itself sets before Ray starts (so the test sees
    what a user's shell gives `serve run`), plus the service's settings."""
    dropped = () if keep_single_machine else ("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER",)
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    return env | {"VIDGEN_API_KEYS": f"alice:{KEY}", "VIDGEN_STORAGE": str(tmp_path / "home"),
                  "PYTHONPATH": str(REPO)}


def _serve_run_and_check(args: list[str], port: int, env: dict[str, str], tmp_path: Path):
    # Ray's socket paths must stay under 107 bytes: a short folder of its own, not tmp_path.
    ray_tmp = Path(tempfile.mkdtemp(prefix="vg-sock-", dir="/tmp"))
    serve = Path(sys.executable).with_name("serve")
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([str(serve), "run", *args], cwd=REPO,
                                env=env | {"RAY_TMPDIR": str(ray_tmp)},
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_ready(proc, f"http://127.0.0.1:{port}/readyz", log, timeout=180)
        found = assert_loopback_only(session_pids(proc.pid, str(ray_tmp)))
        assert any(name.startswith("ray::ServeReplica") for _, name, _ in found), found
    finally:
        _stop(proc)
        shutil.rmtree(ray_tmp, ignore_errors=True)


def _wait_ready(proc: subprocess.Popen, url: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"serve run exited with {proc.returncode}: "
                        f"{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"{url} not ready after {timeout} s: {log.read_text(errors='replace')[-3000:]}")


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM to `serve run` (it shuts its Ray down), then SIGKILL to what is left of its
    process group: only processes this test started."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=60)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
