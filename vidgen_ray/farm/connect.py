"""The session with Ray: joining a cluster (or starting a Ray on this machine), the cluster's
one Farm actor, and ``render``, the blocking one-call entry.

    connect(address)            join ray://head:10001, or start a local Ray on loopback
    farm_actor(journal, ...)    create or find the named, detached Farm (render --address,
                                the job service)
    running_farm(address)       the Farm already running there, or this machine's (vidgen
                                farm status|release: ask_running_farm)
    local_farm(settings)        this machine's warm farm (vidgen farm start): its handle,
                                started first when none runs (benchmarks, scripts)
    render(source, out, ...)    a script into a folder: on a Farm in this process, on this
                                machine's running farm, or on the cluster's Farm
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path

import ray

from vidgen_ray.config import FarmSettings, RenderSettings, ray_runtime_env
from vidgen_ray.errors import NotFoundError, OutputError, RenderError
from vidgen_ray.farm.actors.listen import prepare_local_start
from vidgen_ray.farm.jobs import JobRecord
from vidgen_ray.farm.journal import FolderJournal
from vidgen_ray.farm.scheduler import Farm
from vidgen_ray.pipeline import media
from vidgen_ray.pipeline.flow import RenderResult
from vidgen_ray.pipeline.source import load_storyboard, require_speech
from vidgen_ray.programs import check_ffmpeg, find_tool
from vidgen_ray.storyboard import Storyboard

__all__ = ["FARM_NAME", "FARM_NAMESPACE", "ask_running_farm", "cluster_resources", "connect",
           "farm_actor", "local_farm", "render", "running_farm"]

FARM_NAME, FARM_NAMESPACE = "farm", "vidgen"
Progress = Callable[[str, int, int], None]  # (stage, done, total)
WATCH_S = 10.0  # a cluster render's watch returns at least this often (Ctrl-C, a dead farm)
START_S = 300.0  # the most a new farm may take to read its home back


def connect(address: str | None) -> None:
    """Join the cluster at ``address``, or start a Ray on this machine, on loopback only."""
    if ray.is_initialized():
        return
    if address:
        os.environ.update(ray_runtime_env(local=False))  # workers inherit the driver's environment
        ray.init(address=address, namespace=FARM_NAMESPACE, logging_level="WARNING",
                 log_to_driver=False)
        return
    os.environ.pop("RAY_ADDRESS", None)  # a stale address makes a local start hang
    prepare_local_start()
    ray.init(address="local", namespace=FARM_NAMESPACE, include_dashboard=False,
             logging_level="WARNING", log_to_driver=False, _node_ip_address="127.0.0.1",
             object_store_memory=_object_store_bytes())


def _join_local(address: str) -> None:
    """Join this machine's running farm's Ray (local_farm.py) as a loopback-only driver."""
    if ray.is_initialized():
        return
    os.environ.pop("RAY_ADDRESS", None)
    prepare_local_start()
    ray.init(address=address, namespace=FARM_NAMESPACE, logging_level="WARNING",
             log_to_driver=False, _node_ip_address="127.0.0.1")


def _object_store_bytes() -> int:
    """Ray's default (30 % of memory) overflows a small /dev/shm (containers) and then warns;
    a render's parts are small, so 2 GiB or less is plenty for one machine."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return int(min(2 * 1024**3, 0.3 * memory))


def cluster_resources(address: str | None) -> dict[str, float]:
    """The cluster's resources; without an address, this machine's, without starting Ray."""
    if not address:
        import shutil
        import subprocess

        gpus = 0
        if shutil.which("nvidia-smi"):  # what Ray would detect, without starting it
            listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True)
            gpus = listing.stdout.count("GPU ")
        return {"CPU": float(os.cpu_count() or 1), "GPU": float(gpus)}
    ray.init(address=address, logging_level="WARNING", log_to_driver=False)
    try:
        return ray.cluster_resources()
    finally:
        ray.shutdown()


def farm_actor(journal: FolderJournal | None = None, settings: FarmSettings | None = None,
               factories: dict | None = None, **options):
    """The cluster's one Farm: a named, detached async actor, created by the first caller
    with its journal and FarmSettings (later callers get the running one as it is).

    With a job home (the service's HomeJournal) Ray restarts it when its process dies, and
    it takes its jobs up again; a farm without one already holding the name (started by
    ``vidgen render --address``) is refused. ``options``: more Ray actor options (tests pin
    the farm to a node with a custom resource)."""
    settings = settings or FarmSettings()
    journal = journal or FolderJournal()
    durable = journal.home is not None
    handle = ray.remote(Farm).options(
        name=FARM_NAME, namespace=FARM_NAMESPACE, lifetime="detached", get_if_exists=True,
        num_cpus=0, max_concurrency=1000, max_restarts=-1 if durable else 0, **options,
    ).remote(max_running=settings.max_running_jobs, max_queued=settings.max_queued_jobs,
             retry_after=settings.retry_after, factories=factories, journal=journal)
    if durable and not ray.get(handle.keeps_home.remote(), timeout=START_S):
        raise RenderError(
            f"a Farm without a job home (started by `vidgen render --address`) already holds "
            f"the name {FARM_NAME!r} in namespace {FARM_NAMESPACE!r}, and it keeps no durable "
            "jobs: let its renders finish and stop it (ray.kill(ray.get_actor('farm', "
            "namespace='vidgen'))), then start the service; start the service first and "
            "`vidgen render --address` uses the service's farm")
    return handle


def running_farm(address: str | None):
    """The Farm already running on the cluster at ``address``, or without one, the farm
    ``vidgen farm start`` keeps on this machine (never starts one)."""
    if not address:
        from vidgen_ray.farm import local_farm as kept

        found = kept.running()
        if found is None:
            raise NotFoundError("no farm is running on this machine: start one with `vidgen "
                                "farm start`, or name a cluster's with --address "
                                "ray://head:10001 (or RAY_ADDRESS); a private render's farm "
                                "lives only while it runs")
        return _kept_farm(found)
    connect(address)
    try:
        return ray.get_actor(FARM_NAME, namespace=FARM_NAMESPACE)
    except ValueError:
        raise NotFoundError(f"no farm is running on {address}: it starts with the first "
                            "'vidgen render --address' or with the job service") from None


def ask_running_farm(address: str | None, method: str, timeout: float = 120.0):
    """What the Farm running at ``address`` answers to ``method`` (called without
    arguments): ``vidgen farm status`` asks for ``workers``."""
    from vidgen_ray.farm.actors.errors import unwrap

    farm = running_farm(address)
    try:
        return ray.get(getattr(farm, method).remote(), timeout=timeout)
    except ray.exceptions.RayTaskError as exc:
        raise unwrap(exc) from None


def local_farm(settings: RenderSettings | None = None, start: bool = True):
    """The handle of the farm ``vidgen farm start`` keeps on this machine, this process joined
    to its Ray; without one, it is started first (pools warm for ``settings``' backends)
    unless ``start`` is False (NotFoundError). ``settings``' farm fields must fit a running
    farm's (local_farm.check_job). Stop it with ``local_farm.stop()``."""
    from vidgen_ray.farm import local_farm as kept

    settings = settings or RenderSettings()
    found = kept.running()
    if found is None and not start:
        return running_farm(None)  # its error says how to start one
    if found is None:
        found, _ = kept.start(settings)
    kept.check_job(found, settings)
    return _kept_farm(found)


def _kept_farm(found):
    """The farm actor of this machine's running farm (``found``: local_farm.RunningFarm),
    this process joined to its Ray."""
    _join_local(found.address)
    try:
        return ray.get_actor(FARM_NAME, namespace=FARM_NAMESPACE)
    except ValueError:
        raise RenderError(f"the farm running at {found.describe()} has lost its farm actor "
                          f"(its log: {found.log}): restart it (vidgen farm stop; vidgen farm "
                          "start), or render on a private farm with --private-farm") from None


# ---- the one-call API: render a script into a folder ----------------------------------------

def render(source: str | Path | Storyboard, out_dir: Path, settings: RenderSettings,
           progress: Progress | None = None, priority: int = 0, farm=None) -> RenderResult:
    """Render on a Farm in this process, on this machine's running farm when ``farm`` is
    one (local_farm.running()), or on the cluster's Farm when an address is set."""
    if farm is not None:
        from vidgen_ray.farm import local_farm as kept

        kept.check_job(farm, settings)  # before any work
        settings = _absolute_paths(settings)  # the farm's processes have their own folder
    started = time.perf_counter()
    limiter = None
    if settings.ray_address and settings.llm != "local":  # share the cluster's model budget
        from vidgen_ray.farm.actors.rate_limiter import farm_limiter

        connect(settings.ray_address)
        limiter = farm_limiter(settings)
    storyboard = load_storyboard(source, settings, limiter)
    require_speech(storyboard)
    for program in ("ffmpeg", "ffprobe"):  # fail before any work, not after it
        find_tool(program)
    # The user's own pictures, clips and music: found and checked before any work.
    storyboard, music = media.for_local_render(storyboard, settings.music, source)
    settings = settings.model_copy(update={"music": music})
    check_ffmpeg()  # new enough, with every filter the renders use
    out_dir = _prepare_output(out_dir)
    analyze_seconds = time.perf_counter() - started
    if not settings.ray_address and farm is None:
        _refuse_running_loop()  # before starting Ray, not after
    shared = _kept_farm(farm) if farm is not None else None
    if farm is None:
        connect(settings.ray_address)
    report = progress or (lambda stage, done, total: None)
    try:
        if shared is not None:
            result = _follow(shared, storyboard, out_dir, settings, priority, report)
        elif settings.ray_address:
            result = _follow(farm_actor(), storyboard, out_dir, settings, priority, report)
        else:
            result = asyncio.run(_locally(storyboard, out_dir, settings, priority, report))
    except RenderError as exc:
        raise _with_resume_hint(exc, out_dir) from None
    result.timings = {"analyze": analyze_seconds, **result.timings}
    return result


async def _locally(storyboard, out_dir, settings, priority, report) -> RenderResult:
    farm = Farm(max_running=1)
    try:
        job_id = await farm.submit(storyboard, str(out_dir), settings, priority)
        seen, record = -1, None
        while record is None or record.unfinished:  # one step per change of the record
            seen, record = await farm.watch(job_id, seen)
            _forward(record, report)
        return await farm.wait(job_id)
    finally:
        await farm.shutdown()


def _follow(farm, storyboard, out_dir, settings, priority, report) -> RenderResult:
    """The job on a shared farm (the cluster's, or this machine's running one), followed
    to its end; Ctrl-C cancels the job, never the farm."""
    from vidgen_ray.farm.actors.errors import unwrap

    try:
        job_id = ray.get(farm.submit.remote(storyboard, str(out_dir), settings, priority))
    except ray.exceptions.RayTaskError as exc:
        raise unwrap(exc) from None
    try:
        seen, record = -1, None
        while record is None or record.unfinished:
            seen, record = ray.get(farm.watch.remote(job_id, seen, WATCH_S))
            _forward(record, report)
        return ray.get(farm.wait.remote(job_id))
    except ray.exceptions.RayTaskError as exc:
        raise unwrap(exc) from None
    except KeyboardInterrupt:  # Ctrl-C stops the job on the shared farm too, not just us
        ray.get(farm.cancel.remote(job_id), timeout=30)
        raise


def _absolute_paths(settings: RenderSettings) -> RenderSettings:
    """Relative paths the settings give that exist here (./models/sdxl, a voice .npz, a
    fonts folder), made absolute for a farm whose processes run in another folder."""
    from vidgen_ray.pipeline.preflight import MODEL_PATHS

    def absolute(value):
        if isinstance(value, str) and value and not os.path.isabs(value) \
                and Path(value).expanduser().exists():
            return str(Path(value).expanduser().resolve())
        return value

    update = {name: absolute(getattr(settings, name))
              for name in (*MODEL_PATHS, "tts_voice", "subtitle_fonts_dir")}
    update["voices"] = {speaker: absolute(v) for speaker, v in settings.voices.items()}
    changed = {k: v for k, v in update.items() if v != getattr(settings, k)}
    return settings.model_copy(update=changed) if changed else settings


def _with_resume_hint(exc: RenderError, out_dir: Path) -> RenderError:
    """A failed job's error as this machine's user needs it: the whole story (program
    output, paths), where the finished parts are and how to resume."""
    if exc.stage is None:  # not a job's failure (the farm is shutting down, ...)
        return exc
    detail = getattr(exc, "detail", None) or exc.message
    return RenderError(f"{detail}\nFinished parts are kept in {out_dir / 'parts'}: run the "
                       "same command again to resume.", stage=exc.stage, scene=exc.scene)


def _refuse_running_loop() -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RenderError("render() blocks, so it cannot run inside an event loop (Jupyter, an "
                      "async app): there, use 'await Farm().submit(...)' and "
                      "'await farm.wait(job_id)'")


def _forward(record: JobRecord, report: Progress) -> None:
    for stage, progress in record.progress.items():
        report(stage, progress.done, progress.total)


def _prepare_output(out_dir: Path) -> Path:
    out_dir = Path(out_dir).expanduser().resolve()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe_file = out_dir / ".vidgen-write-test"
        probe_file.write_bytes(b"")
        probe_file.unlink()
    except OSError as exc:
        raise OutputError(f"cannot write to the output folder {out_dir}: {exc.strerror}: "
                          "choose another folder with -o") from exc
    return out_dir
