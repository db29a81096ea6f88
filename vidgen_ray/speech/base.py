"""What a speech backend is: lines of text in, mono samples out."""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from vidgen_ray.storyboard import Storyboard


@dataclass(frozen=True)
class SpeechRequest:
    text: str
    voice: str
    language: str
    speed: float = 1.0
    # Sampling temperature, for backends that sample (Bark); None: the backend's default.
    # It travels with the line so one resident model serves every job's temperature. Left
    # out of the repr, which content keys hash: it enters them through the version
    # (speech.key_version), as it did when each temperature had its own worker.
    temperature: float | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Speech:
    samples: np.ndarray  # int16, mono
    sample_rate: int

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate

    def to_wav(self) -> bytes:
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(self.sample_rate)
            out.writeframes(np.asarray(self.samples, dtype="<i2").tobytes())
        return buffer.getvalue()

    @classmethod
    def from_wav(cls, data: bytes) -> Speech:
        with wave.open(io.BytesIO(data), "rb") as wav:
            if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
                raise ValueError("expected 16-bit mono WAV")
            frames = wav.readframes(wav.getnframes())
            return cls(np.frombuffer(frames, dtype="<i2").copy(), wav.getframerate())


class SpeechBackend(Protocol):
    name: str

    def version(self) -> str:
        """Backend and model version, recorded in the manifest and in content keys."""
        ...

    def cast(self, storyboard: Storyboard, narrator_voice: str | None) -> dict[str, str]:
        """A voice for every speaker (every character and NARRATOR); written voices are kept,
        unknown ones raise SettingsError naming the voice and how to list valid ones."""
        ...

    def synthesize(self, requests: list[SpeechRequest]) -> list[Speech]:
        """One Speech per request, in order."""
        ...
