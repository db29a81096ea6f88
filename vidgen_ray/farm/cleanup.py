"""What `vidgen cleanup` removes (decided here; the CLI shows it, and deletes with --yes).

A *home* is a folder holding ``parts/`` (and ``parts/jobs/<id>.json`` records): a render's
output folder or the job service's storage, whose ``outputs/<id>/`` it also looks at.

- temp: interrupted writes (``.tmp-*`` parts, ``.<id>.*.tmp`` records, ``.<run>.video*``
  mux drafts) and scratch folders in the system temp folder (scratch.py: jobs' roots
  ``vidgen-job-<id>``, older versions' ``vidgen-mix-*``/``vidgen-chunk-*``), older than the
  age; never the root of a job that a home lists as queued or running.
- artifacts: parts older than the age, and finished jobs' ``outputs/<id>/`` finished before
  it. Never while a job of that home is queued or running: its parts may be any of them
  (they are shared by content), so the whole home is kept and the job named.

Ages are file modification times (a part is written once, when made).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from vidgen_ray.errors import OutputError, SettingsError
from vidgen_ray.farm.jobs import load_records
from vidgen_ray.pipeline import scratch

_AGE = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
TEMP_NAMES = (re.compile(r"\.tmp-.*"), re.compile(r"\.job-[0-9a-f]{12}\..*\.tmp"),
              # mux drafts, and the inputs older versions wrote beside them
              re.compile(r"\.job-[0-9a-f]{12}\.[0-9a-f]+\.video.*"))


@dataclass(frozen=True)
class Removal:
    path: Path
    size: int
    reason: str


def parse_age(text: str, field: str = "older_than") -> float:
    """'7d', '12h', '30m', '2w', '90s' -> seconds."""
    match = _AGE.fullmatch(text.strip().lower())
    if not match:
        raise SettingsError(f"--older-than {text!r} is not an age: write a number and a unit, "
                            "e.g. 7d, 12h, 30m, 2w", field=field)
    return float(match.group(1)) * _UNITS[match.group(2)]


def _size(path: Path) -> int:
    if path.is_file() or path.is_symlink():
        return path.lstat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file())


def _mtime(path: Path) -> float:
    """A folder is as new as the newest thing in it."""
    times = [path.lstat().st_mtime]
    if path.is_dir():
        times += [p.lstat().st_mtime for p in path.rglob("*")]
    return max(times)


def temp_removals(homes: list[Path], temp_dir: Path, cutoff: float) -> list[Removal]:
    found = []
    for home in homes:
        for path in [*home.rglob(".*")]:
            if path.is_file() and any(p.fullmatch(path.name) for p in TEMP_NAMES) \
                    and _mtime(path) < cutoff:
                found.append(Removal(path, _size(path), "interrupted write"))
    live = {job for home in homes for job in live_jobs(home)}
    for path in scratch.leftovers(temp_dir):
        job = scratch.job_of(path.name)
        if job in live or _mtime(path) >= cutoff:
            continue
        reason = f"scratch folder of job {job}" if job else "FFmpeg scratch folder"
        found.append(Removal(path, _size(path), reason))
    return found


def live_jobs(home: Path) -> list[str]:
    """Ids of the home's queued or running jobs."""
    records = home / "parts" / "jobs"
    return [r.id for r in load_records(records) if r.unfinished] if records.is_dir() else []


def artifact_removals(home: Path, cutoff: float) -> tuple[list[Removal], list[str]]:
    """(what goes, why the home is kept): nothing goes from a home with a live job."""
    live = live_jobs(home)
    if live:
        return [], live
    found = []
    parts = home / "parts"
    for kind in sorted(parts.iterdir()) if parts.is_dir() else []:
        if not kind.is_dir() or kind.name == "jobs":
            continue
        for part in kind.iterdir():
            if part.is_file() and _mtime(part) < cutoff:
                found.append(Removal(part, _size(part), f"{kind.name} part"))
    outputs = home / "outputs"
    finished = {r.id: r.finished for r in load_records(parts / "jobs")} \
        if (parts / "jobs").is_dir() else {}
    for folder in sorted(outputs.iterdir()) if outputs.is_dir() else []:
        done = finished.get(folder.name)
        if folder.is_dir() and done is not None and done < cutoff:
            found.append(Removal(folder, _size(folder), "outputs of a finished job"))
    return found, []


def remove(removals: list[Removal]) -> int:
    """Delete them; returns the bytes freed."""
    freed = 0
    for item in removals:
        try:
            if item.path.is_dir() and not item.path.is_symlink():
                shutil.rmtree(item.path)
            else:
                item.path.unlink(missing_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot delete {item.path}: {exc.strerror}: check its "
                              "permissions") from exc
        freed += item.size
    return freed
