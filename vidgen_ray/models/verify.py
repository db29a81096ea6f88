"""Is every cached file intact? Offline: each blob against the hash it is named by (sha256
for LFS files, git blob sha1 for the others), and every ``.safetensors`` file's header (its
length, its JSON, every tensor's byte range inside the file). Online, the blob names can
also be compared with the hashes the hub records for the revision (``recorded``)."""

from __future__ import annotations

import hashlib
import json
import re
import struct
from dataclasses import dataclass
from pathlib import Path

from vidgen_ray.models.hf_cache import CachedRepo

_SHA256, _SHA1 = re.compile(r"[0-9a-f]{64}"), re.compile(r"[0-9a-f]{40}")
_CHUNK = 8 * 1024 * 1024
MAX_HEADER = 100 * 1024 * 1024  # safetensors' own limit on the JSON header


@dataclass(frozen=True)
class Damage:
    path: str  # inside the repository
    problem: str


def content_hash(blob: Path) -> tuple[str, str] | None:
    """(kind, hex digest) of ``blob`` by the kind its name says; None when its name is no
    hash (a copy outside the blob store: nothing to compare with)."""
    if _SHA256.fullmatch(blob.name):
        digest = hashlib.sha256()
    elif _SHA1.fullmatch(blob.name):
        digest = hashlib.sha1(b"blob %d\0" % blob.stat().st_size)  # git's blob id
    else:
        return None
    with open(blob, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return ("sha256" if digest.name == "sha256" else "git-sha1"), digest.hexdigest()


def safetensors_problem(path: Path) -> str | None:
    """What is wrong with a safetensors file's layout, or None (reads only the header)."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            return f"safetensors file of {size} bytes has no header"
        (length,) = struct.unpack("<Q", head)
        if length > min(MAX_HEADER, size - 8):
            return (f"safetensors header says {length} bytes but the file holds {size - 8} "
                    "after the length (truncated?)")
        try:
            header = json.loads(handle.read(length))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return f"safetensors header is not JSON ({exc})"
    if not isinstance(header, dict):
        return "safetensors header is not a JSON object"
    data = size - 8 - length
    end = 0
    for name, info in header.items():
        if name == "__metadata__":
            continue
        offsets = info.get("data_offsets") if isinstance(info, dict) else None
        if (not isinstance(offsets, list) or len(offsets) != 2
                or not 0 <= offsets[0] <= offsets[1] <= data):
            return (f"tensor {name!r} lies outside the file's {data} data bytes "
                    f"({offsets}): truncated or damaged")
        end = max(end, offsets[1])
    if end != data:
        return f"the tensors end at byte {end} of {data} data bytes: the file has extra bytes"
    return None


def verify_repo(repo: CachedRepo, paths: list[str] | None = None,
                recorded: dict[str, str] | None = None) -> list[Damage]:
    """Every damaged file among ``paths`` (default: all) of a cached revision. ``recorded``:
    path -> the hash the hub records (sha256 for LFS files, git sha1 for others)."""
    damage = []
    for cached in repo.files:
        if paths is not None and cached.path not in paths:
            continue
        if cached.blob is None:
            damage.append(Damage(cached.path, "its blob is missing (a dangling link)"))
            continue
        problem = _file_problem(cached.blob, cached.path, (recorded or {}).get(cached.path))
        if problem:
            damage.append(Damage(cached.path, problem))
    return damage


def _file_problem(blob: Path, path: str, recorded: str | None) -> str | None:
    if recorded and blob.name != recorded:
        return (f"the cache holds blob {blob.name[:12]}..., the hub records "
                f"{recorded[:12]}... for this revision")
    found = content_hash(blob)
    if found is not None and found[1] != blob.name:
        kind, digest = found
        return f"content {kind} is {digest[:12]}..., expected {blob.name[:12]}... (damaged)"
    if path.endswith(".safetensors"):
        return safetensors_problem(blob)
    return None
