"""vidgen models status | download | verify | clear | updates: the Hugging Face cache of the
models the settings refer to (SDXL and its helpers, Bark and its voices, Kokoro; LTX-Video,
LTX-2 and Stable Audio Open when a setting asks for them), and any of those three by name."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from vidgen_ray.config import hf_endpoint, hf_hub_cache, load_settings
from vidgen_ray.errors import InputError, VidgenError

app = typer.Typer(help="The model cache: what is there, getting it, checking it, clearing "
                  "it ($HF_HOME; downloads from $HF_ENDPOINT).", no_args_is_help=True)
console = Console(stderr=True)
NAME_HELP = ("sdxl (SDXL with its refiner, IP-Adapter, upscaler, safety checker and fast-path "
             "LoRA when set), "
             "bark (Bark and its voice presets), kokoro (Kokoro and its voices), ltx "
             "(LTX-Video, for --video-model ltx), ltx2 (LTX-2, for --shots talking), "
             "stable-audio (Stable Audio Open, for --music-model or --ambience-model "
             "stable_audio; gated: set HF_TOKEN), all (what the settings use: each of the "
             "last three only when its setting asks for it), or one model's name from "
             "'status'")


def _fail(exc: VidgenError) -> None:
    console.print(f"[bold red]error:[/] {exc.message}", highlight=False)
    raise typer.Exit(2 if isinstance(exc, InputError) else 1)


def _specs(name: str, **overrides):
    from vidgen_ray.models.registry import models_named

    return models_named(load_settings(**overrides), name)


def _cache() -> Path:
    return Path(hf_hub_cache())


@app.command()
def status(name: str = typer.Argument("all", help=NAME_HELP),
           as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Each model the settings refer to (or NAME's): in the cache or not, revision, size on
    disk, complete or partial (and what is missing: a file, a shard, a voice)."""
    from vidgen_ray.models.status import human_bytes, model_status

    try:
        rows = [model_status(_cache(), spec) for spec in _specs(name)]
    except VidgenError as exc:
        _fail(exc)
    if as_json:
        sys.stdout.write(json.dumps([r.to_dict() for r in rows], indent=2) + "\n")
        return
    table = Table(title=f"models in {_cache()}", title_justify="left")
    for column in ("name", "repository", "state", "revision", "files", "size", "missing"):
        table.add_column(column)
    for row in rows:
        state = row.state + (" (downloading)" if row.downloading else "")
        table.add_row(row.name, row.repo_id, state, (row.revision or "-")[:12], str(row.files),
                      human_bytes(row.size_bytes), ", ".join(row.missing[:3]))
    Console(width=160).print(table)


@app.command()
def download(
    name: str = typer.Argument("all", help=NAME_HELP),
    cluster: bool = typer.Option(False, "--cluster", help="Download on every node of the "
                                 "Ray cluster at --address (once per node)."),
    address: str | None = typer.Option(None, help="Ray cluster for --cluster (default: "
                                       "$RAY_ADDRESS)", show_default=False),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bars."),
    full_precision: bool = typer.Option(False, "--full-precision", help="fp32 weights "
                                        "instead of the fp16 variants (CPU boxes)"),
    cache_dir: str | None = typer.Option(None, help="With --cluster: the hub cache folder "
                                         "on the nodes (default: each node's own HF_HOME)",
                                         show_default=False),
) -> None:
    """Download the files the pipelines load (SDXL's fp16 variants where they exist; LTX-Video,
    LTX-2 and Stable Audio Open as published, every shard, not their root checkpoints) through
    huggingface_hub into $HF_HOME, from $HF_ENDPOINT when set (a mirror)."""
    try:
        specs = _specs(name, half_precision=False if full_precision else None)
        if cluster:
            _download_cluster(specs, address, cache_dir)
            return
        from vidgen_ray.models.hub import download as fetch

        for spec in specs:
            console.print(f"[bold]{spec.name}[/] {spec.repo_id}", highlight=False)
            files = fetch(spec, _cache(), hf_endpoint(), progress)
            console.print(f"  {len(files)} files in {_cache()}", highlight=False)
    except VidgenError as exc:
        _fail(exc)


def _download_cluster(specs, address: str | None, cache_dir: str | None) -> None:
    from vidgen_ray.farm.actors.model_download import download_on_every_node
    from vidgen_ray.farm.connect import connect

    address = load_settings(ray_address=address).ray_address
    if not address:
        raise InputError("--cluster needs the cluster: --address ray://head:10001 (or "
                         "RAY_ADDRESS)")
    connect(address)
    reports = download_on_every_node(specs, hf_endpoint(), cache_dir)
    sys.stdout.write(json.dumps(reports, indent=2) + "\n")
    failed = [r for r in reports if any(v.startswith("failed") for v in r["models"].values())]
    if failed:
        raise VidgenError(f"{len(failed)} of {len(reports)} nodes could not download: see "
                          "the report above")


@app.command()
def verify(name: str = typer.Argument(..., help=NAME_HELP),
           online: bool = typer.Option(False, "--online", help="Also compare with the hashes "
                                       "the hub records for the cached revision.")) -> None:
    """Check every cached file of NAME against its recorded hash (offline: the blob names
    are the hashes) and every .safetensors header; lists each damaged file."""
    from vidgen_ray.models.hf_cache import read_repo
    from vidgen_ray.models.hub import published
    from vidgen_ray.models.registry import select_files
    from vidgen_ray.models.verify import verify_repo

    try:
        damaged = 0
        for spec in _specs(name):
            repo = read_repo(_cache(), spec.repo_id)
            if repo is None or repo.revision is None:
                console.print(f"{spec.name}: not in the cache", highlight=False)
                continue
            files = select_files(spec, repo.paths) + [f.path for f in repo.files
                                                      if f.blob is None]
            recorded = (published(spec.repo_id, hf_endpoint(), repo.revision).files
                        if online else None)
            damage = verify_repo(repo, files, recorded)
            damaged += len(damage)
            verdict = "[green]ok[/]" if not damage else f"[red]{len(damage)} damaged[/]"
            console.print(f"{spec.name}: {len(files)} files {verdict}", highlight=False)
            for item in damage:
                sys.stdout.write(f"DAMAGED {spec.repo_id}/{item.path}: {item.problem}\n")
        if damaged:
            raise VidgenError(f"{damaged} damaged file(s): run 'vidgen models clear {name} "
                              f"--yes' then 'vidgen models download {name}'")
    except VidgenError as exc:
        _fail(exc)


@app.command()
def clear(name: str = typer.Argument("all", help=NAME_HELP),
          yes: bool = typer.Option(False, "--yes", help="Delete (default: show what would "
                                   "go and how much space it frees).")) -> None:
    """Delete NAME's repositories from the cache (models sharing a repository, such as Bark
    and its voices, go together)."""
    from vidgen_ray.models.hf_cache import plan_removals, remove
    from vidgen_ray.models.status import human_bytes

    try:
        total = 0
        for removal in plan_removals(_cache(), [spec.repo_id for spec in _specs(name)]):
            size = remove(removal) if yes else removal.size
            total += size
            sys.stdout.write(f"{'deleted' if yes else 'would delete'} {removal.folder} "
                             f"({human_bytes(size)})\n")
        console.print(f"{'freed' if yes else 'would free'} {human_bytes(total)}"
                      + ("" if yes else ": add --yes to delete"), highlight=False)
    except VidgenError as exc:
        _fail(exc)


@app.command()
def updates(name: str = typer.Argument("all", help=NAME_HELP)) -> None:
    """Whether the hub has published a newer revision than the cached one (offline: says
    it cannot tell)."""
    from vidgen_ray.models.hub import update_available

    try:
        settings = load_settings()
        for spec in _specs(name):
            verdict = update_available(spec, _cache(), hf_endpoint(), settings.offline)
            sys.stdout.write(f"{spec.name} ({spec.repo_id}): {verdict}\n")
    except VidgenError as exc:
        _fail(exc)
