"""SpeechWorker: one resident speech backend in one process (see image_worker.py)."""

from __future__ import annotations

from collections.abc import Callable

from vidgen_ray.actors.image_worker import health_info, process_info
from vidgen_ray.config import RenderSettings
from vidgen_ray.errors import VidgenError
from vidgen_ray.speech import create_speech_backend
from vidgen_ray.speech.base import SpeechBackend, SpeechRequest


class SpeechWorker:
    def __init__(self, backend_name: str, settings: RenderSettings,
                 factory: Callable[[], SpeechBackend] | None = None):
        self.served = 0
        self.failure: VidgenError | None = None
        try:
            self.backend = factory() if factory else create_speech_backend(backend_name, settings)
        except VidgenError as exc:  # kept for ready(): Ray would hide its type
            self.backend, self.failure = None, exc

    def ready(self) -> dict:
        """Where this worker runs: node, GPUs, process, backend version."""
        if self.failure:
            raise self.failure
        return process_info(self.backend)

    def health(self) -> dict:
        return health_info(self.backend, self.served)

    def synthesize(self, requests: list[SpeechRequest]) -> list[bytes]:
        """One WAV per request, in order."""
        if self.failure:
            raise self.failure
        wavs = [speech.to_wav() for speech in self.backend.synthesize(requests)]
        self.served += 1
        return wavs
