"""vidgen render (a script or a topic to a video: on the farm `vidgen farm start` keeps on
this machine when one runs, else on a private farm in this process's Ray, or on a cluster's
with --address) and vidgen portraits (one picture per character, to check the looks first)."""

from __future__ import annotations

from pathlib import Path

import typer

from vidgen_ray.cli import interrupt as cli_interrupt
from vidgen_ray.cli import write as cli_write
from vidgen_ray.cli.common import SCRIPT_HELP, console, fail, print_summary, progress
from vidgen_ray.cli.options import RENDER_FLAGS, with_flags, with_image_options, with_llm_options
from vidgen_ray.config import load_settings
from vidgen_ray.errors import InputError, VidgenError
from vidgen_ray.speech import parse_voice_option
from vidgen_ray.speech.voice_casting import load_cast

VOICES_HELP = ("cast.json pinning each speaker's voice (every render writes the one it used "
               "into its folder); new speakers are cast and added.")


# Innermost first: the flags read video, sound, speech, farm, then pictures, then analysis.
@with_llm_options
@with_image_options
@with_flags(RENDER_FLAGS, into="render_settings")
def render(
    script: Path | None = typer.Argument(None, metavar="SCRIPT", help=SCRIPT_HELP + " Or "
                                         "--topic instead.", show_default=False),
    out: Path | None = typer.Option(None, "-o", "--out", help="Output folder"
                                    " (default: out/<script name>)", show_default=False),
    topic: str | None = typer.Option(None, help="Write the script from this topic first "
                                     "(needs --llm gemini or openai); it is saved as "
                                     "OUT/script.md and reused when run again",
                                     show_default=False),
    scenes: int | None = typer.Option(None, help="With --topic: " + cli_write.SCENES_HELP,
                                      show_default=False),
    minutes: float | None = typer.Option(None, help="With --topic: " + cli_write.MINUTES_HELP,
                                         show_default=False),
    writing_style: str | None = typer.Option(None, help="With --topic: " +
                                             cli_write.STYLE_HELP, show_default=False),
    voice: str | None = typer.Option(
        None, help="Speech backend and/or narrator voice: 'espeak', 'kokoro' or 'bark'; "
        "'kokoro:af_heart', 'bark:v2/en_speaker_3' or 'espeak:en+m3'; or a voice of the "
        "current backend ('en+m3', a Kokoro voice, a Bark preset, a .npz). Characters get "
        "their own voices.",
        show_default=False),
    voices: Path | None = typer.Option(None, metavar="FILE", help=VOICES_HELP,
                                       show_default=False),
    cast: Path | None = typer.Option(None, metavar="FILE", hidden=True,
                                     help="The old name of --voices."),
    private_farm: bool = typer.Option(False, "--private-farm", help="Start a farm of this "
                                      "render's own (and stop it at the end) even when "
                                      "`vidgen farm start` keeps one running here."),
    render_settings: dict | None = None,
    image_settings: dict | None = None,
    llm_settings: dict | None = None,
) -> None:
    """Render SCRIPT into a folder: video.mp4, subtitles.srt/.vtt, storyboard.json and
    manifest.json. Finished parts are kept in OUT/parts: running again resumes."""
    try:
        if (script is None) == (topic is None):
            raise InputError("give a SCRIPT file or --topic \"...\" (one of them): e.g. "
                             "vidgen render story.md, or vidgen render --topic \"how "
                             "lighthouses work\" --llm gemini")
        backend, narrator = parse_voice_option(voice) if voice else (None, None)
        settings = load_settings(tts_model=backend, tts_voice=narrator, **render_settings,
                                 **image_settings, **llm_settings)
        voices = voices or cast
        if voices is not None:
            settings = settings.model_copy(
                update={"voices": load_cast(voices, settings.tts_model)})
        if not settings.ray_address:  # on a cluster, its nodes have what they have
            from vidgen_ray.pipeline import preflight

            preflight.check_backends(settings, for_client=False)  # before Ray starts
            preflight.check_paths(settings)
            preflight.check_encoder(settings, for_client=False)  # this machine encodes
        from vidgen_ray.farm.connect import (
            render as run_render,  # imports ray: only when rendering
        )

        farm = None if private_farm or settings.ray_address else _running_farm(settings)

        out_dir = out or Path("out") / (script.stem if script else cli_write.topic_folder(topic))
        if topic is not None:
            script = _script_from_topic(topic, scenes, minutes, writing_style, out_dir,
                                        llm_settings)
        with cli_interrupt.resumable(out_dir), progress() as bars:
            result = run_render(script, out_dir, settings, progress=bars, farm=farm)
    except VidgenError as exc:
        fail(exc)
    print_summary(result)


def _running_farm(settings):
    """The farm `vidgen farm start` keeps here, said on stderr, when one runs and this
    render's settings fit it (local_farm.check_job); None: a private farm, as always."""
    from vidgen_ray.farm import local_farm

    farm = local_farm.running()
    if farm is not None:
        local_farm.check_job(farm, settings)
        console.print(f"using the farm running at {farm.describe()}, models warm "
                      "(--private-farm for a farm of this render's own)", highlight=False)
    return farm


def _script_from_topic(topic: str, scenes: int | None, minutes: float | None,
                       style: str | None, out_dir: Path, llm_settings: dict | None) -> Path:
    """OUT/script.md, written from the topic; one written before is reused, so running the
    same command again resumes the same video instead of writing a new script."""
    from vidgen_ray.analysis.writer import save_script

    path = out_dir / "script.md"
    if path.is_file():
        console.print(f"using the script written before: {path} (delete it to write a new "
                      "one)", highlight=False)
        return path
    request = cli_write.write_request(topic, scenes, minutes, style, None)
    save_script(cli_write.write_from_topic(request, llm_settings), path)
    console.print(f"script written to {path}", highlight=False)
    return path


@with_image_options
def portraits(
    script: Path = typer.Argument(..., help=SCRIPT_HELP, show_default=False),
    out: Path = typer.Option(Path("cast"), "-o", "--out", help="Folder for the portraits"),
    image_settings: dict | None = None,
) -> None:
    """Draw one reference portrait per character of SCRIPT (OUT/<NAME>.png) and a contact
    sheet (OUT/cast.png), to check the looks before a full render. Runs in this process."""
    from vidgen_ray.images import create_image_backend, picture_sampling
    from vidgen_ray.images import portraits as drawing
    from vidgen_ray.pipeline.source import load_storyboard

    try:
        settings = load_settings(**(image_settings or {}))
        looks = drawing.character_looks(load_storyboard(script))
        if not looks:
            raise InputError(f"{script} has no characters: name them in the script (or in "
                             "the storyboard's 'characters') to draw a cast sheet")
        backend = create_image_backend(settings.image_model, settings)
        side = drawing.portrait_side(settings.image_resolution)
        sampling = picture_sampling(settings, side, side, portrait=True)
        pngs = backend.generate([drawing.portrait_request(look, side, sampling)
                                 for look in looks.values()])
        out.mkdir(parents=True, exist_ok=True)
        drawn = dict(zip(looks, pngs, strict=True))
        for name, png in drawn.items():
            (out / f"{name}.png").write_bytes(png)
        (out / "cast.png").write_bytes(drawing.contact_sheet(drawn))
    except VidgenError as exc:
        fail(exc)
    except OSError as exc:
        fail(VidgenError(f"cannot write the cast sheet to {out}: {exc.strerror}: choose a "
                         "writable folder with -o"))
    console.print(f"[green]cast:[/] {len(looks)} portraits and cast.png in {out}",
                  highlight=False)
