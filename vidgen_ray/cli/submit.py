"""vidgen submit | fetch: send a script to the job service, and download what it made."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from vidgen_ray.cli import jobs as cli_jobs
from vidgen_ray.cli.common import SCRIPT_HELP, console, fail, progress
from vidgen_ray.cli.options import SUBMIT_FLAGS, with_flags
from vidgen_ray.errors import InputError, VidgenError
from vidgen_ray.speech import parse_voice_option

SET_HELP = ("Any other per-job setting as NAME=VALUE (names as in `vidgen render --help` and "
            "VIDGEN_*, e.g. --set transition=cut --set stems=flac); a JSON value for lists: "
            "--set 'renditions=[\"1080x1920\"]'. Repeat for more.")


def parse_assignments(items: list[str]) -> dict[str, object]:
    """``--set NAME=VALUE`` pairs; a VALUE that reads as JSON (a number, true, a list) is
    sent as such, anything else as text. The service checks names and values (422)."""
    chosen: dict[str, object] = {}
    for item in items:
        name, equals, text = item.partition("=")
        if not equals or not name.strip():
            raise InputError(f"--set {item!r} is not NAME=VALUE: write e.g. --set stems=flac")
        try:
            chosen[name.strip()] = json.loads(text)
        except json.JSONDecodeError:
            chosen[name.strip()] = text
    return chosen


# No defaults in the help: a setting left out takes the service's (its VIDGEN_*).
@with_flags(SUBMIT_FLAGS, into="chosen", defaults=False)
def submit(
    script: Path = typer.Argument(..., help=SCRIPT_HELP, show_default=False),
    url: str | None = typer.Option(None, help=cli_jobs.URL_HELP, show_default=False),
    wait: bool = typer.Option(False, "--wait", help="Show progress until the job ends."),
    out: Path | None = typer.Option(None, "-o", "--out", help="With --wait: download the "
                                    "video to this file.", show_default=False),
    priority: int = typer.Option(0, help="Higher runs first, -100..100."),
    key: str | None = typer.Option(None, "--idempotency-key", help="Sending the same key "
                                   "again returns the same job.", show_default=False),
    voice: str | None = typer.Option(None, help="Speech backend and/or narrator voice, as for "
                                     "render: bark, espeak:en+m3, en+m3", show_default=False),
    setting: list[str] | None = typer.Option(None, "--set", help=SET_HELP,
                                             show_default=False),
    chosen: dict | None = None,
) -> None:
    """Send SCRIPT to the job service; prints the job (its id on stdout with --wait).
    Settings left out take the service's defaults."""
    try:
        backend, narrator = parse_voice_option(voice) if voice else (None, None)
        settings = {k: v for k, v in (("tts_model", backend), ("tts_voice", narrator))
                    if v is not None}
        settings.update(chosen or {})
        settings.update(parse_assignments(setting or []))
        client = cli_jobs.client(url)
        job = client.submit(script, settings, priority, key)
        if not wait:
            cli_jobs.print_json(job)
            return
        console.print(f"job {job['id']} queued", highlight=False)
        with progress() as bars:
            job = client.wait(job["id"], lambda j: [bars(stage, p["done"], p["total"])
                                                    for stage, p in j["progress"].items()])
        if job["status"] != "done":
            console.print(f"[bold red]job {job['id']} {job['status']}:[/] {job['error']}",
                          highlight=False)
            raise typer.Exit(1)
        if out:
            client.fetch(job["id"], out)
            console.print(f"[green]video:[/] {out}", highlight=False)
        sys.stdout.write(job["id"] + "\n")
    except VidgenError as exc:
        fail(exc)


def fetch(job_id: str = typer.Argument(..., help="A finished job's id."),
          out: Path = typer.Option(..., "-o", "--out", help="File to write."),
          output: str = typer.Option("video", help="video, subtitles.srt, subtitles.vtt, "
                                     "storyboard or manifest"),
          url: str | None = typer.Option(None, help=cli_jobs.URL_HELP,
                                         show_default=False)) -> None:
    """Download a finished job's video (or another output) to a file."""
    try:
        path = cli_jobs.client(url).fetch(job_id, out, output)
    except VidgenError as exc:
        fail(exc)
    sys.stdout.write(f"{path}\n")
