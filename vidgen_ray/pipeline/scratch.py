"""Scratch folders: one temp root per job, ``<tempdir>/vidgen-job-<job id>/``.

Every FFmpeg task of a job (chunk encodes, the soundtrack mix, the final mux) works in its
own folder under that root and removes it when it ends, however it ends, where it still
can. A task whose process is killed cannot, so the root is also removed as a whole: by the
farm when the job ends (on the farm's node), and by ``vidgen cleanup --temp`` on any node
(it finds ``vidgen-job-*`` roots, and the ``vidgen-mix-*``/``vidgen-chunk-*`` folders of
older versions).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from vidgen_ray.errors import OutputError

ROOT_PREFIX = "vidgen-job-"
LEGACY_PREFIXES = ("vidgen-mix-", "vidgen-chunk-")  # per-task folders before job roots
_SAFE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def root_name(job_id: str) -> str:
    """``vidgen-job-<id>``; an id that is not a plain name is replaced by its digest, so a
    job id can never point the root (or its removal) anywhere else."""
    if not _SAFE.fullmatch(job_id):
        job_id = "h" + hashlib.sha256(job_id.encode("utf-8", "replace")).hexdigest()[:16]
    return ROOT_PREFIX + job_id


def job_of(folder_name: str) -> str | None:
    """The job id a root's folder name stands for (None for other folders)."""
    if not folder_name.startswith(ROOT_PREFIX):
        return None
    return folder_name[len(ROOT_PREFIX):] or None


def job_root(job_id: str, temp_dir: Path | None = None) -> Path:
    return Path(temp_dir or tempfile.gettempdir()) / root_name(job_id)


def _own_root(job_id: str) -> Path:
    """The job's root, made private to this user. In a shared /tmp its name can be guessed:
    one made by someone else, or a link, is refused rather than written into."""
    root = job_root(job_id)
    try:
        root.mkdir(mode=0o700, exist_ok=True)
        info = root.lstat()
    except FileNotFoundError:
        raise  # another task of the job removed the root just now: task_folder tries again
    except OSError as exc:
        raise OutputError(f"cannot make the job's scratch folder in the temp folder: "
                          f"{exc.strerror}: free space there or point TMPDIR elsewhere") from exc
    # No path in these messages: they may reach an API client (issue 15, point 8).
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise OutputError(f"the job's scratch folder {root.name} in the temp folder is not "
                          "this user's own folder: remove it, or point TMPDIR elsewhere")
    return root


@contextmanager
def task_folder(job_id: str, kind: str) -> Iterator[Path]:
    """A fresh folder for one task of the job (``kind``: chunk, mix, mux), removed when the
    task ends: returned, failed, or cancelled (Ray raises KeyboardInterrupt in it). The last
    task out removes the root too, so a task that outlives its job leaves nothing behind."""
    path = None
    for _ in range(5):  # another task of the job may remove the root between two steps
        try:
            path = Path(tempfile.mkdtemp(prefix=f"{kind}-", dir=_own_root(job_id)))
            break
        except FileNotFoundError:
            continue
    if path is None:
        raise OutputError("cannot make a scratch folder for the job: its root in the temp "
                          "folder keeps disappearing; check what cleans that folder")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        with contextlib.suppress(OSError):  # not empty: other tasks of the job still work
            path.parent.rmdir()


def remove_job_root(job_id: str) -> None:
    """Remove the job's root on this node with whatever killed tasks left in it."""
    root = job_root(job_id)
    if root.is_dir() and not root.is_symlink():
        shutil.rmtree(root, ignore_errors=True)


def leftovers(temp_dir: Path) -> list[Path]:
    """Job roots and legacy task folders in ``temp_dir``."""
    if not temp_dir.is_dir():
        return []
    prefixes = (ROOT_PREFIX, *LEGACY_PREFIXES)
    return sorted(p for p in temp_dir.iterdir()
                  if p.name.startswith(prefixes) and p.is_dir() and not p.is_symlink())
