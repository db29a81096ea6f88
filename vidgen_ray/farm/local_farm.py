"""The farm this machine keeps between renders (``vidgen farm start``), so that a render finds
its models loaded instead of loading them again.

A keeper process of its own holds it: it starts a Ray on loopback, the named, detached Farm
actor (a ``LocalFarm``: the Farm owning its workers' settings) and its warm pools, records
them in ``<farm dir>/farm.json``, then waits for SIGTERM (``vidgen farm stop``), when it
stops the farm and its Ray; nothing else on the machine is touched. The keeper, not the
terminal that started it, owns that Ray, so the farm outlives the command.

    start(settings)          spawn the keeper, wait until its farm is up; a RunningFarm
    running()                the farm farm.json records, if its keeper is alive; else None
    stop()                   SIGTERM the keeper and wait for it; what was running, or None
    check_job(farm, settings)  a job's farm settings against the farm's (it owns them)
    keep()                   the keeper's main (run by start, never by hand)

A render on it writes where it always does (its -o folder, parts in -o/parts): the farm
runs as the same user on the same machine. Only its log lives in the farm dir.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from vidgen_ray.config import FarmSettings, RenderSettings, fields_of
from vidgen_ray.config.environment import local_farm_dir
from vidgen_ray.errors import RenderError, SettingsError
from vidgen_ray.farm.scheduler import Farm

__all__ = ["LocalFarm", "RunningFarm", "check_job", "farm_settings", "keep", "running",
           "start", "stop"]

STATE, LOG, LOCK = "farm.json", "farm.log", "farm.lock"
KEEPER = "from vidgen_ray.farm.local_farm import keep; keep()"
START_S = 300.0  # the most a farm may take to start (Ray, then the warm pools' models)
STOP_S = 90.0  # the most the keeper may take to stop its jobs, workers and Ray


@dataclass
class RunningFarm:
    """What farm.json records: the keeper's process, its Ray's address, the settings the
    farm owns, the install it runs (a render from another one is refused) and its pools."""

    pid: int
    address: str
    started: float
    owned: dict = field(default_factory=dict)
    package: str = ""
    version: str = ""
    pools: list[str] = field(default_factory=list)
    log: str = ""

    def describe(self) -> str:
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.started))
        return f"{self.address} (pid {self.pid}, since {since})"


class LocalFarm(Farm):
    """The Farm of ``vidgen farm start``: its own farm-scoped settings (workers, batches, GPU
    shares) replace every job's, so its pools stay the ones it warmed."""

    def __init__(self, owned: dict | None = None, **farm_options):
        super().__init__(**farm_options)
        self.owned = dict(owned or {})

    async def submit(self, storyboard, out_dir, settings, priority=0, **more) -> str:
        return await super().submit(storyboard, out_dir, settings.model_copy(update=self.owned),
                                    priority, **more)

    async def warm(self, settings: RenderSettings) -> list[dict]:
        """Start the pools ``settings`` name (their models load now, not at the first job)."""
        await self.shared.for_settings(settings.model_copy(update=self.owned), user="warm")
        self.shared.leave("warm")  # idle from now: retired like any pool (pool_idle_timeout_s)
        return await self.shared.workers()


def farm_settings(settings: RenderSettings) -> dict:
    """The settings a farm owns (config/scope.py: FARM), as JSON values."""
    return settings.model_dump(mode="json", include=set(fields_of(RenderSettings, "farm")))


def _folder() -> Path:
    folder = Path(local_farm_dir())
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def running() -> RunningFarm | None:
    """The farm farm.json records when its keeper still runs; a stale record is removed."""
    path = Path(local_farm_dir()) / STATE
    try:
        found = RunningFarm(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None
    if _alive(found.pid):
        return found
    with contextlib.suppress(OSError):
        path.unlink()
    return None


def _alive(pid: int) -> bool:
    """The keeper runs: the process exists and is one (a reused pid is not)."""
    try:
        os.kill(pid, 0)
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except ProcessLookupError:
        return False
    except (PermissionError, FileNotFoundError):  # no /proc: the pid is all there is
        return True
    return b"vidgen_ray.farm.local_farm" in cmdline


def check_job(farm: RunningFarm, settings: RenderSettings) -> None:
    """A render on ``farm`` runs with the farm's workers, batches and GPU shares: one that
    asks for others (a flag, a VIDGEN_ variable) is refused, never silently changed; and it
    must run the same install, since the farm's processes run the farm's code."""
    import vidgen_ray

    package = str(Path(vidgen_ray.__file__).resolve().parent)
    if (farm.package, farm.version) != (package, vidgen_ray.__version__):
        raise RenderError(
            f"the farm running at {farm.describe()} runs vidgen-ray {farm.version} from "
            f"{farm.package}, this render is {vidgen_ray.__version__} from {package}: stop it "
            "(vidgen farm stop) and start it from this install, or render on a private farm "
            "with --private-farm")
    asked = settings.model_fields_set & set(fields_of(RenderSettings, "farm"))
    differ = {name: getattr(settings, name) for name in sorted(asked)
              if getattr(settings, name) != farm.owned.get(name)}
    if differ:
        wanted = ", ".join(f"{name} {value} (the farm has {farm.owned.get(name)})"
                           for name, value in differ.items())
        flags = " ".join(f"--{name.replace('_', '-')} {value}" for name, value in differ.items())
        raise SettingsError(
            f"the farm running at {farm.describe()} owns its workers' settings, and this "
            f"render asks for others: {wanted}. Leave them out to use the farm's, restart the "
            f"farm with them (vidgen farm stop; vidgen farm start {flags}), or render on a "
            "private farm with --private-farm", field=next(iter(differ)))


# ---- the client side: start and stop the keeper ---------------------------------------------

def start(settings: RenderSettings, limits: FarmSettings | None = None,
          timeout: float = START_S) -> tuple[RunningFarm, bool]:
    """(the farm, True) once a new keeper's farm is up with its pools warm for ``settings``'
    backends; (the running one, False) when one runs already and ``settings`` fit it."""
    folder = _folder()
    with open(folder / LOCK, "w") as lock:  # two starts at once: the second finds the first
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = running()
        if found is not None:
            check_job(found, settings)
            return found, False
        request = {"settings": settings.model_dump(mode="json", exclude_unset=True),
                   "limits": (limits or FarmSettings()).model_dump(mode="json")}
        with open(folder / LOG, "ab") as log:
            proc = subprocess.Popen([sys.executable, "-c", KEEPER], stdin=subprocess.PIPE,
                                    stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)  # not stopped with the terminal
        proc.stdin.write(json.dumps(request).encode())
        proc.stdin.close()
        return _wait_started(proc, folder, timeout), True


def _wait_started(proc: subprocess.Popen, folder: Path, timeout: float) -> RunningFarm:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = running()
        if found is not None and found.pid == proc.pid:
            return found
        if proc.poll() is not None:
            raise RenderError(f"the farm did not start:\n{_tail(folder / LOG)}\n(its whole "
                              f"log: {folder / LOG})")
        time.sleep(0.2)
    _kill_group(proc.pid)
    raise RenderError(f"the farm did not start in {timeout:.0f} s (stopped):\n"
                      f"{_tail(folder / LOG)}\n(its whole log: {folder / LOG})")


def _tail(path: Path, lines: int = 15) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


def stop(timeout: float = STOP_S) -> RunningFarm | None:
    """SIGTERM the keeper (it cancels the farm's jobs, stops its workers and its Ray) and wait
    for it; past ``timeout``, SIGKILL its process group. What was running, or None."""
    found = running()
    if found is None:
        return None
    with contextlib.suppress(ProcessLookupError):
        os.kill(found.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(found.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _alive(found.pid):
        _kill_group(found.pid)
    with contextlib.suppress(OSError):
        (Path(local_farm_dir()) / STATE).unlink()
    return found


def _kill_group(pid: int) -> None:
    """The keeper leads its own session (start_new_session): its group is its processes."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


# ---- the keeper -------------------------------------------------------------------------------

def keep() -> None:
    """The keeper's main: the request (settings, limits) on stdin; farm.json written once the
    farm and its pools are up; on SIGTERM or SIGINT the farm and its Ray stop."""
    import ray

    import vidgen_ray
    from vidgen_ray.farm.connect import FARM_NAME, FARM_NAMESPACE, connect

    request = json.loads(sys.stdin.read())
    settings = RenderSettings(**request["settings"])
    limits = FarmSettings(**request["limits"])
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    connect(None)  # a Ray of its own, every server on loopback
    owned = farm_settings(settings)
    farm = ray.remote(LocalFarm).options(
        name=FARM_NAME, namespace=FARM_NAMESPACE, lifetime="detached", num_cpus=0,
        max_concurrency=1000, max_restarts=0,
    ).remote(owned=owned, max_running=limits.max_running_jobs,
             max_queued=limits.max_queued_jobs, retry_after=limits.retry_after)
    workers = ray.get(farm.warm.remote(settings), timeout=START_S)
    state = RunningFarm(
        pid=os.getpid(), address=ray.get_runtime_context().gcs_address, started=time.time(),
        owned=owned, package=str(Path(vidgen_ray.__file__).resolve().parent),
        version=vidgen_ray.__version__, pools=sorted({row["pool"] for row in workers}),
        log=str(Path(local_farm_dir()) / LOG))
    _write_state(state)
    print(f"farm up at {state.address}: {', '.join(state.pools)}", flush=True)
    try:
        signal.sigwait({signal.SIGTERM, signal.SIGINT})
    finally:
        _remove_state(state.pid)  # no render finds a farm that is going away
        with contextlib.suppress(Exception):
            ray.get(farm.shutdown.remote(), timeout=STOP_S / 2)
        with contextlib.suppress(Exception):
            ray.kill(farm)
        ray.shutdown()
    print("farm stopped", flush=True)


def _write_state(state: RunningFarm) -> None:
    path = _folder() / STATE
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(asdict(state), indent=2) + "\n")
    partial.replace(path)  # a reader sees the whole record or none


def _remove_state(pid: int) -> None:
    path = Path(local_farm_dir()) / STATE
    with contextlib.suppress(OSError, ValueError):
        if json.loads(path.read_text()).get("pid") == pid:
            path.unlink()
