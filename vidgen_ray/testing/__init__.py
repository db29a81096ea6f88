"""Backends for tests and benchmarks: they speak the real protocols, behave like slow models,
and need no GPU, no download and no external program."""

from vidgen_ray.testing.fake_backends import SlowImageBackend, SlowSpeechBackend

__all__ = ["SlowImageBackend", "SlowSpeechBackend"]
