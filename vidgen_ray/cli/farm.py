"""vidgen farm status | release: the workers of a running farm, and freeing their GPUs."""

from __future__ import annotations

import json
import sys

import typer
from rich.console import Console
from rich.table import Table

from vidgen_ray.config import load_settings
from vidgen_ray.errors import InputError, VidgenError

app = typer.Typer(help="The running farm's workers: where they run, their GPU share and "
                  "memory; free their models.", no_args_is_help=True)
console = Console(stderr=True)
ADDRESS_HELP = "The farm's Ray cluster, e.g. ray://head:10001 (default: $RAY_ADDRESS)"


def _fail(exc: VidgenError) -> None:
    console.print(f"[bold red]error:[/] {exc.message}", highlight=False)
    raise typer.Exit(2 if isinstance(exc, InputError) else 1)


def _call(address: str | None, method: str) -> list[dict]:
    from vidgen_ray.farm.connect import ask_running_farm  # imports ray: only here

    return ask_running_farm(load_settings(ray_address=address).ray_address, method)


def _gb(value) -> str:
    return "-" if value is None else f"{value / 1e9:.2f}"


def _print(rows: list[dict], as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    table = Table(show_header=True, header_style="bold")
    for column in ("pool", "#", "node", "GPUs", "GPU share", "loaded", "calls", "in flight",
                   "RSS GB", "GPU alloc GB", "GPU reserved GB"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["pool"], str(row["index"]), str(row.get("node_ip") or "-"),
                      ",".join(row.get("gpu_ids") or []) or "-", f"{row['gpu_share']:g}",
                      "yes" if row.get("loaded") else "no", str(row.get("calls", "-")),
                      str(row.get("in_flight", 0)), _gb(row.get("rss_bytes")),
                      _gb(row.get("gpu_allocated_bytes")), _gb(row.get("gpu_reserved_bytes")))
    Console().print(table)
    if not rows:
        console.print("no workers yet: pools start with the first job of their backend")


@app.command()
def status(address: str | None = typer.Option(None, help=ADDRESS_HELP, show_default=False),
           as_json: bool = typer.Option(False, "--json", help="Print the rows as JSON.")
           ) -> None:
    """One row per worker: pool, node, GPU ids and share, model loaded, calls, memory."""
    try:
        _print(_call(address, "workers"), as_json)
    except VidgenError as exc:
        _fail(exc)


@app.command()
def release(address: str | None = typer.Option(None, help=ADDRESS_HELP, show_default=False),
            as_json: bool = typer.Option(False, "--json", help="Print the rows as JSON.")
            ) -> None:
    """Every worker drops its model and frees its GPU memory; each loads it again on its
    next request (the first picture or line after this waits for the load)."""
    try:
        rows = _call(address, "release")
    except VidgenError as exc:
        _fail(exc)
    _print(rows, as_json)
    console.print(f"released {len(rows)} worker(s)", highlight=False)
