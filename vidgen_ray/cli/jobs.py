"""vidgen status | jobs | cancel: the job service's answers as readable text (``--json`` for
machines, UTF-8 as is: no ``\\u00e8`` escapes). ``cancel`` of a job that has already ended
cancels nothing, says so and exits 1."""

from __future__ import annotations

import json
import sys
import time

import typer
from rich.console import Console
from rich.table import Table

from vidgen_ray.errors import InputError, VidgenError

console = Console(stderr=True)
URL_HELP = "The job service (default: $VIDGEN_URL, else http://127.0.0.1:8000)"
JSON_HELP = "Print the service's answer as JSON, for scripts"
ENDED = ("done", "failed", "cancelled")


def client(url: str | None):
    from vidgen_ray.config import ClientSettings
    from vidgen_ray.service.client import ServiceClient

    settings = ClientSettings()
    return ServiceClient(url or settings.url, settings.api_key, settings.timeout)


def fail(exc: VidgenError) -> None:
    console.print(f"[bold red]error:[/] {exc.message}", highlight=False)
    raise typer.Exit(2 if isinstance(exc, InputError) else 1)


def print_json(data: dict) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _when(stamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp)) if stamp else "-"


def job_lines(job: dict) -> list[str]:
    """A job as lines of text: what a person reads in ``vidgen status``."""
    done = sum(s == "done" for s in job["scenes"])
    lines = [f"job {job['id']}: {job['status']}",
             f"  title     {job['title']}",
             f"  scenes    {done}/{len(job['scenes'])} done",
             f"  priority  {job['priority']}",
             f"  created   {_when(job['created'])}   started {_when(job['started'])}   "
             f"finished {_when(job['finished'])}"]
    for stage, progress in job["progress"].items():
        lines.append(f"  {stage:<9} {progress['done']}/{progress['total']}")
    if job["timings"]:
        total = sum(job["timings"].values())
        lines.append(f"  took      {total:.1f} s of stages")
    if job["error"]:  # it leads with its stage and scene ("pictures: scene 3: ...")
        lines.append(f"  error     {job['error']}")
        stopped = [name for name, note in job.get("stage_errors", {}).items()
                   if note.startswith("stopped: ")]
        if stopped:
            lines.append(f"  stopped   {', '.join(stopped)}")
    for name, link in job["links"].items():
        lines.append(f"  {name:<9} {link}")
    return lines


def print_job(job: dict) -> None:
    for line in job_lines(job):
        sys.stdout.write(line + "\n")


def status(job_id: str = typer.Argument(..., help="A job id from 'vidgen submit'.",
                                        show_default=False),
           url: str | None = typer.Option(None, help=URL_HELP, show_default=False),
           as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """Print a job's state, progress, errors and result links."""
    try:
        job = client(url).status(job_id)
    except VidgenError as exc:
        fail(exc)
    print_json(job) if as_json else print_job(job)


def jobs(url: str | None = typer.Option(None, help=URL_HELP, show_default=False),
         state: str | None = typer.Option(None, help="queued, running, done, failed or "
                                          "cancelled", show_default=False),
         limit: int = typer.Option(50, help="Jobs per page"),
         offset: int = typer.Option(0, help="Skip this many (the last page's next_offset)"),
         as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
         ) -> None:
    """List your jobs, newest first."""
    try:
        page = client(url).jobs(state, offset, limit)
    except VidgenError as exc:
        fail(exc)
    if as_json:
        print_json(page)
        return
    if not page["jobs"]:
        sys.stdout.write("no jobs" + (f" {state}" if state else "") + "\n")
        return
    table = Table(show_header=True, header_style="bold")
    for column in ("id", "status", "title", "scenes done", "error"):
        table.add_column(column)
    for job in page["jobs"]:
        done = sum(s == "done" for s in job["scenes"])
        table.add_row(job["id"], job["status"], job["title"], f"{done}/{len(job['scenes'])}",
                      (job["error"] or "")[:60])
    Console().print(table)
    if page["next_offset"] is not None:
        console.print(f"more: --offset {page['next_offset']}")


def cancel(job_id: str = typer.Argument(..., help="A job id.", show_default=False),
           url: str | None = typer.Option(None, help=URL_HELP, show_default=False),
           as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """Cancel a queued or running job; its finished parts are kept for a retry. A job that
    has already ended is left as it is: nothing is cancelled and the exit status is 1."""
    try:
        before = client(url).status(job_id)
        job = client(url).cancel(job_id) if before["status"] not in ENDED else before
    except VidgenError as exc:
        fail(exc)
    if as_json:
        print_json(job)
    if before["status"] in ENDED or job["status"] in ("done", "failed"):  # ended meanwhile
        console.print(f"job {job_id} had already ended ({job['status']}): nothing was "
                      "cancelled", highlight=False)
        raise typer.Exit(1)
    if not as_json:
        sys.stdout.write(f"job {job_id} {job['status']}\n")
