"""vidgen qc: the delivery QC report for any video file (and the summary after a render)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from vidgen_ray.errors import InputError, VidgenError

console = Console(stderr=True)


def qc(
    video: Path = typer.Argument(..., help="The video file to check", show_default=False),
    subtitles: Path | None = typer.Option(
        None, "--subtitles", help="An .srt file to check against the timed-text rules and "
        "for silence while a cue is shown", show_default=False),
    target: str = typer.Option("podcast", help="Loudness target: web (-14), podcast (-16), "
                               "broadcast (-23) or a number of LUFS"),
    max_cps: float = typer.Option(17.0, "--max-cps", help="Subtitle reading speed limit, "
                                  "characters a second (13 for children's content)"),
    strict: bool = typer.Option(False, "--strict", help="Exit 1 when there is a violation"),
    out: Path | None = typer.Option(None, "-o", "--out", help="Write the report (JSON) here",
                                    show_default=False),
) -> None:
    """Measure VIDEO: loudness and true peak against the target, black and frozen stretches,
    silence inside speech, stream durations, codec and colour tags, subtitle rules."""
    from vidgen_ray.pipeline.qc import measure

    try:
        report = measure.run_qc(video, subtitles=subtitles, target=target, max_cps=max_cps)
    except VidgenError as exc:
        console.print(f"[bold red]error:[/] {exc.message}", highlight=False)
        raise typer.Exit(2 if isinstance(exc, InputError) else 1) from None
    if out is not None:
        measure.write_report(report, out)
    print_report(report)
    if strict and not report["passed"]:
        raise typer.Exit(1)


def print_report(report: dict) -> None:
    from vidgen_ray.pipeline.qc.report import summary

    colour = "green" if report["passed"] else "yellow"
    first, *rest = summary(report)
    console.print(f"[{colour}]{first}[/]", highlight=False)
    for line in rest:
        console.print(line, highlight=False, markup=False)


def print_render_report(out_dir: Path) -> None:
    """The summary of the qc.json a render wrote, if it wrote one."""
    path = out_dir / "qc.json"
    if path.is_file():
        print_report(json.loads(path.read_text(encoding="utf-8")))
