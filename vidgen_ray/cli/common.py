"""What the commands share: the error line, the progress bars and the render summary."""

from __future__ import annotations

import json
import sys

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from vidgen_ray.cli import qc as cli_qc
from vidgen_ray.errors import InputError, VidgenError

console = Console(stderr=True)

SCRIPT_HELP = ("A script: prose (.txt), Markdown (.md), a Fountain screenplay (.fountain), "
               "or a storyboard.json from 'vidgen analyze' (rendered exactly as written).")


def fail(exc: VidgenError) -> None:
    # escape: a message's brackets are text (pip install 'vidgen-ray[models]'), not markup
    console.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False)
    raise typer.Exit(2 if isinstance(exc, InputError) else 1)


class progress:  # noqa: N801 (used as a function: with progress() as bars)
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


def render_notes(out_dir) -> list[str]:
    """The notes of the manifest a render wrote (what it did otherwise than asked)."""
    path = out_dir / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8")).get("notes", []) if path.is_file() else []


def print_summary(result) -> None:
    table = Table(title="stages", show_header=True, header_style="bold")
    table.add_column("stage")
    table.add_column("seconds", justify="right")
    for stage, seconds in result.timings.items():
        table.add_row(stage, f"{seconds:.2f}")
    table.add_row("[bold]total", f"[bold]{sum(result.timings.values()):.2f}")
    console.print(table)
    console.print(f"[green]video:[/] {result.video}  ({result.duration:.1f} s, "
                  f"{len(result.storyboard.scenes)} scenes)", highlight=False)
    first = getattr(result, "first_preview", None)  # none: no chunk was made (all stored)
    if first is not None:
        console.print(f"[green]live preview:[/] {result.out_dir / 'preview.m3u8'}  (first "
                      f"segment {first:.1f} s after the job started)", highlight=False)
    for note in render_notes(result.out_dir):
        console.print(f"[yellow]note:[/] {escape(note)}", highlight=False)
    cli_qc.print_render_report(result.out_dir)
    sys.stdout.write(f"{result.video}\n")
