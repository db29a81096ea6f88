"""The command line: vidgen render | analyze | schema (also ``python -m vidgen_ray``)."""

from __future__ import annotations

import functools
import inspect
import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from vidgen_ray.cli import cleanup as cli_cleanup
from vidgen_ray.cli import farm as cli_farm
from vidgen_ray.cli import help as cli_help
from vidgen_ray.cli import interrupt as cli_interrupt
from vidgen_ray.cli import jobs as cli_jobs
from vidgen_ray.cli import models as cli_models
from vidgen_ray.cli import qc as cli_qc
from vidgen_ray.cli import write as cli_write
from vidgen_ray.config import Aspect, Resolution, SubtitlePosition, Transition, load_settings
from vidgen_ray.errors import InputError, VidgenError
from vidgen_ray.speech import parse_voice_option
from vidgen_ray.speech.voice_casting import load_cast

cli_help.install()
app = typer.Typer(
    help="VidGen on Ray: turn a written script into a narrated, subtitled video.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
console = Console(stderr=True)

RESOLUTION_HELP = "360p, 480p, 720p, 1080p, 1440p or 2160p"
SCRIPT_HELP = ("A script: prose (.txt), Markdown (.md), a Fountain screenplay (.fountain), "
               "or a storyboard.json from 'vidgen analyze' (rendered exactly as written).")


# Picture flags shared by render and cast: flag parameter -> the setting it sets.
IMAGE_OPTIONS: dict[str, tuple[str, object, object]] = {
    "images": ("image_model", str | None, typer.Option(
        None, help="Picture backend: cards or sdxl (default: cards)", show_default=False)),
    "sdxl_model": ("sdxl_model", str | None, typer.Option(
        None, help="SDXL model id or local folder (default: "
        "stabilityai/stable-diffusion-xl-base-1.0)", show_default=False)),
    "image_resolution": ("image_resolution", str | None, typer.Option(
        None, help="SDXL drawing size WxH (default: the SDXL size nearest the video)",
        show_default=False)),
    "guidance_scale": ("image_guidance_scale", float | None, typer.Option(
        None, help="SDXL guidance scale, 0-30 (default: 7.5)", show_default=False)),
    "steps": ("image_inference_steps", int | None, typer.Option(
        None, help="SDXL denoising steps (default: 50; 30 with --fast)", show_default=False)),
    "fast": ("image_preset", bool, typer.Option(False, "--fast", help="SDXL fast preset: "
                                                "30 steps")),
    "scheduler": ("image_scheduler", str | None, typer.Option(
        None, help="default, euler, euler_a, dpmpp_2m, ddim or unipc", show_default=False)),
    "negative_prompt": ("image_negative_prompt", str | None, typer.Option(
        None, help="What SDXL should avoid drawing", show_default=False)),
    "style": ("image_style", str | None, typer.Option(
        None, help="none, photorealistic, cinematic, anime, watercolor, comic or storybook "
        "(default: cinematic)", show_default=False)),
    "safety_checker": ("image_safety_checker", bool | None, typer.Option(
        None, "--safety-checker/--no-safety-checker", help="Check SDXL pictures "
        "(default: on where available)", show_default=False)),
    "safety_checker_model": ("safety_checker_model", str | None, typer.Option(
        None, help="Safety checker model id or folder", show_default=False)),
    "half_precision": ("half_precision", bool | None, typer.Option(
        None, "--half-precision/--full-precision", help="fp16/bf16 weights for SDXL and Bark "
        "(default: on CUDA)", show_default=False)),
    "half_dtype": ("image_half_dtype", str | None, typer.Option(
        None, help="fp16 or bf16 (default: fp16)", show_default=False)),
    "cpu_offload": ("cpu_offload", bool, typer.Option(
        False, "--cpu-offload", help="Offload idle sub-models to CPU memory (GPUs < 8 GB)")),
    "attention": ("attention", str | None, typer.Option(
        None, help="sdpa, flash or eager (default: sdpa)", show_default=False)),
    "compile": ("compile", bool, typer.Option(False, "--compile",
                                             help="torch.compile the models (needs CUDA)")),
    "refiner": ("sdxl_refiner", str | None, typer.Option(
        None, help="SDXL refiner model id or folder", show_default=False)),
    "ip_adapter": ("ip_adapter", str | None, typer.Option(
        None, help="IP-Adapter folder or model id: scenes follow the character portraits",
        show_default=False)),
    "ip_adapter_scale": ("ip_adapter_scale", float | None, typer.Option(
        None, help="How strongly portraits steer scenes, 0-1 (default: 0.6)",
        show_default=False)),
    "upscaler": ("upscaler", str | None, typer.Option(
        None, help="lanczos, or an x4 upscaler model id/folder (default: lanczos)",
        show_default=False)),
    "offline": ("offline", bool | None, typer.Option(
        None, "--offline/--online", help="Never download models (default: $VIDGEN_OFFLINE "
        "or $HF_HUB_OFFLINE)",
        show_default=False)),
    "image_batch_size": ("image_batch_size", int | None, typer.Option(
        None, help="Pictures per worker call (default: 4)", show_default=False)),
}


def with_image_options(command):
    """Adds the IMAGE_OPTIONS flags to a command; it receives them as ``image_settings``."""
    signature = inspect.signature(command)
    kept = [p for p in signature.parameters.values() if p.name != "image_settings"]
    added = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option,
                               annotation=kind)
             for name, (_, kind, option) in IMAGE_OPTIONS.items()]

    @functools.wraps(command)
    def wrapper(**kwargs):
        chosen = {IMAGE_OPTIONS[name][0]: kwargs.pop(name) for name in IMAGE_OPTIONS}
        chosen["image_preset"] = "fast" if chosen["image_preset"] else None
        chosen["cpu_offload"] = chosen["cpu_offload"] or None
        chosen["compile"] = chosen["compile"] or None
        return command(**kwargs, image_settings=chosen)

    wrapper.__signature__ = signature.replace(parameters=[*kept, *added])
    return wrapper


# Script analysis flags shared by render, analyze and plan (README "Script analysis with
# Gemini or a local model"): flag parameter -> the setting it sets.
LLM_OPTIONS: dict[str, tuple[str, object, object]] = {
    "llm": ("llm", str | None, typer.Option(
        None, help="Script analyser: local, gemini, or openai (an OpenAI-compatible server: "
        "Ollama, vLLM, LM Studio) (default: local)", show_default=False)),
    "llm_model": ("llm_model", str | None, typer.Option(
        None, help="Model of the analyser (default: gemini-2.5-flash for gemini)",
        show_default=False)),
    "llm_base_url": ("llm_base_url", str | None, typer.Option(
        None, help="Server of the analyser, e.g. http://localhost:11434/v1 (needed for "
        "openai)", show_default=False)),
    "llm_temperature": ("llm_temperature", float | None, typer.Option(
        None, help="Analyser temperature, 0-2 (default: 0.3)", show_default=False)),
    "llm_max_tokens": ("llm_max_tokens", int | None, typer.Option(
        None, help="Most output tokens per request; longer scripts are split (default: 8192)",
        show_default=False)),
    "llm_requests_per_minute": ("llm_requests_per_minute", int | None, typer.Option(
        None, help="Requests per minute to the model, shared by this machine's processes "
        "(default: 60)", show_default=False)),
    "llm_timeout": ("llm_timeout", float | None, typer.Option(
        None, help="Seconds to wait for one answer (default: 120)", show_default=False)),
    "llm_retries": ("llm_retries", int | None, typer.Option(
        None, help="Retries on 429, 5xx and timeouts (default: 5)", show_default=False)),
    "llm_rewrite": ("llm_rewrite", bool, typer.Option(
        False, "--llm-rewrite", "--rewrite", help="Let the model reword spoken lines "
        "(default: every line verbatim)")),
    "llm_cache_dir": ("llm_cache_dir", str | None, typer.Option(
        None, help="Cached analyses and rate-limit state (default: ~/.cache/vidgen/llm)",
        show_default=False)),
}


def with_llm_options(command):
    """Adds the LLM_OPTIONS flags to a command; it receives them as ``llm_settings``."""
    signature = inspect.signature(command)
    kept = [p for p in signature.parameters.values() if p.name != "llm_settings"]
    added = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option,
                               annotation=kind)
             for name, (_, kind, option) in LLM_OPTIONS.items()]

    @functools.wraps(command)
    def wrapper(**kwargs):
        chosen = {LLM_OPTIONS[name][0]: kwargs.pop(name) for name in LLM_OPTIONS}
        chosen["llm_rewrite"] = chosen["llm_rewrite"] or None
        return command(**kwargs, llm_settings=chosen)

    wrapper.__signature__ = signature.replace(parameters=[*kept, *added])
    return wrapper


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


def _fail(exc: VidgenError) -> None:
    # escape: a message's brackets are text (pip install 'vidgen-ray[models]'), not markup
    console.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False)
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
@with_image_options
@with_llm_options
def render(
    script: Path | None = typer.Argument(None, metavar="SCRIPT", help=SCRIPT_HELP + " Or "
                                         "--topic instead.", show_default=False),
    out: Path | None = typer.Option(None, "-o", "--out", help="Output folder"
                                    " (default: out/<script name>)", show_default=False),
    resolution: Resolution | None = typer.Option(None, help="360p, 480p, 720p, 1080p, 1440p "
                                                 "or 2160p (default: 720p)",
                                                 show_default=False),
    preview: bool | None = typer.Option(None, "--preview", help="A fast draft: 360p, 15 fps, "
                                        "fastest encode, no renditions or stems (a "
                                        "--resolution or --fps given is kept)",
                                        show_default=False),
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
    aspect: Aspect | None = typer.Option(None, help="16:9, 9:16 or 1:1 (default: 16:9)",
                                         show_default=False),
    fps: int | None = typer.Option(None, help="Frames per second, 12-60 (default: 30)",
                                   show_default=False),
    voice: str | None = typer.Option(
        None, help="Speech backend and/or narrator voice: 'espeak', 'kokoro' or 'bark'; "
        "'kokoro:af_heart', 'bark:v2/en_speaker_3' or 'espeak:en+m3'; or a voice of the "
        "current backend ('en+m3', a Kokoro voice, a Bark preset, a .npz). Characters get "
        "their own voices.",
        show_default=False),
    cast: Path | None = typer.Option(
        None, help="cast.json pinning each speaker's voice (every render writes the one it "
        "used into its folder); new speakers are cast and added.", show_default=False),
    temperature: float | None = typer.Option(
        None, help="Bark sampling temperature, 0.05-1.5 (default: 0.7)", show_default=False),
    bark_model: str | None = typer.Option(
        None, help="suno/bark, suno/bark-small or a model folder (default: suno/bark)",
        show_default=False),
    bark_decoding: str | None = typer.Option(
        None, help="Bark decoding: fast (static cache, CUDA graphs) or transformers "
        "(default: fast)", show_default=False),
    speed: float | None = typer.Option(None, help="Speaking rate, 0.5-2.0 (default: 1.0)",
                                       show_default=False),
    seed: int | None = typer.Option(None, help="Varies camera moves and sound (default: 0)",
                                    show_default=False),
    loudness: str | None = typer.Option(None, help="Target loudness in LUFS, or web (-14),"
                                        " podcast (-16), broadcast (-23) (default: -16)",
                                        show_default=False),
    stems: str | None = typer.Option(None, help="Also write mix.<ext> and stems/ (speech, "
                                     "music, ambience, effects) as wav, flac, mp3 or aac "
                                     "(default: none)", show_default=False),
    stems_bit_depth: int | None = typer.Option(
        None, metavar="16|24", help="Bits per sample of WAV and FLAC stems (default: 16, "
        "which every tool opens)", show_default=False),
    music: str | None = typer.Option(
        None, metavar="FILE|none", help="Your own music under every scene that names none "
        "in the storyboard, or none for no music (default: music made for each mood)",
        show_default=False),
    music_volume: float | None = typer.Option(
        None, metavar="0-4", help="Music level: 0 is silent, 0.5 is 6 dB quieter (default: 1)",
        show_default=False),
    ambience_volume: float | None = typer.Option(
        None, metavar="0-4", help="Ambience level: 0 is silent (default: 1)",
        show_default=False),
    address: str | None = typer.Option(None, help="Ray cluster to use, e.g. ray://head:10001"
                                       " (default: $RAY_ADDRESS, else a local Ray)",
                                       show_default=False),
    transition: Transition | None = typer.Option(
        None, help="Transition where the storyboard sets none (default: dissolve)",
        show_default=False),
    burn_subtitles: bool | None = typer.Option(
        None, "--burn-subtitles/--no-burn-subtitles", help="Draw the subtitles into the "
        "picture too (default: no; .srt/.vtt are always written)", show_default=False),
    card_text: str | None = typer.Option(
        None, help="What a card shows under its title: narration, title (place and "
        "characters only) or auto (title with burned subtitles) (default: auto)",
        show_default=False),
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
    subtitle_max_cps: str | None = typer.Option(
        None, help="Subtitle reading speed in characters a second, or adult (17) or "
        "children (13) (default: 17)", show_default=False),
    timeline_formats: str | None = typer.Option(
        None, help="Editable timelines beside the video, comma-separated: otio, fcpxml, "
        "edl; '' writes none (default: otio)", show_default=False),
    subtitle_speakers: bool | None = typer.Option(
        None, "--subtitle-speakers/--no-subtitle-speakers", help="Name speakers in the "
        "subtitles where their turn begins, SDH style (default: no)", show_default=False),
    rendition: list[str] | None = typer.Option(
        None, help="Another output WIDTHxHEIGHT, e.g. 1080x1920; repeat for more",
        show_default=False),
    qc_strict: bool | None = typer.Option(None, "--qc-strict", help="Fail when qc.json "
                                          "finds a violation (default: report only)"),
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
        settings = load_settings(resolution=resolution, aspect=aspect, fps=fps,
                                 preview=preview, tts_model=backend, tts_voice=narrator,
                                 tts_speed=speed,
                                 seed=seed, loudness=loudness, stems=stems, ray_address=address,
                                 tts_temperature=temperature, bark_model=bark_model,
                                 bark_decoding=bark_decoding,
                                 transition=transition, burn_subtitles=burn_subtitles,
                                 card_text=card_text,
                                 subtitle_font=subtitle_font,
                                 subtitle_fonts_dir=subtitle_fonts_dir,
                                 subtitle_size=subtitle_size,
                                 subtitle_outline=subtitle_outline,
                                 subtitle_position=subtitle_position,
                                 subtitle_box=subtitle_box,
                                 subtitle_max_cps=subtitle_max_cps,
                                 subtitle_speakers=subtitle_speakers,
                                 timeline_formats=timeline_formats,
                                 renditions=rendition or None,
                                 qc_strict=qc_strict, stems_bit_depth=stems_bit_depth,
                                 music=music, music_volume=music_volume,
                                 ambience_volume=ambience_volume,
                                 **(image_settings or {}), **(llm_settings or {}))
        if cast is not None:
            settings = settings.model_copy(
                update={"cast": load_cast(cast, settings.tts_model)})
        if not settings.ray_address:  # on a cluster, its nodes have what they have
            from vidgen_ray.pipeline import preflight

            preflight.check_backends(settings, for_client=False)  # before Ray starts
            preflight.check_paths(settings)
        from vidgen_ray.farm.connect import (
            render as run_render,  # imports ray: only when rendering
        )

        out_dir = out or Path("out") / (script.stem if script else cli_write.topic_folder(topic))
        if topic is not None:
            script = _script_from_topic(topic, scenes, minutes, writing_style, out_dir,
                                        llm_settings)
        with cli_interrupt.resumable(out_dir), _progress() as bars:
            result = run_render(script, out_dir, settings, progress=bars)
    except VidgenError as exc:
        _fail(exc)
    _print_summary(result)


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


@app.command()
@with_image_options
def cast(
    script: Path = typer.Argument(..., help=SCRIPT_HELP, show_default=False),
    out: Path = typer.Option(Path("cast"), "-o", "--out", help="Folder for the portraits"),
    image_settings: dict | None = None,
) -> None:
    """Draw one reference portrait per character of SCRIPT (OUT/<NAME>.png) and a contact
    sheet (OUT/cast.png), to check the looks before a full render. Runs in this process."""
    from vidgen_ray.images import create_image_backend
    from vidgen_ray.images import portraits as casting
    from vidgen_ray.pipeline.source import load_storyboard

    try:
        settings = load_settings(**(image_settings or {}))
        looks = casting.character_looks(load_storyboard(script))
        if not looks:
            raise InputError(f"{script} has no characters: name them in the script (or in "
                             "the storyboard's 'characters') to draw a cast sheet")
        backend = create_image_backend(settings.image_model, settings)
        side = casting.portrait_side(settings.image_resolution)
        pngs = backend.generate([casting.portrait_request(look, side) for look in looks.values()])
        out.mkdir(parents=True, exist_ok=True)
        portraits = dict(zip(looks, pngs, strict=True))
        for name, png in portraits.items():
            (out / f"{name}.png").write_bytes(png)
        (out / "cast.png").write_bytes(casting.contact_sheet(portraits))
    except VidgenError as exc:
        _fail(exc)
    except OSError as exc:
        _fail(VidgenError(f"cannot write the cast sheet to {out}: {exc.strerror}: choose a "
                          "writable folder with -o"))
    console.print(f"[green]cast:[/] {len(looks)} portraits and cast.png in {out}",
                  highlight=False)


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
        _fail(exc)
    text = storyboard.model_dump_json(indent=2)
    if out:
        out.write_text(text + "\n", encoding="utf-8")
        console.print(f"storyboard written to {out}")
    else:
        sys.stdout.write(text + "\n")


@app.command()
@with_llm_options
def plan(
    script: Path = typer.Argument(..., help=SCRIPT_HELP, show_default=False),
    resolution: Resolution | None = typer.Option(None, help=RESOLUTION_HELP),
    aspect: Aspect | None = typer.Option(None, help="16:9, 9:16 or 1:1"),
    address: str | None = typer.Option(None, help="Ray cluster to plan for (default: "
                                       "$RAY_ADDRESS, else this machine's resources)",
                                       show_default=False),
    as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON."),
    llm_settings: dict | None = None,
) -> None:
    """Show, without rendering, the work SCRIPT makes (requests, calls, chunks), where it
    would run (workers per kind, GPU share each, FFmpeg nodes) and an estimate of its cost."""
    from vidgen_ray.farm.connect import cluster_resources  # imports ray: only here
    from vidgen_ray.farm.plan import plan_render
    from vidgen_ray.pipeline.source import load_storyboard

    try:
        settings = load_settings(resolution=resolution, aspect=aspect, ray_address=address,
                                 **(llm_settings or {}))
        storyboard = load_storyboard(script, settings)
        cluster = cluster_resources(settings.ray_address)
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
    cli_qc.print_render_report(result.out_dir)
    sys.stdout.write(f"{result.video}\n")


def main() -> None:
    app()


# ---- the job service's client: vidgen submit | status | jobs | cancel | fetch ---------------

URL_HELP = cli_jobs.URL_HELP


_client = cli_jobs.client


def _print_job(job: dict) -> None:
    cli_jobs.print_json(job)


@app.command()
def submit(
    script: Path = typer.Argument(..., help=SCRIPT_HELP, show_default=False),
    url: str | None = typer.Option(None, help=URL_HELP, show_default=False),
    wait: bool = typer.Option(False, "--wait", help="Show progress until the job ends."),
    out: Path | None = typer.Option(None, "-o", "--out", help="With --wait: download the "
                                    "video to this file.", show_default=False),
    priority: int = typer.Option(0, help="Higher runs first, -100..100."),
    key: str | None = typer.Option(None, "--idempotency-key", help="Sending the same key "
                                   "again returns the same job.", show_default=False),
    resolution: Resolution | None = typer.Option(None, help=RESOLUTION_HELP,
                                                 show_default=False),
    aspect: Aspect | None = typer.Option(None, help="16:9, 9:16 or 1:1", show_default=False),
    fps: int | None = typer.Option(None, help="Frames per second, 12-60", show_default=False),
    voice: str | None = typer.Option(None, help="Speech backend and/or narrator voice, as for "
                                     "render: bark, espeak:en+m3, en+m3", show_default=False),
    images: str | None = typer.Option(None, help="Picture backend: cards or sdxl",
                                      show_default=False),
    speed: float | None = typer.Option(None, help="Speaking rate, 0.5-2.0", show_default=False),
    seed: int | None = typer.Option(None, help="Varies camera moves and sound",
                                    show_default=False),
    loudness: str | None = typer.Option(None, help="Target loudness in LUFS, or web, podcast, "
                                        "broadcast", show_default=False),
    setting: list[str] | None = typer.Option(
        None, "--set", help="Any other per-job setting as NAME=VALUE (names as in `vidgen "
        "render --help` and VIDGEN_*, e.g. --set transition=cut --set stems=flac); a JSON "
        "value for lists: --set 'renditions=[\"1080x1920\"]'. Repeat for more.",
        show_default=False),
) -> None:
    """Send SCRIPT to the job service; prints the job (its id on stdout with --wait).
    Settings left out take the service's defaults."""
    try:
        backend, narrator = parse_voice_option(voice) if voice else (None, None)
        settings = {k: v for k, v in (
            ("resolution", resolution), ("aspect", aspect), ("fps", fps),
            ("tts_model", backend), ("tts_voice", narrator), ("image_model", images),
            ("tts_speed", speed), ("seed", seed), ("loudness", loudness)) if v is not None}
        settings.update(parse_assignments(setting or []))
        client = _client(url)
        job = client.submit(script, settings, priority, key)
        if not wait:
            _print_job(job)
            return
        console.print(f"job {job['id']} queued", highlight=False)
        with _progress() as bars:
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
        _fail(exc)


app.command(name="status")(cli_jobs.status)
app.command(name="jobs")(cli_jobs.jobs)
app.command(name="cancel")(cli_jobs.cancel)


@app.command()
def fetch(job_id: str = typer.Argument(..., help="A finished job's id."),
          out: Path = typer.Option(..., "-o", "--out", help="File to write."),
          output: str = typer.Option("video", help="video, subtitles.srt, subtitles.vtt, "
                                     "storyboard or manifest"),
          url: str | None = typer.Option(None, help=URL_HELP, show_default=False)) -> None:
    """Download a finished job's video (or another output) to a file."""
    try:
        path = _client(url).fetch(job_id, out, output)
    except VidgenError as exc:
        _fail(exc)
    sys.stdout.write(f"{path}\n")


# ---- operations: vidgen farm | models | cleanup (docs/DEPLOY.md) ----------------------------

app.add_typer(cli_farm.app, name="farm")
app.add_typer(cli_models.app, name="models")
app.command(name="cleanup")(cli_cleanup.cleanup)
app.command(name="qc")(cli_qc.qc)
app.command(name="write")(with_llm_options(cli_write.write))
