"""vidgen write: a Markdown script from a topic, by the analysis's language models; and the
topic flags that ``vidgen render --topic`` shares (README "A script from a topic")."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import typer
from rich.console import Console

from vidgen_ray.errors import InputError, VidgenError

console = Console(stderr=True)

SCENES_HELP = "Scenes to write, 1-30 (default: 5)"
MINUTES_HELP = "Spoken length in minutes, 0.25-30 (default: 1.5)"
STYLE_HELP = "How it should read, e.g. 'documentary', 'a bedtime story for children'"
LANGUAGE_HELP = "Language code of the script, e.g. en, fr, de (default: en)"


def write_request(topic: str, scenes: int | None, minutes: float | None, style: str | None,
                  language: str | None):
    from vidgen_ray.analysis.writer import WriteRequest

    given = {k: v for k, v in (("scenes", scenes), ("minutes", minutes), ("style", style),
                               ("language", language)) if v is not None}
    return WriteRequest(topic=topic, **given)


def write_from_topic(request, llm_settings: dict | None) -> str:
    """The checked script (VidgenError when the model cannot write one)."""
    from vidgen_ray.analysis.writer import write_script
    from vidgen_ray.config import load_settings

    settings = load_settings(**(llm_settings or {}))
    with console.status(f"writing {request.scenes} scenes with {settings.llm}..."):
        return write_script(request, settings)


def topic_folder(topic: str) -> str:
    """out/<slug of the topic>: the default output folder of ``render --topic``."""
    slug = re.sub(r"[^\w]+", "-", topic.lower(), flags=re.UNICODE).strip("-")[:40].strip("-")
    return slug or "topic"


def write(
    topic: str = typer.Argument(..., metavar="TOPIC", help="What the video is about, e.g. "
                                "'how lighthouses work'", show_default=False),
    scenes: int | None = typer.Option(None, help=SCENES_HELP, show_default=False),
    minutes: float | None = typer.Option(None, help=MINUTES_HELP, show_default=False),
    style: str | None = typer.Option(None, help=STYLE_HELP, show_default=False),
    language: str | None = typer.Option(None, help=LANGUAGE_HELP, show_default=False),
    out: Path | None = typer.Option(None, "-o", "--out", help="Write the script to this file "
                                    "instead of printing it", show_default=False),
    llm_settings: dict | None = None,
) -> None:
    """Write a Markdown script about TOPIC with a language model (--llm gemini or openai),
    checked against the script format and the length asked for. Render it with
    'vidgen render FILE', or write and render at once with 'vidgen render --topic'."""
    from vidgen_ray.analysis.writer import save_script

    try:
        script = write_from_topic(write_request(topic, scenes, minutes, style, language),
                                  llm_settings)
        if out is not None:
            save_script(script, out)
            console.print(f"script written to {out}", highlight=False)
            return
    except VidgenError as exc:
        console.print(f"[bold red]error:[/] {exc.message}", highlight=False)
        raise typer.Exit(2 if isinstance(exc, InputError) else 1) from None
    sys.stdout.write(script)
