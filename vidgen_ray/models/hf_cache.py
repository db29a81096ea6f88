"""Reading (and clearing) the Hugging Face hub cache, the layout ``huggingface_hub`` writes:

    <cache>/models--<org>--<name>/
        blobs/<sha256 or git sha1>        file contents, named by the hash the hub recorded
                                          (or a link into the cache's shared blob store,
                                          <cache>/blobs/, for files fetched through Xet)
        blobs/<hash>.incomplete           a download in progress (or interrupted)
        refs/main                         the commit the branch pointed at when downloaded
        snapshots/<commit>/<path>         symlinks into blobs/ (copies where no symlinks)

A regular file's blob is named by its git blob sha1, an LFS file's (weights) by the sha256
of its content, so the names alone let ``verify`` check every file offline.

Clearing goes through huggingface_hub (``scan_cache_dir`` and ``delete_revisions``): it knows
the shared blob store (a payload goes when no other repository links it). Reading one
revision does not: the scan leaves out a repository with a dangling link or without
snapshots, and ``.incomplete`` blobs, which are what ``status`` and ``verify`` must report.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from vidgen_ray.errors import OutputError

if TYPE_CHECKING:
    from huggingface_hub import DeleteCacheStrategy


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
    repo = CachedRepo(repo_id, folder, commit, incomplete=_incomplete(folder))
    snapshot = folder / "snapshots" / commit if commit else None
    if snapshot is None or not snapshot.is_dir():
        return repo
    for entry in sorted(snapshot.rglob("*")):
        if entry.is_dir():
            continue
        # The first hop only, as the hub's own scan: the repository's blob, named by its hash,
        # even where that links on into the shared store (named by another hash).
        blob = Path(os.path.abspath(entry.parent / os.readlink(entry))) \
            if entry.is_symlink() else entry  # a copy (no symlinks): its own blob
        exists = blob.is_file()
        repo.files.append(CachedFile(entry.relative_to(snapshot).as_posix(),
                                     blob if exists else None,
                                     blob.stat().st_size if exists else 0))
    return repo


def _incomplete(folder: Path) -> list[Path]:
    blobs = folder / "blobs"
    return sorted(blobs.glob("*.incomplete")) if blobs.is_dir() else []


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


@dataclass(frozen=True)
class RepoRemoval:
    """Deleting one repository from the cache: ``size`` is the bytes it frees."""

    folder: Path
    size: int
    strategy: DeleteCacheStrategy | None  # None: a repository the hub's scan leaves out


def plan_removals(cache: Path, repo_ids: list[str]) -> list[RepoRemoval]:
    """What deleting ``repo_ids`` (those the cache holds) would free; nothing is deleted."""
    folders = sorted({repo_folder(cache, repo_id) for repo_id in repo_ids})
    folders = [folder for folder in folders if folder.exists()]
    if not folders:
        return []
    try:
        from huggingface_hub import scan_cache_dir
    except ImportError:  # a base install: the folders as they are
        return [RepoRemoval(folder, folder_bytes(folder), None) for folder in folders]
    scanned = scan_cache_dir(cache)
    repos = {repo.repo_path: repo for repo in scanned.repos}  # resolved paths
    removals = []
    for folder in folders:
        repo = repos.get(folder.resolve())
        if repo is None or not repo.revisions:  # damaged past the scan (a dangling link, no
            # snapshots) or no revision: all of the folder
            removals.append(RepoRemoval(folder, folder_bytes(folder), None))
            continue
        # Revisions are named by commit alone, and a duplicated repository shares its
        # commits: ask of a cache that holds only this repository.
        alone = replace(scanned, repos=frozenset({repo}))
        strategy = alone.delete_revisions(*(r.commit_hash for r in repo.revisions))
        unscanned = sum(blob.stat().st_size for blob in _incomplete(folder))
        removals.append(RepoRemoval(folder, strategy.expected_freed_size + unscanned, strategy))
    return removals


def remove(removal: RepoRemoval) -> int:
    """Delete one planned repository; returns the bytes freed."""
    if removal.strategy is not None:
        removal.strategy.execute()  # with every revision, the whole folder
    try:  # what the hub left: a folder it could not delete (it only logs), or did not scan
        if removal.folder.exists():
            shutil.rmtree(removal.folder)
    except OSError as exc:
        raise OutputError(f"cannot delete {removal.folder}: {exc.strerror}: check its "
                          "permissions (the cache may belong to another user)") from exc
    return removal.size
