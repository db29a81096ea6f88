"""The command line: vidgen render | analyze | schema (also ``python -m vidgen_ray``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from vidgen_ray.config import Aspect, Resolution, SubtitlePosition, Transition, load_settings
from vidgen_ray.errors import InputError, VidgenError

app = typer.Typer(
    help="VidGen on Ray: turn a written script into a narrated, subtitled video.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
console = Console(stderr=True)

SCRIPT_HELP = ("A script: prose (.txt), Markdown (.md), a Fountain screenplay (.fountain), "
               "or a storyboard.json from 'vidgen analyze' (rendered exactly as written).")


def _fail(exc: VidgenError) -> None:
    console.print(f"[bold red]error:[/] {exc.message}", highlight=False)
    raise typer.Exit(2 if isinstance(exc, InputError) else 1)


def _version(value: bool) -> None:
    if value:
        from vidgen_ray import __version__

        typer.echo(f"vidgen-ray {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    """Options for every command (only --version, handled by its callback)."""


@app.command()
def render(
    script: Path = typer.Argument(..., help=SCRIPT_HELP, show_default=False),
    out: Path | None = typer.Option(None, "-o", "--out", help="Output folder"
                                    " (default: out/<script name>)", show_default=False),
    resolution: Resolution | None = typer.Option(None, help="720p, 1080p, 1440p or 2160p"
                                                 " (default: 720p)", show_default=False),
    aspect: Aspect | None = typer.Option(None, help="16:9, 9:16 or 1:1 (default: 16:9)",
                                         show_default=False),
    fps: int | None = typer.Option(None, help="Frames per second, 12-60 (default: 30)",
                                   show_default=False),
    voice: str | None = typer.Option(None, help="Narrator voice, e.g. en+m3 (espeak-ng). "
                                     "Characters get their own voices.", show_default=False),
    speed: float | None = typer.Option(None, help="Speaking rate, 0.5-2.0 (default: 1.0)",
                                       show_default=False),
    seed: int | None = typer.Option(None, help="Varies camera moves and sound (default: 0)",
                                    show_default=False),
    loudness: float | None = typer.Option(None, help="Target loudness in LUFS"
                                          " (default: -16)", show_default=False),
    address: str | None = typer.Option(None, help="Ray cluster to use, e.g. ray://head:10001"
                                       " (default: $RAY_ADDRESS, else a local Ray)",
                                       show_default=False),
    transition: Transition | None = typer.Option(
        None, help="Transition where the storyboard sets none (default: dissolve)",
        show_default=False),
    burn_subtitles: bool | None = typer.Option(
        None, "--burn-subtitles/--no-burn-subtitles", help="Draw the subtitles into the "
        "picture too (default: no; .srt/.vtt are always written)", show_default=False),
    subtitle_font: str | None = typer.Option(None, help="Burn-in font family"
                                             " (default: DejaVu Sans)", show_default=False),
    subtitle_fonts_dir: str | None = typer.Option(
        None, help="Folder holding the burn-in font (default: the DejaVu folder)",
        show_default=False),
    subtitle_size: int | None = typer.Option(None, help="Burn-in text height in pixels of a "
                                             "1080-line frame, 8-300 (default: 48)",
                                             show_default=False),
    subtitle_outline: float | None = typer.Option(
        None, help="Burn-in outline in pixels of a 1080-line frame, 0-20 (default: 3)",
        show_default=False),
    subtitle_position: SubtitlePosition | None = typer.Option(
        None, help="Burn-in at the bottom or top (default: bottom)", show_default=False),
    subtitle_box: bool | None = typer.Option(
        None, "--subtitle-box/--no-subtitle-box", help="Burn-in on a dark box (default: no)",
        show_default=False),
    rendition: list[str] | None = typer.Option(
        None, help="Another output WIDTHxHEIGHT, e.g. 1080x1920; repeat for more",
        show_default=False),
) -> None:
    """Render SCRIPT into a folder: video.mp4, subtitles.srt/.vtt, storyboard.json and
    manifest.json. Finished parts are kept in OUT/parts: running again resumes."""
    try:
        settings = load_settings(resolution=resolution, aspect=aspect, fps=fps,
                                 tts_voice=voice, tts_speed=speed, seed=seed,
                                 loudness=loudness, ray_address=address,
                                 transition=transition, burn_subtitles=burn_subtitles,
                                 subtitle_font=subtitle_font,
                                 subtitle_fonts_dir=subtitle_fonts_dir,
                                 subtitle_size=subtitle_size,
                                 subtitle_outline=subtitle_outline,
                                 subtitle_position=subtitle_position,
                                 subtitle_box=subtitle_box, renditions=rendition or None)
        from vidgen_ray.farm import render as run_render  # imports ray: only when rendering

        out_dir = out or Path("out") / script.stem
        with _progress() as bars:
            result = run_render(script, out_dir, settings, progress=bars)
    except VidgenError as exc:
        _fail(exc)
    _print_summary(result)


@app.command()
def analyze(
    script: Path = typer.Argument(..., help="A script: prose, Markdown or Fountain.",
                                  show_default=False),
    out: Path | None = typer.Option(None, "-o", "--out", help="Write the storyboard to this "
                                    "file instead of printing it.", show_default=False),
) -> None:
    """Print the storyboard of SCRIPT as JSON: edit it, then 'vidgen render storyboard.json'."""
    from vidgen_ray.source import load_storyboard

    try:
        storyboard = load_storyboard(script)
    except VidgenError as exc:
        _fail(exc)
    text = storyboard.model_dump_json(indent=2)
    if out:
        out.write_text(text + "\n", encoding="utf-8")
        console.print(f"storyboard written to {out}")
    else:
        sys.stdout.write(text + "\n")


@app.command()
def plan(
    script: Path = typer.Argument(..., help=SCRIPT_HELP, show_default=False),
    resolution: Resolution | None = typer.Option(None, help="720p, 1080p, 1440p or 2160p"),
    aspect: Aspect | None = typer.Option(None, help="16:9, 9:16 or 1:1"),
    address: str | None = typer.Option(None, help="Ray cluster to plan for (default: "
                                       "$RAY_ADDRESS, else this machine's resources)",
                                       show_default=False),
    as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON."),
) -> None:
    """Show, without rendering, the work SCRIPT makes (requests, calls, chunks), where it
    would run (workers per kind, GPU share each, FFmpeg nodes) and an estimate of its cost."""
    from vidgen_ray.plan import plan_render
    from vidgen_ray.source import load_storyboard

    try:
        settings = load_settings(resolution=resolution, aspect=aspect, ray_address=address)
        storyboard = load_storyboard(script)
        cluster = _cluster_resources(settings.ray_address)
        planned = plan_render(storyboard, settings, cluster)
    except VidgenError as exc:
        _fail(exc)
    if as_json:
        sys.stdout.write(json.dumps(planned.to_dict(), indent=2) + "\n")
        return
    out = Console()
    for section, rows in planned.rows().items():
        table = Table(title=section, title_justify="left")
        for column in rows[0] if rows else []:
            table.add_column(column)
        for row in rows:
            table.add_row(*row.values())
        out.print(table)


def _cluster_resources(address: str | None) -> dict[str, float]:
    """The cluster's resources; without an address, this machine's, without starting Ray."""
    if not address:
        import os
        import shutil
        import subprocess

        gpus = 0
        if shutil.which("nvidia-smi"):  # what Ray would detect, without starting it
            listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True)
            gpus = listing.stdout.count("GPU ")
        return {"CPU": float(os.cpu_count() or 1), "GPU": float(gpus)}
    import ray

    ray.init(address=address, logging_level="WARNING", log_to_driver=False)
    try:
        return ray.cluster_resources()
    finally:
        ray.shutdown()


@app.command()
def schema() -> None:
    """Print the JSON schema of a storyboard (for editors and for LLM structured output)."""
    from vidgen_ray.storyboard import Storyboard

    sys.stdout.write(json.dumps(Storyboard.model_json_schema(), indent=2) + "\n")


class _progress:
    """Rich progress bars, one per stage, fed by the farm's (stage, done, total) reports."""

    def __enter__(self):
        self.bars = Progress(TextColumn("{task.description:<8}"), BarColumn(),
                             MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                             transient=False)
        self.tasks: dict[str, int] = {}
        self.bars.__enter__()
        return self

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.bars.add_task(stage, total=total)
        self.bars.update(self.tasks[stage], completed=done, total=total)

    def __exit__(self, *exc) -> None:
        self.bars.__exit__(*exc)


def _print_summary(result) -> None:
    table = Table(title="stages", show_header=True, header_style="bold")
    table.add_column("stage")
    table.add_column("seconds", justify="right")
    for stage, seconds in result.timings.items():
        table.add_row(stage, f"{seconds:.2f}")
    table.add_row("[bold]total", f"[bold]{sum(result.timings.values()):.2f}")
    console.print(table)
    console.print(f"[green]video:[/] {result.video}  ({result.duration:.1f} s, "
                  f"{len(result.storyboard.scenes)} scenes)", highlight=False)
    sys.stdout.write(f"{result.video}\n")


def main() -> None:
    app()
