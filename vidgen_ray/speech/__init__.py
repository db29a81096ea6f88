"""Speech backends: every line of a storyboard to a WAV. Imports stay light: a backend's
module (and its heavy libraries) loads only when that backend is created."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vidgen_ray.errors import SettingsError

if TYPE_CHECKING:
    from vidgen_ray.config import RenderSettings
    from vidgen_ray.speech.base import SpeechBackend

SPEECH_BACKENDS = ("espeak", "bark", "kokoro")


def parse_voice_option(value: str) -> tuple[str | None, str | None]:
    """What ``--voice`` names: a backend (``bark``), a backend and its voice
    (``bark:v2/en_speaker_3``, ``espeak:en+m3``), or a voice of the current backend
    (``en+m3``). Returns (backend or None, voice or None)."""
    if value in SPEECH_BACKENDS:
        return value, None
    backend, colon, voice = value.partition(":")
    if colon and backend in SPEECH_BACKENDS:
        if not voice:
            raise SettingsError(f"--voice {value!r} names no voice after the colon: write "
                                f"{backend}:VOICE, or just {backend}", field="tts_voice")
        return backend, voice
    return None, value


def create_speech_backend(name: str, settings: RenderSettings | None = None) -> SpeechBackend:
    """The speech backend called ``name`` (``settings.tts_model``), ready to use."""
    if name == "espeak":
        from vidgen_ray.speech.espeak import EspeakBackend

        return EspeakBackend()
    if name == "bark":
        from vidgen_ray.speech.bark import BarkBackend, BarkOptions

        return BarkBackend(BarkOptions.from_settings(settings) if settings else None)
    if name == "kokoro":
        from vidgen_ray.speech.kokoro import KokoroBackend, KokoroOptions

        return KokoroBackend(KokoroOptions.from_settings(settings) if settings else None)
    raise SettingsError(
        f"unknown speech backend {name!r}: choose one of {', '.join(SPEECH_BACKENDS)}",
        field="tts_model",
    )


def key_version(settings: RenderSettings, version: str) -> str:
    """The version a line's content key names: the workers' (what they loaded), plus for
    Bark the job's temperature, which travels with each line."""
    if settings.tts_model != "bark":
        return version
    from vidgen_ray.speech.bark import key_version as bark_key_version

    return bark_key_version(version, settings.tts_temperature)


def line_temperature(settings: RenderSettings) -> float | None:
    """The temperature each line is spoken at: Bark's setting; None for the backends that do
    not sample."""
    return settings.tts_temperature if settings.tts_model == "bark" else None
