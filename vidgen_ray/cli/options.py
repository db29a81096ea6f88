"""The flags that set render settings, made from the settings' own fields.

A flag is a row here: the setting it sets and, only where the command line differs from the
setting, its spellings, type or help. Its help text, bounds and default come from the field
(config/), so each is written once. ``with_flags`` adds a table of flags to a command, which
receives the values given as one dict of settings (absent flags are left out).
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal

import annotated_types
import typer
from pydantic.fields import FieldInfo

from vidgen_ray.config import Aspect, RenderSettings, Resolution, SubtitlePosition, Transition


@dataclass(frozen=True)
class Flag:
    """``setting``: the RenderSettings field. ``decls``: the spellings (default: --NAME from
    the parameter); a ``--on/--off`` pair makes a yes/no flag. ``kind``: the value's type on
    the command line (default: the field's, a choice list read as text, so the settings
    check it and name it in their error). ``switch``: a flag alone, True when given, or the
    value it sets (--fast sets image_preset fast). ``help``: replaces the field's
    description where the command means something else (plan's --address)."""

    setting: str
    decls: tuple[str, ...] = ()
    kind: Any = None
    switch: object = None
    help: str | None = None
    metavar: str | None = None
    hidden: bool = False
    multiple: bool = False

    @property
    def field(self) -> FieldInfo:
        return RenderSettings.model_fields[self.setting]

    def value(self, given: Any) -> Any:
        """The setting's value for what the command line gave (None: not given)."""
        if self.switch is not None:
            return self.switch if given else None
        if self.multiple:
            return (list(given) or None) if given is not None else None
        return given


def Switch(setting: str, *decls: str, sets: object = True, **more: Any) -> Flag:  # noqa: N802
    """A flag given alone: ``--compile``, ``--fast`` (sets image_preset fast)."""
    return Flag(setting, decls, kind=bool, switch=sets, **more)


def Toggle(setting: str, decls: str, **more: Any) -> Flag:  # noqa: N802
    """A yes/no pair, ``--offline/--online``: absent leaves the setting's default."""
    return Flag(setting, (decls,), kind=bool, **more)


def _field_kind(annotation: Any) -> Any:
    """The command line's type of a field: its scalar, a choice list as its values' type."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        annotation = args[0]
    if typing.get_origin(annotation) is Literal:
        return type(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) is list:
        return str  # comma-separated, as in the environment (timeline_formats)
    return annotation


def _choices(annotation: Any) -> str | None:
    """"cards|sdxl" for a choice list read as text: the help's type column names them."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        annotation = args[0]
    if typing.get_origin(annotation) is Literal:
        return "|".join(map(str, typing.get_args(annotation)))
    return None


def _bounds(field: FieldInfo) -> str | None:
    """"12 to 60" from the field's ge/le (or gt/lt) bounds, when it has both."""
    low = next((getattr(m, "ge", None) if getattr(m, "ge", None) is not None
                else getattr(m, "gt", None) for m in field.metadata
                if isinstance(m, (annotated_types.Ge, annotated_types.Gt))), None)
    high = next((getattr(m, "le", None) if getattr(m, "le", None) is not None
                 else getattr(m, "lt", None) for m in field.metadata
                 if isinstance(m, (annotated_types.Le, annotated_types.Lt))), None)
    return None if low is None or high is None else f"{low:g} to {high:g}"


def _default(field: FieldInfo) -> str | None:
    """The field's default as the help shows it; None where the description says what an
    empty value means."""
    value = field.get_default(call_default_factory=True)
    if value is None or value == {}:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "none"
    return f"{value:g}" if isinstance(value, float) else str(value)


def help_text(flag: Flag, defaults: bool = True) -> str:
    """The field's description (or the flag's own help), then its bounds and default
    (``defaults``: False where an absent flag means someone else's default, a service's)."""
    text = flag.help or flag.field.description or flag.setting.replace("_", " ")
    notes = [] if flag.switch is not None else [_bounds(flag.field)]
    if flag.switch is None and defaults:
        default = _default(flag.field)
        notes.append(default and f"default: {default}")
    notes = [n for n in notes if n]
    return f"{text} ({'; '.join(notes)})" if notes else text


def typer_option(name: str, flag: Flag, defaults: bool = True) -> tuple[Any, Any]:
    """(annotation, typer.Option) of one flag parameter."""
    kind = flag.kind or _field_kind(flag.field.annotation)
    annotation = list[kind] | None if flag.multiple else kind | None
    metavar = flag.metavar
    if metavar is None and flag.kind is None and flag.switch is None:
        metavar = _choices(flag.field.annotation)
    option = typer.Option(None, *(flag.decls or (f"--{name.replace('_', '-')}",)),
                          help=help_text(flag, defaults), show_default=False, metavar=metavar,
                          hidden=flag.hidden)
    return annotation, option


def with_flags(flags: dict[str, Flag], into: str, defaults: bool = True):
    """Adds ``flags`` (parameter name -> Flag) to a command; it receives the settings they
    set as the dict argument ``into``, only those given. ``defaults``: say each default."""

    def decorate(command):
        signature = inspect.signature(command)
        kept = [p for p in signature.parameters.values() if p.name != into]
        added = []
        for name, flag in flags.items():
            annotation, option = typer_option(name, flag, defaults)
            added.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY,
                                           default=option, annotation=annotation))

        @functools.wraps(command)
        def wrapper(**kwargs):
            chosen = {flag.setting: flag.value(kwargs.pop(name)) for name, flag in flags.items()}
            return command(**kwargs, **{into: {k: v for k, v in chosen.items()
                                               if v is not None}})

        wrapper.__signature__ = signature.replace(parameters=[*kept, *added])
        return wrapper

    return decorate


# ---- the tables --------------------------------------------------------------------------------

VIDEO_FLAGS = {
    "resolution": Flag("resolution", kind=Resolution),
    "preview": Switch("preview", "--preview"),
    "aspect": Flag("aspect", kind=Aspect),
    "fps": Flag("fps"),
    "seed": Flag("seed"),
    "transition": Flag("transition", kind=Transition),
    "burn_subtitles": Toggle("burn_subtitles", "--burn-subtitles/--no-burn-subtitles"),
    "card_text": Flag("card_text"),
    "subtitle_font": Flag("subtitle_font"),
    "subtitle_fonts_dir": Flag("subtitle_fonts_dir"),
    "subtitle_size": Flag("subtitle_size"),
    "subtitle_outline": Flag("subtitle_outline"),
    "subtitle_position": Flag("subtitle_position", kind=SubtitlePosition),
    "subtitle_box": Toggle("subtitle_box", "--subtitle-box/--no-subtitle-box"),
    "subtitle_max_cps": Flag("subtitle_max_cps", kind=str),  # or a preset: adult, children
    "timeline_formats": Flag("timeline_formats"),
    "subtitle_speakers": Toggle("subtitle_speakers",
                                "--subtitle-speakers/--no-subtitle-speakers"),
    "rendition": Flag("renditions", ("--rendition",), kind=str, multiple=True,
                      help="Another output WIDTHxHEIGHT, e.g. 1080x1920; repeat for more."),
    "qc_strict": Switch("qc_strict", "--qc-strict"),
    "encoder": Flag("encoder"),
}
SOUND_FLAGS = {
    "loudness": Flag("loudness", kind=str),  # or a preset: web, podcast, broadcast
    "stems": Flag("stems"),
    "stems_bit_depth": Flag("stems_bit_depth", metavar="16|24"),
    "music": Flag("music", metavar="FILE|none"),
    "music_volume": Flag("music_volume", metavar="0-4"),
    "ambience_volume": Flag("ambience_volume", metavar="0-4"),
}
# --voice and --voices are the render command's own: one names a backend and a voice at
# once, the other a file (cli/render.py).
SPEECH_FLAGS = {
    "speed": Flag("tts_speed", ("--speed",)),
    "temperature": Flag("tts_temperature", ("--temperature",)),
    "bark_model": Flag("bark_model"),
    "bark_decoding": Flag("bark_decoding"),
}
FARM_FLAGS = {"address": Flag("ray_address", ("--address",))}
# Moving shots (README "Moving shots"): the video model and how its clips fill a scene; the
# other LTX options by VIDGEN_LTX_... (and `vidgen farm start` for what its workers load).
# Talking shots (README "Talking shots"): --shots talking, and LTX-2's weights; its other
# options by VIDGEN_LTX2_...
MOTION_FLAGS = {
    "video_model": Flag("video_model"),
    "max_clips_per_scene": Flag("max_clips_per_scene"),
    "clip_crossfade": Flag("clip_crossfade"),
    "ltx_model": Flag("ltx_model"),
    "ltx_steps": Flag("ltx_steps"),
    "ltx_frames": Flag("ltx_frames"),
    "ltx_clip_side": Flag("ltx_clip_side"),
    "shots": Flag("shots"),
    "ltx2_model": Flag("ltx2_model"),
}
# Picture flags shared by render and portraits.
IMAGE_FLAGS = {
    "images": Flag("image_model", ("--images",)),
    "sdxl_model": Flag("sdxl_model"),
    "image_resolution": Flag("image_resolution"),
    "guidance_scale": Flag("image_guidance_scale", ("--guidance-scale",)),
    "steps": Flag("image_inference_steps", ("--steps",)),
    "fast": Switch("image_preset", "--fast", sets="fast"),
    "scheduler": Flag("image_scheduler", ("--scheduler",)),
    "negative_prompt": Flag("image_negative_prompt", ("--negative-prompt",)),
    "style": Flag("image_style", ("--style",)),
    "safety_checker": Toggle("image_safety_checker", "--safety-checker/--no-safety-checker"),
    "safety_checker_model": Flag("safety_checker_model"),
    "half_precision": Toggle("half_precision", "--half-precision/--full-precision"),
    "half_dtype": Flag("image_half_dtype", ("--half-dtype",)),
    "cpu_offload": Switch("cpu_offload", "--cpu-offload"),
    "attention": Flag("attention"),
    "compile": Switch("compile", "--compile"),
    "refiner": Flag("sdxl_refiner", ("--refiner",)),
    "ip_adapter": Flag("ip_adapter"),
    "ip_adapter_scale": Flag("ip_adapter_scale"),
    "upscaler": Flag("upscaler"),
    "offline": Toggle("offline", "--offline/--online"),
    "image_batch_size": Flag("image_batch_size"),
    "image_fast_path": Flag("image_fast_path"),
    "image_fast_lora": Flag("image_fast_lora"),
}
# Script analysis flags shared by render, analyze, plan and write (README "Script analysis
# with Gemini or a local model").
LLM_FLAGS = {
    "llm": Flag("llm"),
    "llm_model": Flag("llm_model"),
    "llm_base_url": Flag("llm_base_url"),
    "llm_temperature": Flag("llm_temperature"),
    "llm_max_tokens": Flag("llm_max_tokens"),
    "llm_requests_per_minute": Flag("llm_requests_per_minute"),
    "llm_timeout": Flag("llm_timeout"),
    "llm_retries": Flag("llm_retries"),
    "llm_rewrite": Switch("llm_rewrite", "--llm-rewrite", "--rewrite"),
    "llm_cache_dir": Flag("llm_cache_dir"),
}
# Generated beds (README "Music and ambience made for the scene"): who makes each bed; the
# other Stable Audio options by VIDGEN_STABLE_AUDIO_... (and `vidgen farm start`).
BEDS_FLAGS = {
    "music_model": Flag("music_model"),
    "ambience_model": Flag("ambience_model"),
    "stable_audio_model": Flag("stable_audio_model"),
    "stable_audio_steps": Flag("stable_audio_steps"),
}
RENDER_FLAGS = {**VIDEO_FLAGS, **SOUND_FLAGS, **SPEECH_FLAGS, **MOTION_FLAGS, **BEDS_FLAGS,
                **FARM_FLAGS}
# What plan asks: the frame, and the cluster to plan for (it starts no Ray of its own).
PLAN_FLAGS = {
    "resolution": VIDEO_FLAGS["resolution"], "aspect": VIDEO_FLAGS["aspect"],
    "address": Flag("ray_address", ("--address",), help="Ray cluster to plan for (default: "
                    "$RAY_ADDRESS, else this machine's resources)."),
}
# submit's own flags for the common settings; --set NAME=VALUE sends any other.
SUBMIT_FLAGS = {name: flag for name, flag in {**VIDEO_FLAGS, **SOUND_FLAGS, **SPEECH_FLAGS,
                                              **IMAGE_FLAGS}.items()
                if name in ("resolution", "aspect", "fps", "images", "speed", "seed",
                            "loudness")}

with_image_options = with_flags(IMAGE_FLAGS, into="image_settings")
with_llm_options = with_flags(LLM_FLAGS, into="llm_settings")
