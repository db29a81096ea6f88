"""Slow fake backends: a model's latency and its contract, nothing else.

Each call sleeps (``latency_s`` per call, or per request with ``per_request=True``, which
is how a batch costs on a saturated GPU) and returns small valid outputs. Every call is
logged as (start, end, pid, batch size) with wall-clock times, so tests can compute how many
calls really ran at once across worker processes; workers report the log in ``health()``.
"""

from __future__ import annotations

import io
import os
import tempfile
import time
from functools import lru_cache

import numpy as np
from PIL import Image

from vidgen_ray.errors import RenderError, SettingsError
from vidgen_ray.images.base import ImageRequest
from vidgen_ray.speech.base import Speech, SpeechRequest
from vidgen_ray.storyboard import NARRATOR, Storyboard

MAX_SIDE = 8192
LINGER = "LINGER"  # a scene whose title holds it takes SlowImageBackend's linger_s longer


class _CallLog:
    def __init__(self, latency_s: float = 0.5, per_request: bool = False):
        self.latency_s = latency_s
        self.per_request = per_request
        self._calls: list[dict] = []

    def call_log(self) -> list[dict]:
        """One entry per call: start, end (time.time()), pid, size, ok (False: rejected)."""
        return list(self._calls)

    def _reject(self, size: int, error: Exception) -> Exception:
        self._log(time.time(), size, ok=False)
        return error

    def _sleep(self, size: int) -> float:
        start = time.time()
        time.sleep(self.latency_s * (size if self.per_request else 1))
        return start

    def _log(self, start: float, size: int, ok: bool = True) -> None:
        self._calls.append({"start": start, "end": time.time(), "pid": os.getpid(),
                            "size": size, "ok": ok})


class SlowImageBackend(_CallLog):
    """ImageBackend: one flat-coloured PNG of the requested size per request. With
    ``fail_scene`` set, that scene's picture fails every time, as a broken model would. A
    scene whose title holds LINGER takes ``linger_s`` more: a job that is held running while
    its earlier scenes are done (the live preview's tests)."""

    def __init__(self, latency_s: float = 0.5, per_request: bool = False,
                 fail_scene: int | None = None, log_path: str | None = None,
                 linger_s: float = 12.0):
        super().__init__(latency_s, per_request)
        self.fail_scene, self.linger_s = fail_scene, linger_s
        self.log_path = log_path  # one line per picture made, across processes and restarts

    name = "slow-image"

    def version(self) -> str:
        return f"slow-image-1 ({self.latency_s} s)"

    def generate(self, requests: list[ImageRequest]) -> list[bytes]:
        for request in requests:  # before the sleep: a model checks its inputs first
            if not (0 < request.width <= MAX_SIDE and 0 < request.height <= MAX_SIDE):
                raise self._reject(len(requests), SettingsError(
                    f"scene {request.scene_number}: image size {request.width}x"
                    f"{request.height} is outside 1..{MAX_SIDE} pixels", field="resolution"))
        start = self._sleep(len(requests))
        if any(LINGER in r.title for r in requests):
            time.sleep(self.linger_s)
        for request in requests:
            if request.scene_number == self.fail_scene:
                raise self._reject(len(requests), RenderError(
                    f"the model produced no image for scene {request.scene_number}"))
        pngs = [_png(r.width, r.height, r.seed % 256) for r in requests]
        self._log(start, len(requests))
        if self.log_path:
            with open(self.log_path, "a", encoding="utf-8") as log:
                log.writelines(f"{r.scene_number} {os.getpid()}\n" for r in requests)
        return pngs


class SlowSpeechBackend(_CallLog):
    """SpeechBackend: a quiet tone, 60 ms per character of text, per request."""

    name = "slow-speech"
    sample_rate = 16_000

    def version(self) -> str:
        return f"slow-speech-1 ({self.latency_s} s)"

    def cast(self, storyboard: Storyboard, narrator_voice: str | None) -> dict[str, str]:
        voices = {NARRATOR: narrator_voice or "fake"}
        voices |= {c.name: c.voice or "fake" for c in storyboard.characters}
        return voices

    def synthesize(self, requests: list[SpeechRequest]) -> list[Speech]:
        for request in requests:
            if not request.text.strip():
                raise self._reject(len(requests), SettingsError(
                    "a speech request has no text: give every line words", field="text"))
        start = self._sleep(len(requests))
        speeches = [_tone(len(r.text) * 0.06, self.sample_rate) for r in requests]
        self._log(start, len(requests))
        return speeches


@lru_cache(maxsize=64)
def _png(width: int, height: int, shade: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (shade, 64, 128)).save(buffer, "PNG")
    return buffer.getvalue()


def _tone(seconds: float, rate: int) -> Speech:
    t = np.arange(max(1, int(seconds * rate))) / rate
    return Speech((np.sin(2 * np.pi * 220 * t) * 3000).astype(np.int16), rate)


# ---- backends that fail on cue, as broken models do --------------------------------------------

CRASH, SMUDGE, STAMMER = "CRASH", "SMUDGE", "STAMMER"


class FlakyImageBackend(SlowImageBackend):
    """A scene whose title holds CRASH makes the model crash the way third-party code does
    (a plain Python error naming a temporary file); one holding SMUDGE gets bytes that are
    no PNG, so FFmpeg fails when it encodes that scene's chunk."""

    name = "flaky-image"

    def generate(self, requests: list[ImageRequest]) -> list[bytes]:
        for request in requests:
            if CRASH in request.title:
                raise self._reject(len(requests), ValueError(
                    f"cannot load weights from {tempfile.gettempdir()}/unet/model.bin"))
        pngs = super().generate(requests)
        return [b"not a png" if SMUDGE in r.title else png
                for r, png in zip(requests, pngs, strict=True)]


class FlakySpeechBackend(SlowSpeechBackend):
    """A line holding STAMMER makes the model fail with an OSError naming a temporary file."""

    name = "flaky-speech"

    def synthesize(self, requests: list[SpeechRequest]) -> list[Speech]:
        for request in requests:
            if STAMMER in request.text:
                raise self._reject(len(requests), OSError(
                    f"voice cache {tempfile.gettempdir()}/voices/fake.npz is unreadable"))
        return super().synthesize(requests)


class DyingImageBackend(SlowImageBackend):
    """A model that kills its process on every call, as running out of memory or a crash in
    native code does: Ray restarts the worker, and the call must not be resent for ever."""

    name = "dying-image"

    def generate(self, requests: list[ImageRequest]) -> list[bytes]:
        os._exit(137)  # what the kernel's OOM killer leaves
