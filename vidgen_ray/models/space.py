"""Is there room for a model? Checked before a download starts, not when the disk fills."""

from __future__ import annotations

import shutil
from pathlib import Path

from vidgen_ray.errors import DependencyError
from vidgen_ray.models.status import human_bytes


def free_bytes(folder: Path) -> int:
    """Free space where ``folder`` is, or would be made (its nearest existing parent)."""
    folder = Path(folder).expanduser().absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return shutil.disk_usage(folder).free


def check_space(name: str, needed: int, free: int, where: Path) -> None:
    """DependencyError when ``needed`` bytes do not fit in ``free``, saying how much is
    missing and what to do."""
    if needed <= free:
        return
    raise DependencyError(
        f"{name} needs {human_bytes(needed)} in {where}, which has {human_bytes(free)} free: "
        f"{human_bytes(needed - free)} missing. Free that much, or point HF_HOME at a larger "
        "disk (with --cluster: --cache-dir)")
