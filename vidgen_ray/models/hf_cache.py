"""Reading (and clearing) the Hugging Face hub cache, the layout ``huggingface_hub`` writes:

    <cache>/models--<org>--<name>/
        blobs/<sha256 or git sha1>        file contents, named by the hash the hub recorded
        blobs/<hash>.incomplete           a download in progress (or interrupted)
        refs/main                         the commit the branch pointed at when downloaded
        snapshots/<commit>/<path>         symlinks into blobs/ (copies where no symlinks)

A regular file's blob is named by its git blob sha1, an LFS file's (weights) by the sha256
of its content, so the names alone let ``verify`` check every file offline.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from vidgen_ray.errors import OutputError


def repo_folder(cache: Path, repo_id: str) -> Path:
    return Path(cache) / ("models--" + repo_id.replace("/", "--"))


@dataclass
class CachedFile:
    path: str  # inside the repository: unet/config.json
    blob: Path | None  # the blob the snapshot entry points to; None: a dangling link
    size: int  # bytes of the blob (0 when dangling)


@dataclass
class CachedRepo:
    repo_id: str
    folder: Path
    revision: str | None  # the commit refs/main names, else the newest snapshot
    files: list[CachedFile] = field(default_factory=list)
    incomplete: list[Path] = field(default_factory=list)  # *.incomplete blobs
    disk_bytes: int = 0  # every blob in the folder, counted once

    @property
    def paths(self) -> list[str]:
        return [f.path for f in self.files if f.blob is not None]


def read_repo(cache: Path, repo_id: str, revision: str = "main") -> CachedRepo | None:
    """What the cache holds of ``repo_id`` at ``revision`` (a branch or a commit), or None
    when it holds nothing of it."""
    folder = repo_folder(cache, repo_id)
    if not folder.is_dir():
        return None
    commit = _resolve(folder, revision)
    repo = CachedRepo(repo_id, folder, commit)
    blobs = folder / "blobs"
    if blobs.is_dir():
        for blob in blobs.iterdir():
            if blob.name.endswith(".incomplete"):
                repo.incomplete.append(blob)
            if blob.is_file():
                repo.disk_bytes += blob.stat().st_size
    snapshot = folder / "snapshots" / commit if commit else None
    if snapshot is None or not snapshot.is_dir():
        return repo
    for entry in sorted(snapshot.rglob("*")):
        if entry.is_dir():
            continue
        relative = entry.relative_to(snapshot).as_posix()
        if entry.is_symlink():
            target = Path(os.path.realpath(entry))
            exists = target.is_file()
            repo.files.append(CachedFile(relative, target if exists else None,
                                         target.stat().st_size if exists else 0))
        else:  # a copy (no symlinks on this file system): it is its own blob
            repo.files.append(CachedFile(relative, entry, entry.stat().st_size))
            repo.disk_bytes += entry.stat().st_size
    return repo


def _resolve(folder: Path, revision: str) -> str | None:
    ref = folder / "refs" / revision
    if ref.is_file():
        return ref.read_text().strip() or None
    if (folder / "snapshots" / revision).is_dir():
        return revision
    snapshots = folder / "snapshots"
    found = sorted(snapshots.iterdir(), key=lambda p: p.stat().st_mtime) if snapshots.is_dir() \
        else []
    return found[-1].name if found else None


def folder_bytes(folder: Path) -> int:
    """Bytes of the regular files under ``folder`` (links not followed)."""
    return sum(p.stat().st_size for p in Path(folder).rglob("*")
               if p.is_file() and not p.is_symlink())


def remove_repo(cache: Path, repo_id: str) -> int:
    """Delete everything the cache holds of ``repo_id``; returns the bytes freed."""
    folder = repo_folder(cache, repo_id)
    if not folder.exists():
        return 0
    freed = folder_bytes(folder)
    try:
        shutil.rmtree(folder)
    except OSError as exc:
        raise OutputError(f"cannot delete {folder}: {exc.strerror}: check its permissions "
                          "(the cache may belong to another user)") from exc
    return freed
