"""SpeechWorker: one resident speech backend in one process."""

from __future__ import annotations

from collections.abc import Callable

from vidgen_ray.config import RenderSettings
from vidgen_ray.farm.actors.resident import Resident
from vidgen_ray.speech import create_speech_backend
from vidgen_ray.speech.base import SpeechBackend, SpeechRequest


class SpeechWorker(Resident):
    def __init__(self, backend_name: str, settings: RenderSettings,
                 factory: Callable[[], SpeechBackend] | None = None):
        super().__init__(factory or (lambda: _resident(backend_name, settings)))

    def synthesize(self, requests: list[SpeechRequest]) -> list[bytes]:
        """One WAV per request, in order."""
        backend = self._loaded()
        with self._timed_call(len(requests)):
            wavs = [speech.to_wav() for speech in backend.synthesize(requests)]
        self.served += 1
        return wavs


def _resident(name: str, settings: RenderSettings) -> SpeechBackend:
    """The backend with its model loaded now, so a pool is ready only once its models are
    (model backends have ``load``; the planning process, which only casts, never calls it)."""
    backend = create_speech_backend(name, settings)
    load = getattr(backend, "load", None)
    if load is not None:
        load()
    return backend
