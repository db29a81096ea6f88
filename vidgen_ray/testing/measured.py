"""Fakes that take a measured model's time: a call of B requests sleeps ``fixed_s + B *
per_request_s``, the shape of a GPU call's cost (a batch shares the fixed part: Bark's 12
lines cost 2.6 s where one costs 1.4 s). The e2e benchmark's projection runs a whole render
on logical GPUs with them, from per-request latencies measured on a card."""

from __future__ import annotations

import time

from vidgen_ray.testing.fake_backends import SlowImageBackend, SlowSpeechBackend


class MeasuredImageBackend(SlowImageBackend):
    name = "measured-image"

    def __init__(self, fixed_s: float, per_request_s: float):
        super().__init__(latency_s=per_request_s, per_request=True)
        self.fixed_s = fixed_s

    def version(self) -> str:
        return f"measured-image-1 ({self.fixed_s} s + {self.latency_s} s a picture)"

    def _sleep(self, size: int) -> float:
        start = time.time()
        time.sleep(self.fixed_s + self.latency_s * size)
        return start


class MeasuredSpeechBackend(SlowSpeechBackend):
    name = "measured-speech"

    def __init__(self, fixed_s: float, per_request_s: float):
        super().__init__(latency_s=per_request_s, per_request=True)
        self.fixed_s = fixed_s

    def version(self) -> str:
        return f"measured-speech-1 ({self.fixed_s} s + {self.latency_s} s a line)"

    def _sleep(self, size: int) -> float:
        start = time.time()
        time.sleep(self.fixed_s + self.latency_s * size)
        return start
