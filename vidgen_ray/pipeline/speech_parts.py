"""The spoken lines of a job: who speaks with which voice, each line's request and key, and
each stored line's length, known once.

A line's key hashes its request and the speech backend's name and version, so a line made
before (by any job) is found again; its length fixes the timeline.
"""

from __future__ import annotations

from pathlib import Path

from vidgen_ray.config import RenderSettings
from vidgen_ray.errors import RenderError, SettingsError
from vidgen_ray.speech import create_speech_backend, key_version, line_temperature
from vidgen_ray.speech.base import Speech, SpeechRequest
from vidgen_ray.speech.voice_casting import apply_cast, write_cast
from vidgen_ray.storage import LocalStore, content_key
from vidgen_ray.storyboard import Storyboard


def cast_voices(storyboard: Storyboard, settings: RenderSettings, out_dir: Path
                ) -> dict[str, str]:
    """Every speaker's voice: the cast file's pins, then the backend's casting; written
    to cast.json at once, so a later job can pass it back with --voices."""
    board, narrator = apply_cast(storyboard, {"voices": settings.voices},
                                 settings.tts_model, settings.tts_voice)
    backend = create_speech_backend(settings.tts_model, settings)
    try:
        voices = backend.cast(board, narrator)
    except SettingsError as exc:
        if settings.voices:  # say where a pinned voice came from
            raise SettingsError(f"{exc.message} (voices pinned by --voices are checked "
                                "too: fix or delete that entry)", field="voices") from None
        raise
    out_dir.mkdir(parents=True, exist_ok=True)
    write_cast(out_dir / "cast.json", settings.tts_model, voices)
    return voices


def speech_parts(storyboard: Storyboard, settings: RenderSettings, voices: dict[str, str],
                 version: str) -> tuple[list[SpeechRequest], list[str]]:
    """Every line's request and content key, in script order. ``version``: the speech
    workers' (what they loaded); keys name it with the job's temperature (key_version)."""
    temperature = line_temperature(settings)
    requests = [SpeechRequest(text=line.text, voice=voices[line.speaker],
                              language=line.language or storyboard.language,
                              speed=settings.tts_speed, temperature=temperature)
                for scene in storyboard.scenes for line in scene.lines]
    version = key_version(settings, version)
    keys = [content_key("speech", backend=settings.tts_model, version=version, request=r)
            for r in requests]
    return requests, keys


def scene_of_line(storyboard: Storyboard) -> list[int]:
    """The scene each line (in script order) belongs to."""
    return [s for s, scene in enumerate(storyboard.scenes) for _ in scene.lines]


class LineLengths:
    """Each line's length and sample rate by key: taken from the WAV as it is stored, or read
    once from the store for a line stored before, never again."""

    def __init__(self, store: LocalStore):
        self.store = store
        self._known: dict[str, tuple[float, int]] = {}

    def note(self, key: str, wav: bytes) -> None:
        """A line just made: its length comes with it."""
        speech = Speech.from_wav(wav)
        self._known[key] = (speech.duration, speech.sample_rate)

    def duration(self, key: str) -> float:
        return self._get(key)[0]

    def check_one_rate(self, keys: list[str]) -> None:
        """The mix lays every line on one track: they must share a sample rate."""
        rates = {self._get(k)[1] for k in keys}
        if len(rates) != 1:
            raise RenderError(f"speech came at several sample rates {sorted(rates)}: the "
                              "parts folder mixes backends; delete its speech folder and "
                              "render again", stage="audio")

    def _get(self, key: str) -> tuple[float, int]:
        if key not in self._known:
            self.note(key, self.store.get(key))
        return self._known[key]
