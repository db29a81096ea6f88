"""The command line: vidgen render | analyze | schema (also ``python -m vidgen_ray``).

Commands live beside this file (render.py, submit.py, jobs.py, farm.py ...); the flags
that set render settings are made from the settings' fields (options.py). This module
builds the app and holds the small commands.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from vidgen_ray.cli import cleanup as cli_cleanup
from vidgen_ray.cli import farm as cli_farm
from vidgen_ray.cli import help as cli_help
from vidgen_ray.cli import jobs as cli_jobs
from vidgen_ray.cli import models as cli_models
from vidgen_ray.cli import plan as cli_plan
from vidgen_ray.cli import qc as cli_qc
from vidgen_ray.cli import render as cli_render
from vidgen_ray.cli import submit as cli_submit
from vidgen_ray.cli import write as cli_write
from vidgen_ray.cli.common import console, fail
from vidgen_ray.cli.options import with_llm_options
from vidgen_ray.config import load_settings
from vidgen_ray.errors import VidgenError

# Read here by tests and scripts: --set NAME=VALUE.
parse_assignments = cli_submit.parse_assignments

cli_help.install()
app = typer.Typer(
    help="VidGen on Ray: turn a written script into a narrated, subtitled video.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
__all__ = ["app", "console", "main", "parse_assignments"]


def _version(value: bool) -> None:
    if value:
        from vidgen_ray import __version__

        typer.echo(f"vidgen-ray {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    """Options for every command (only --version, handled by its callback)."""


app.command(name="render")(cli_render.render)
app.command(name="portraits")(cli_render.portraits)
app.command(name="cast", hidden=True)(cli_render.portraits)  # its name until 0.x


@app.command()
@with_llm_options
def analyze(
    script: Path = typer.Argument(..., help="A script: prose, Markdown or Fountain.",
                                  show_default=False),
    out: Path | None = typer.Option(None, "-o", "--out", help="Write the storyboard to this "
                                    "file instead of printing it.", show_default=False),
    llm_settings: dict | None = None,
) -> None:
    """Print the storyboard of SCRIPT as JSON: edit it, then 'vidgen render storyboard.json'."""
    from vidgen_ray.pipeline.source import load_storyboard

    try:
        storyboard = load_storyboard(script, load_settings(**(llm_settings or {})))
    except VidgenError as exc:
        fail(exc)
    text = storyboard.model_dump_json(indent=2)
    if out:
        out.write_text(text + "\n", encoding="utf-8")
        console.print(f"storyboard written to {out}")
    else:
        sys.stdout.write(text + "\n")


app.command(name="plan")(cli_plan.plan)


@app.command()
def schema() -> None:
    """Print the JSON schema of a storyboard (for editors and for LLM structured output)."""
    from vidgen_ray.storyboard import Storyboard

    sys.stdout.write(json.dumps(Storyboard.model_json_schema(), indent=2) + "\n")


def main() -> None:
    app()


# ---- the job service's client: vidgen submit | status | jobs | cancel | fetch ---------------

app.command(name="submit")(cli_submit.submit)
app.command(name="status")(cli_jobs.status)
app.command(name="jobs")(cli_jobs.jobs)
app.command(name="cancel")(cli_jobs.cancel)
app.command(name="fetch")(cli_submit.fetch)

# ---- operations: vidgen farm | models | cleanup (docs/DEPLOY.md) ----------------------------

app.add_typer(cli_farm.app, name="farm")
app.add_typer(cli_models.app, name="models")
app.command(name="cleanup")(cli_cleanup.cleanup)
app.command(name="qc")(cli_qc.qc)
app.command(name="write")(with_llm_options(cli_write.write))
