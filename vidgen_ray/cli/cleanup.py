"""vidgen cleanup: temp files, old artifacts, cached models. A dry run unless --yes."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import typer
from rich.console import Console

from vidgen_ray.config import ServiceSettings, hf_hub_cache, load_settings, user_data_dir
from vidgen_ray.errors import InputError, VidgenError

console = Console(stderr=True)
TEMP_AGE, ARTIFACT_AGE = "1d", "30d"


def _fail(exc: VidgenError) -> None:
    console.print(f"[bold red]error:[/] {exc.message}", highlight=False)
    raise typer.Exit(2 if isinstance(exc, InputError) else 1)


def default_homes() -> list[Path]:
    """The job service's folder (when it is a folder) and ./out/* render folders."""
    service = ServiceSettings()
    storage = service.storage
    if storage and storage.startswith("s3://"):  # the local working folder holds the parts
        storage = service.workdir
    homes = [Path(storage or user_data_dir())]
    out = Path("out")
    homes += sorted(p for p in out.iterdir() if (p / "parts").is_dir()) if out.is_dir() else []
    return [h.expanduser() for h in homes if (h / "parts").is_dir() or (h / "outputs").is_dir()]


def cleanup(
    temp: bool = typer.Option(False, "--temp", help="Interrupted writes and FFmpeg scratch "
                              "folders (vidgen-job-* in this node's temp folder; older than "
                              f"--older-than, default {TEMP_AGE})"),
    artifacts: bool = typer.Option(False, "--artifacts", help="Parts and finished jobs' "
                                   f"outputs older than --older-than (default {ARTIFACT_AGE});"
                                   " never from a folder with a queued or running job"),
    models: bool = typer.Option(False, "--models", help="Every cached model the settings "
                                "refer to ('vidgen models status')"),
    model: str | None = typer.Option(None, "--model", help="One model or group (sdxl, bark, "
                                     "a name from 'vidgen models status')", show_default=False),
    older_than: str | None = typer.Option(None, help="Age, e.g. 7d, 12h, 2w",
                                          show_default=False),
    home: list[Path] | None = typer.Option(None, "--home", help="A render output folder or "
                                           "the service's storage folder; repeat for more "
                                           "(default: $VIDGEN_STORAGE, or $VIDGEN_WORKDIR "
                                           "with S3, and ./out/*)",
                                           show_default=False),
    yes: bool = typer.Option(False, "--yes", help="Delete (default: only show what would go "
                             "and the space it frees)."),
) -> None:
    """Free disk space: a dry run by default; --yes deletes."""
    from vidgen_ray.farm import cleanup as plan
    from vidgen_ray.models.status import human_bytes

    if not (temp or artifacts or models or model):
        _fail(InputError("say what to clean: --temp, --artifacts, --models or --model NAME"))
    try:
        homes = list(home) if home else default_homes()
        now = time.time()
        removals: list[plan.Removal] = []
        if temp:
            cutoff = now - plan.parse_age(older_than or TEMP_AGE)
            removals += plan.temp_removals(homes, Path(tempfile.gettempdir()), cutoff)
        if artifacts:
            cutoff = now - plan.parse_age(older_than or ARTIFACT_AGE)
            for folder in homes:
                found, live = plan.artifact_removals(folder, cutoff)
                removals += found
                if live:
                    console.print(f"kept all of {folder}: job(s) {', '.join(live)} queued or "
                                  "running", highlight=False)
        cached = _cached_models(None if models else model) if (models or model) else []
        removals += [plan.Removal(r.folder, r.size, "cached model") for r in cached]
        for item in removals:
            sys.stdout.write(f"{'delete' if yes else 'would delete'} {item.path} "
                             f"({human_bytes(item.size)}, {item.reason})\n")
        total = _delete(removals[:len(removals) - len(cached)], cached) if yes else \
            sum(r.size for r in removals)
    except VidgenError as exc:
        _fail(exc)
    console.print(f"{'freed' if yes else 'would free'} {human_bytes(total)} in "
                  f"{len(removals)} item(s)" + ("" if yes or not removals
                                                else ": add --yes to delete"), highlight=False)


def _cached_models(name: str | None):
    """The cache's repositories of the models ``name`` picks (all: None), to delete."""
    from vidgen_ray.models.hf_cache import plan_removals
    from vidgen_ray.models.registry import models_named

    specs = models_named(load_settings(), name or "all")
    return plan_removals(Path(hf_hub_cache()), [spec.repo_id for spec in specs])


def _delete(files, cached) -> int:
    """Delete files and folders, then cached models through huggingface_hub (it knows the
    blobs they share with other repositories); returns the bytes freed."""
    from vidgen_ray.farm.cleanup import remove as remove_files
    from vidgen_ray.models.hf_cache import remove as remove_model

    return remove_files(files) + sum(remove_model(removal) for removal in cached)
