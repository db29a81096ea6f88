"""What one API key may ask of the shared farm, apart from HTTP (requests.py applies it).

* Operator-only settings: the models a farm loads, how it loads them and the server folders
  it reads. Each distinct value of a setting a worker loads (config.load_fields: the model,
  its precision, the SDXL scheduler...) starts a resident pool of workers, so a key varying
  one value would churn the GPUs' models; a folder or a voice-prompt path reads files on the
  server. What a job asks of a loaded model (size, steps, style, temperature) is the
  tenant's: it travels with each request; LTX-Video's clip options and Stable Audio Open's
  bed options are the exception (each is GPU minutes of the shared farm's: the operator's).
  Only admin keys (``name:key:admin``) set them per job; for everyone else they are the service's.
* A priority cap for non-admin keys.
* Text that is text: a lone UTF-16 surrogate (valid in JSON, ``"\\ud800"``, but not
  Unicode text) cannot be encoded to UTF-8 and would fail when the request is saved, so it
  is refused at the edge, naming the field; so are control characters other than tab and
  newlines outside the script (the analyser judges the script itself).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from vidgen_ray.errors import SettingsError

OPERATOR_ONLY = (
    # models: each value is a pool of resident workers, or a folder on the server
    "sdxl_model", "bark_model", "sdxl_refiner", "ip_adapter", "upscaler",
    "safety_checker_model", "kokoro_model",
    # how models load and run: the hardware's and the operator's policy
    "image_safety_checker", "offline", "compile", "cpu_offload", "half_precision",
    "image_half_dtype", "attention", "bark_decoding", "image_scheduler",
    # LTX-Video's clips: their size, length and steps are GPU minutes of the shared farm's
    # (a tenant chooses video_model and how clips fill a scene, not what each clip costs)
    "ltx_clip_side", "ltx_frames", "ltx_steps", "ltx_guidance_scale", "ltx_fps",
    "ltx_decode_timestep", "ltx_decode_noise_scale", "ltx_negative_prompt",
    # LTX-2's talking clips, likewise (a tenant chooses shots, not what each clip costs)
    "ltx2_clip_side", "ltx2_fps", "ltx2_sigmas", "ltx2_image_crf", "ltx2_max_seconds",
    # Stable Audio Open's beds: steps and guidance are its cost (a tenant chooses
    # music_model / ambience_model, not what each bed costs); the negative prompt with them
    "stable_audio_steps", "stable_audio_guidance_scale", "stable_audio_negative_prompt",
    # folders on the server
    "subtitle_fonts_dir",
)
# Unicode's control characters (category Cc) but tab, line feed and carriage return.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def check_operator_settings(settings: Mapping[str, Any], admin: bool) -> None:
    """SettingsError (422) naming the first operator-only setting a non-admin key sent, or
    a voice given as a file path (a Bark voice prompt .npz is read from the server)."""
    if admin:
        return
    for name in OPERATOR_ONLY:
        if name in settings:
            raise SettingsError(f"settings.{name} is chosen by the service's operator, not per "
                                "job: leave it out (the service's own value is used), or ask "
                                "for an admin key", field=f"settings.{name}")
    voices = {"settings.tts_voice": settings.get("tts_voice")}
    voices |= {f"settings.voices.{name}": voice
               for name, voice in (settings.get("voices") or {}).items()}
    for field, voice in voices.items():
        if isinstance(voice, str) and _is_path(voice):
            raise SettingsError(f"{field}: a voice is a name (e.g. en+m3, v2/en_speaker_6), "
                                "not a file: voice prompt files are the operator's",
                                field=field)


def check_character_voices(voices: list[str | None], admin: bool) -> None:
    if admin:
        return
    for index, voice in enumerate(voices):
        if voice and _is_path(voice):
            raise SettingsError("a voice is a name (e.g. en+m3, v2/en_speaker_6), not a file: "
                                "voice prompt files are the operator's",
                                field=f"storyboard.characters.{index}.voice")


def _is_path(voice: str) -> bool:
    return voice.endswith(".npz") or voice.startswith(("/", ".", "~")) or "\\" in voice


def check_priority(priority: int, admin: bool, cap: int) -> None:
    if not admin and priority > cap:
        raise SettingsError(f"priority {priority} is above {cap}, the highest a job of this "
                            "key may have: send a priority of at most "
                            f"{cap}, or ask an admin to raise it", field="priority")


def check_text(value: Any, field: str, controls: bool = True) -> None:
    """Every string in ``value`` (dicts, lists, keys included) is Unicode text: no lone
    surrogate, and (``controls``) no control character but tab and newlines. SettingsError
    (422) names the field."""
    if isinstance(value, str):
        problem = _text_problem(value, controls)
        if problem:
            raise SettingsError(f"{field} {problem}: send it as valid UTF-8 text",
                                field=field)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            check_text(key, f"{field} (a key)", controls)
            check_text(item, f"{field}.{key}", controls)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            check_text(item, f"{field}.{index}", controls)


def _text_problem(text: str, controls: bool) -> str | None:
    try:
        text.encode("utf-8")  # in C: a 1 MB script is checked in a millisecond
    except UnicodeEncodeError as exc:
        return (f"holds a lone UTF-16 surrogate (U+{ord(text[exc.start]):04X} at character "
                f"{exc.start}), which is not text")
    found = _CONTROL.search(text) if controls else None
    if found:
        return (f"holds the control character U+{ord(found.group()):04X} at character "
                f"{found.start()}, which a title, name or setting cannot hold")
    return None


def safe_text(text: str) -> str:
    """``text`` with lone surrogates written as \\udXXX escapes: an error message that quotes
    a request can always be encoded as UTF-8."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
