"""What the cache holds of each model the settings refer to (pure apart from reading the
cache): present or not, revision, size on disk, complete or partial and what is missing."""

from __future__ import annotations

import json
import posixpath
from dataclasses import asdict, dataclass, field
from pathlib import Path

from vidgen_ray.models.hf_cache import CachedRepo, read_repo
from vidgen_ray.models.registry import ModelSpec, missing_files, select_files


@dataclass
class ModelStatus:
    name: str
    repo_id: str
    role: str
    state: str  # absent, partial, complete
    revision: str | None = None
    files: int = 0
    size_bytes: int = 0
    missing: list[str] = field(default_factory=list)
    downloading: int = 0  # *.incomplete blobs: a download in progress or interrupted

    def to_dict(self) -> dict:
        return asdict(self)


def model_status(cache: Path, spec: ModelSpec) -> ModelStatus:
    repo = read_repo(cache, spec.repo_id)
    status = ModelStatus(spec.name, spec.repo_id, spec.role, "absent")
    if repo is None or repo.revision is None:
        return status
    chosen = set(select_files(spec, repo.paths))
    mine = [f for f in repo.files if f.path in chosen]
    status.revision, status.files = repo.revision, len(mine)
    status.size_bytes = sum(f.size for f in mine)
    status.downloading = len(repo.incomplete)
    status.missing = (missing_files(spec, repo.paths) + _missing_voices(spec, repo)
                      + _missing_shards(repo, chosen))
    status.missing += [f.path for f in repo.files if f.blob is None]  # dangling links
    if not mine:
        status.state = "absent"
    else:
        status.state = "partial" if status.missing else "complete"
    return status


def _missing_voices(spec: ModelSpec, repo: CachedRepo) -> list[str]:
    """Voice presets: every file ``speaker_embeddings_path.json`` lists must be here."""
    index = next((f for f in repo.files if f.path == "speaker_embeddings_path.json"
                  and f.blob is not None), None)
    if "speaker_embeddings_path.json" not in spec.required or index is None:
        return []
    try:
        listing = json.loads(index.blob.read_text())
    except (OSError, ValueError):
        return ["speaker_embeddings_path.json (unreadable)"]
    have = set(repo.paths)
    wanted = {path for name, entry in listing.items() if name.startswith("v2/")
              and isinstance(entry, dict) for path in entry.values() if isinstance(path, str)}
    return sorted(wanted - have)


def _missing_shards(repo: CachedRepo, chosen: set[str]) -> list[str]:
    """Sharded weights (LTX-Video's T5, large transformers): every shard the index of the
    chosen weights lists must be here, not only the first one downloaded."""
    missing: list[str] = []
    for index in repo.files:
        if index.path not in chosen or not index.path.endswith(".index.json") \
                or index.blob is None:
            continue
        folder = posixpath.dirname(index.path)
        try:
            weight_map = json.loads(index.blob.read_text()).get("weight_map", {})
            shards = {posixpath.join(folder, name) for name in weight_map.values()}
        except (OSError, ValueError, AttributeError, TypeError):
            missing.append(f"{index.path} (unreadable)")
            continue
        if shards & chosen:  # the index of the weights chosen (not another format's)
            missing += sorted(shards - chosen)
    return missing


def human_bytes(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"
