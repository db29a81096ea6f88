"""What a job needs to run, checked before it is accepted rather than when it fails later.

* the backends' packages are installed here (``importlib.util.find_spec``: nothing is
  imported, so torch is not loaded into the service to answer a submit);
* every espeak-ng voice and language the job names exists (the voice list is read from
  espeak-ng once per process, see speech/espeak.py);
* the folders and model paths the settings name exist;
* the video encoder asked for works here (``check_encoder``, for a render whose chunks this
  machine encodes: NVENC by a trial encode; a farm asks a node where chunks run instead).

Each check raises SettingsError naming the request field at fault (``settings.tts_voice``,
``storyboard.language``...). ``for_client``: the message is for an API client, who cannot
install anything; the operator's fix (the pip command) goes to the log instead.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

from vidgen_ray.config import RenderSettings
from vidgen_ray.errors import DependencyError, SettingsError
from vidgen_ray.pipeline import encoders
from vidgen_ray.pipeline.filtergraph import path_value
from vidgen_ray.storyboard import Storyboard

log = logging.getLogger("vidgen.preflight")
INSTALL_HINT = "pip install 'vidgen-ray[models]'"
# The top-level packages each model backend imports when its worker loads.
BACKEND_MODULES: dict[str, tuple[str, ...]] = {
    "bark": ("torch", "transformers"),
    "sdxl": ("torch", "diffusers", "transformers"),
    "kokoro": ("torch", "transformers", "kokoro", "loguru"),
    "ltx": ("torch", "diffusers", "transformers"),
    "ltx2": ("torch", "diffusers", "transformers"),
    "stable_audio": ("torch", "diffusers", "transformers", "torchsde"),  # its SDE sampler
}
# Model settings that may name a local folder, and the backend that reads each.
MODEL_PATHS = {"bark_model": "bark", "sdxl_model": "sdxl", "sdxl_refiner": "sdxl",
               "ip_adapter": "sdxl", "safety_checker_model": "sdxl", "upscaler": "sdxl",
               "kokoro_model": "kokoro", "ltx_model": "ltx", "ltx2_model": "ltx2",
               "stable_audio_model": "stable_audio"}


def check_job(storyboard: Storyboard, settings: RenderSettings, *, source: str = "storyboard",
              for_client: bool = True) -> None:
    """Everything below, in order; ``source`` is the request field the storyboard came
    from ("script" or "storyboard"), named for a bad language."""
    check_backends(settings, for_client=for_client)
    check_paths(settings)
    check_voices(storyboard, settings, source=source)


def missing_modules(backend: str) -> list[str]:
    return [name for name in BACKEND_MODULES.get(backend, ())
            if importlib.util.find_spec(name) is None]


def backends_used(settings: RenderSettings) -> dict[str, str]:
    """The setting that chooses each backend a job loads -> that backend."""
    return {"tts_model": settings.tts_model, "image_model": settings.image_model,
            "video_model": settings.video_model, "shots": settings.talking_model,
            ("music_model" if settings.music_model != "procedural" else "ambience_model"):
                settings.bed_model}


def check_backends(settings: RenderSettings, *, for_client: bool = True) -> None:
    for field, backend in backends_used(settings).items():
        missing = missing_modules(backend)
        if not missing:
            continue
        asked = getattr(settings, field)
        operator = (f"{field} {asked!r} needs {', '.join(missing)}, not installed in this "
                    f"Python: {INSTALL_HINT}")
        if not for_client:
            raise DependencyError(operator)
        log.warning("refused a job: %s", operator)
        raise SettingsError(f"this service cannot run {field} {asked!r} (its model "
                            "packages are not installed): choose another one, or ask the "
                            "service's operator", field=f"settings.{field}")


def check_paths(settings: RenderSettings) -> None:
    """Folders the settings name exist. Model settings that look like paths (not hub ids)
    must exist, for the backend the job uses."""
    used = set(backends_used(settings).values())
    for field, backend in MODEL_PATHS.items():
        value = getattr(settings, field)
        if backend in used and value and _looks_like_path(value) \
                and not Path(value).expanduser().exists():
            raise SettingsError(f"{field} {value!r} is a path that does not exist: give an "
                                "existing model folder or a model id", field=f"settings.{field}")
    if settings.burn_subtitles and not Path(settings.subtitle_fonts_dir).is_dir():
        raise SettingsError(f"subtitle_fonts_dir {settings.subtitle_fonts_dir!r} is not a "
                            "folder: give the folder holding the subtitle font",
                            field="settings.subtitle_fonts_dir")
    if settings.burn_subtitles:  # refused now, not when the first chunk is burned
        path_value(settings.subtitle_fonts_dir, "settings.subtitle_fonts_dir")


def check_encoder(settings: RenderSettings, *, for_client: bool = True) -> None:
    """encoder nvenc is refused where NVENC does not encode (SettingsError naming the problem
    and the fix; ``for_client``: the details go to the log), asked of this machine: for a
    render whose chunks it encodes (the CLI's, before Ray starts). Not part of check_job: the
    service's machine need not be the one that encodes, so the farm asks a node where chunk
    tasks run at submit (farm/pools.py). auto and x264 pass: the job flow resolves auto where
    the chunks run (pipeline/encoders.py)."""
    if settings.encoder == "nvenc":
        encoders.resolve_here("nvenc", for_client=for_client)


def _looks_like_path(value: str) -> bool:
    return value.startswith(("/", "./", "../", "~")) or value.endswith(".npz")


def check_voices(storyboard: Storyboard, settings: RenderSettings, *,
                 source: str = "storyboard") -> None:
    """espeak-ng voices and languages: the storyboard's and each line's language, the
    narrator voice, each character's voice and each pinned (cast) voice. Kokoro: the
    languages (its voices need the model folder, checked where the workers load it)."""
    if settings.tts_model == "kokoro":
        _check_kokoro_languages(storyboard, source)
    if settings.tts_model != "espeak":
        return
    from vidgen_ray.speech.espeak import EspeakBackend, check_voice, voice_for_language

    try:
        catalog = EspeakBackend().catalog()
    except DependencyError as exc:  # not on this node: the speech workers check it later
        log.warning("cannot check espeak-ng voices here: %s", exc)
        return
    language_field = "storyboard.language" if source == "storyboard" else source
    check_voice(storyboard.language, catalog, field=language_field)
    for s, scene in enumerate(storyboard.scenes):
        for n, line in enumerate(scene.lines):
            if line.language:
                check_voice(line.language, catalog,
                            field=f"{source}.scenes.{s}.lines.{n}.language"
                            if source == "storyboard" else source)
    language = storyboard.language
    if settings.tts_voice:
        check_voice(settings.tts_voice, catalog, field="settings.tts_voice")
    for index, character in enumerate(storyboard.characters):
        if character.voice:
            check_voice(character.voice, catalog,
                        field=f"storyboard.characters.{index}.voice")
    for speaker, voice in settings.voices.items():
        check_voice(voice_for_language(voice, language), catalog,
                    field=f"settings.voices.{speaker}")


def _check_kokoro_languages(storyboard: Storyboard, source: str) -> None:
    from vidgen_ray.speech.kokoro_text import check_language

    fields = [("storyboard.language" if source == "storyboard" else source,
               storyboard.language)]
    fields += [(f"{source}.scenes.{s}.lines.{n}.language" if source == "storyboard" else source,
                line.language) for s, scene in enumerate(storyboard.scenes)
               for n, line in enumerate(scene.lines) if line.language]
    for field, language in fields:
        try:
            check_language(language)
        except SettingsError as exc:
            raise SettingsError(exc.message, field=field) from None
