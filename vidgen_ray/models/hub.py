"""Talking to the hub (or the mirror HF_ENDPOINT names) through huggingface_hub: list a
revision's files and their recorded hashes, download what a model needs, tell whether a
newer revision is published. Every network failure becomes a DependencyError saying so."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from vidgen_ray.errors import DependencyError
from vidgen_ray.models.hf_cache import read_repo
from vidgen_ray.models.registry import ModelSpec, select_files
from vidgen_ray.models.space import check_space, free_bytes


@dataclass(frozen=True)
class Revision:
    commit: str
    files: dict[str, str]  # path -> recorded hash (LFS sha256, else git blob sha1)
    sizes: dict[str, int] = field(default_factory=dict)  # path -> bytes, where the hub says


def _api(endpoint: str):
    try:
        from huggingface_hub import HfApi
    except ImportError:
        raise DependencyError("model downloads need huggingface_hub: pip install "
                              "'vidgen-ray[models]'") from None
    return HfApi(endpoint=endpoint)


def _hub_error(exc: Exception, repo_id: str, endpoint: str) -> DependencyError:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return DependencyError(f"cannot reach {repo_id!r} at {endpoint} ({first}): check the "
                           "network, the model id, HF_ENDPOINT for a mirror and HF_TOKEN for "
                           "gated models")


def published(repo_id: str, endpoint: str, revision: str = "main") -> Revision:
    """The commit ``revision`` points to on the hub, with every file's recorded hash."""
    try:
        info = _api(endpoint).model_info(repo_id, revision=revision, files_metadata=True)
    except DependencyError:
        raise
    except Exception as exc:  # httpx, hub and offline errors alike: the hub is not reachable
        raise _hub_error(exc, repo_id, endpoint) from None
    siblings = info.siblings or []
    files = {s.rfilename: (s.lfs.sha256 if s.lfs else s.blob_id) for s in siblings}
    sizes = {s.rfilename: s.lfs.size if s.lfs else s.size for s in siblings
             if (s.lfs.size if s.lfs else s.size) is not None}
    return Revision(info.sha, files, sizes)


def bytes_to_fetch(repo_id: str, revision: Revision, wanted: list[str], cache: Path) -> int:
    """What downloading ``wanted`` adds to ``cache``: the listed size of each file whose
    blob (named by its hash) is not there yet."""
    blobs = Path(cache) / ("models--" + repo_id.replace("/", "--")) / "blobs"
    return sum(revision.sizes.get(path, 0) for path in wanted
               if not (blobs / revision.files.get(path, "?")).is_file())


def download(spec: ModelSpec, cache: Path, endpoint: str, progress: bool = True) -> list[str]:
    """Fetch the files ``spec`` needs at the published revision into ``cache``; files
    already there are kept. Returns the files it wanted."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.utils import disable_progress_bars, enable_progress_bars

    revision = published(spec.repo_id, endpoint)
    wanted = select_files(spec, list(revision.files))
    if not wanted:
        raise DependencyError(f"{spec.repo_id!r} at {endpoint} holds none of the files "
                              f"{spec.name} needs: is it the right model id?")
    check_space(spec.name, bytes_to_fetch(spec.repo_id, revision, wanted, cache),
                free_bytes(cache), cache)  # before a byte is fetched
    (disable_progress_bars if not progress else enable_progress_bars)()
    try:
        snapshot_download(spec.repo_id, revision=revision.commit, cache_dir=str(cache),
                          allow_patterns=wanted, endpoint=endpoint)
    except Exception as exc:
        raise _hub_error(exc, spec.repo_id, endpoint) from None
    finally:
        enable_progress_bars()
    # snapshot_download was given the commit: name it main, as a download by branch would.
    refs = Path(cache) / ("models--" + spec.repo_id.replace("/", "--")) / "refs"
    refs.mkdir(parents=True, exist_ok=True)
    (refs / "main").write_text(revision.commit)
    return wanted


def update_available(spec: ModelSpec, cache: Path, endpoint: str, offline: bool) -> str:
    """A sentence: whether the hub has a newer revision than the cached one."""
    cached = read_repo(cache, spec.repo_id)
    have = cached.revision if cached else None
    if offline:
        return "cannot tell offline (VIDGEN_OFFLINE / HF_HUB_OFFLINE is set)"
    try:
        latest = published(spec.repo_id, endpoint).commit
    except DependencyError as exc:
        return f"cannot tell: {exc.message}"
    if have is None:
        return f"not downloaded; the hub has {latest[:12]}"
    if have == latest:
        return f"up to date ({latest[:12]})"
    return f"newer revision {latest[:12]} published (cached {have[:12]}): vidgen models download"
