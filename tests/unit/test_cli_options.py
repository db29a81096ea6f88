"""The flags that set render settings: made from the fields (help, bounds, default written
once), every spelling kept, and a command receives only the flags given."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from vidgen_ray.cli.app import app
from vidgen_ray.cli.options import (
    IMAGE_FLAGS,
    LLM_FLAGS,
    RENDER_FLAGS,
    Flag,
    Switch,
    help_text,
    with_flags,
)
from vidgen_ray.config import RenderSettings

# Pinned: a user's scripts call these. A new one is added here on purpose.
RENDER_SPELLINGS = {
    "-o", "--out", "--topic", "--scenes", "--minutes", "--writing-style", "--voice", "--voices",
    "--cast", "--resolution", "--preview", "--aspect", "--fps", "--seed", "--transition",
    "--burn-subtitles", "--no-burn-subtitles", "--card-text", "--subtitle-font",
    "--subtitle-fonts-dir", "--subtitle-size", "--subtitle-outline", "--subtitle-position",
    "--subtitle-box", "--no-subtitle-box", "--subtitle-max-cps", "--timeline-formats",
    "--subtitle-speakers", "--no-subtitle-speakers", "--rendition", "--qc-strict", "--encoder",
    "--loudness", "--stems", "--stems-bit-depth", "--music", "--music-volume",
    "--ambience-volume", "--speed", "--temperature", "--bark-model", "--bark-decoding",
    "--video-model", "--max-clips-per-scene", "--clip-crossfade", "--ltx-model", "--ltx-steps",
    "--ltx-frames", "--ltx-clip-side", "--shots", "--ltx2-model", "--music-model",
    "--ambience-model",
    "--stable-audio-model", "--stable-audio-steps", "--address", "--images", "--sdxl-model",
    "--image-resolution", "--guidance-scale",
    "--steps", "--fast", "--scheduler", "--negative-prompt", "--style", "--safety-checker",
    "--no-safety-checker", "--safety-checker-model", "--half-precision", "--full-precision",
    "--half-dtype", "--cpu-offload", "--attention", "--compile", "--refiner", "--ip-adapter",
    "--ip-adapter-scale", "--upscaler", "--offline", "--online", "--image-batch-size",
    "--image-fast-path", "--image-fast-lora",
    "--llm", "--llm-model", "--llm-base-url", "--llm-temperature", "--llm-max-tokens",
    "--llm-requests-per-minute", "--llm-timeout", "--llm-retries", "--llm-rewrite",
    "--rewrite", "--llm-cache-dir", "--private-farm",
}


def _command(name: str):
    return typer.main.get_command(app).commands[name]


def test_render_keeps_every_spelling_and_hides_the_old_ones():
    params = [p for p in _command("render").params if p.param_type_name == "option"]
    assert {o for p in params for o in (*p.opts, *p.secondary_opts)} == RENDER_SPELLINGS
    hidden = {p.name for p in params if p.hidden}
    assert hidden == {"cast"}


def test_portraits_is_the_command_and_cast_its_hidden_old_name():
    group = typer.main.get_command(app)
    assert not group.commands["portraits"].hidden and group.commands["cast"].hidden
    names = [[p.name for p in group.commands[c].params] for c in ("cast", "portraits")]
    assert names[0] == names[1]


def test_every_flag_sets_a_field_and_says_its_bounds_and_default():
    for flag in {**RENDER_FLAGS, **IMAGE_FLAGS, **LLM_FLAGS}.values():
        assert flag.setting in RenderSettings.model_fields
    assert help_text(RENDER_FLAGS["fps"]) == "Frames per second. (12 to 60; default: 30)"
    assert help_text(RENDER_FLAGS["loudness"]).endswith("(-31 to -5; default: -16)")
    assert help_text(IMAGE_FLAGS["fast"]).startswith("fast: 30 steps")  # a switch: no default
    assert "default" not in help_text(LLM_FLAGS["llm_model"])  # the description says it


def test_a_command_receives_only_the_flags_given():
    seen = {}
    flags = {"fps": Flag("fps"), "fast": Switch("image_preset", "--fast", sets="fast"),
             "rendition": Flag("renditions", ("--rendition",), kind=str, multiple=True)}

    @with_flags(flags, into="chosen")
    def command(chosen: dict | None = None) -> None:
        seen.update(chosen=chosen)

    cli = typer.Typer()
    cli.command()(command)
    cli.command("other")(lambda: None)
    runner = CliRunner()
    assert runner.invoke(cli, ["command"]).exit_code == 0
    assert seen["chosen"] == {}
    done = runner.invoke(cli, ["command", "--fps", "24", "--fast", "--rendition", "1080x1920"])
    assert done.exit_code == 0, done.output
    assert seen["chosen"] == {"fps": 24, "image_preset": "fast", "renditions": ["1080x1920"]}


def test_farm_start_has_a_flag_for_every_setting_the_farm_owns():
    """A farm setting added to config/ gets its `vidgen farm start` flag without a line here
    (the farm owns it: a render on the farm cannot choose it)."""
    from vidgen_ray.config import fields_of

    params = _command_of("farm", "start").params
    settings = {p.name for p in params}
    for name in fields_of(RenderSettings, "farm"):
        assert name in settings, name


def _command_of(group: str, name: str):
    return typer.main.get_command(app).commands[group].commands[name]
