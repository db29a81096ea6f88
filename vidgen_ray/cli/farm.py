"""vidgen farm start | stop | status | release: the farm this machine keeps warm between
renders, the workers of a running farm, and freeing their GPUs."""

from __future__ import annotations

import json
import sys

import typer
from rich.console import Console
from rich.table import Table

from vidgen_ray.cli.options import IMAGE_FLAGS, Flag, with_flags, with_image_options
from vidgen_ray.config import RenderSettings, fields_of, load_settings
from vidgen_ray.errors import InputError, VidgenError

app = typer.Typer(help="A farm kept warm on this machine (start, stop); a running farm's "
                  "workers: where they run, their GPU share and memory; free their models.",
                  no_args_is_help=True)
console = Console(stderr=True)
ADDRESS_HELP = ("The farm's Ray cluster, e.g. ray://head:10001 (default: $RAY_ADDRESS, else "
                "the farm `vidgen farm start` keeps on this machine)")
# What a started farm owns (config/scope.py: FARM), and the speech models' own options; the
# picture flags come with with_image_options.
START_FLAGS = {name: Flag(name) for name in (*fields_of(RenderSettings, "farm"), "bark_model",
                                             "bark_decoding", "kokoro_model")
               if name not in IMAGE_FLAGS}


def _fail(exc: VidgenError) -> None:
    console.print(f"[bold red]error:[/] {exc.message}", highlight=False)
    raise typer.Exit(2 if isinstance(exc, InputError) else 1)


def _call(address: str | None, method: str) -> list[dict]:
    from vidgen_ray.farm.connect import ask_running_farm  # imports ray: only here

    return ask_running_farm(load_settings(ray_address=address).ray_address, method)


@with_image_options
@with_flags(START_FLAGS, into="farm_flags")
def start(voice: str | None = typer.Option(
              None, help="The speech backend whose workers start now: espeak, kokoro or bark "
              "(default: VIDGEN_TTS_MODEL, else espeak); other backends start with their "
              "first job.", show_default=False),
          farm_flags: dict | None = None, image_settings: dict | None = None) -> None:
    """Start a farm on this machine and keep it (and its models) up: every `vidgen render`
    without --address then runs on it, models warm, until `vidgen farm stop`. Its Ray
    listens on loopback only. The pools of the given backends start now."""
    from vidgen_ray.farm import local_farm  # imports ray: only here
    from vidgen_ray.pipeline import preflight
    from vidgen_ray.speech import parse_voice_option

    try:
        backend = parse_voice_option(voice)[0] if voice else None
        settings = load_settings(tts_model=backend, **(farm_flags or {}),
                                 **(image_settings or {}))
        if settings.ray_address:
            raise InputError("a farm started here runs on this machine: unset RAY_ADDRESS "
                             "(a cluster's farm starts with the job service, docs/DEPLOY.md)")
        preflight.check_backends(settings, for_client=False)
        preflight.check_paths(settings)
        with console.status("starting the farm (Ray on loopback, then the models)"):
            farm, started = local_farm.start(settings)
    except VidgenError as exc:
        _fail(exc)
    if not started:
        console.print(f"a farm is already running at {farm.describe()}: renders use it; "
                      "`vidgen farm stop` stops it", highlight=False)
        return
    console.print(f"[green]farm started[/] at {farm.describe()}, pools: "
                  f"{', '.join(farm.pools)}; `vidgen render` uses it until `vidgen farm stop` "
                  f"(log: {farm.log})", highlight=False)


def stop() -> None:
    """Stop the farm `vidgen farm start` keeps on this machine: its running jobs are
    cancelled (their finished parts stay), its workers and its Ray stop."""
    from vidgen_ray.farm import local_farm  # imports ray: only here

    with console.status("stopping the farm"):
        farm = local_farm.stop()
    if farm is None:
        console.print("no farm is running on this machine", highlight=False)
        return
    console.print(f"farm stopped (was at {farm.describe()})", highlight=False)


app.command(name="start")(start)
app.command(name="stop")(stop)


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
