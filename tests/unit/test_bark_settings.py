"""Bark's settings: names users know, bounded, and the backend fields that key worker pools."""

from __future__ import annotations

import pytest

from vidgen_ray.config import backend_fields, backend_options, load_settings
from vidgen_ray.errors import SettingsError


def test_defaults_are_the_documented_ones():
    settings = load_settings(tts_model="bark")
    assert (settings.tts_temperature, settings.bark_model, settings.attention) == (
        0.7, "suno/bark", "sdpa")
    assert settings.half_precision is None and not settings.cpu_offload
    assert not settings.compile and settings.voices == {}


@pytest.mark.parametrize(("field", "value"), [
    ("tts_temperature", 0.0), ("tts_temperature", 3.0), ("attention", "xformers"),
    ("tts_model", "coqui"), ("bark_model", ""),
])
def test_bad_values_name_the_setting(field, value):
    with pytest.raises(SettingsError) as error:
        load_settings(**{field: value})
    assert field in str(error.value)


def test_offline_reads_vidgen_or_hugging_face_variables(monkeypatch):
    assert not load_settings().offline
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert load_settings().offline
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("VIDGEN_OFFLINE", "true")
    assert load_settings().offline


def test_pools_differ_when_a_setting_bark_reads_differs():
    a = load_settings(tts_model="bark")
    b = load_settings(tts_model="bark", tts_temperature=0.5)
    c = load_settings(tts_model="bark", tts_speed=1.5)  # per line, not per model
    assert backend_options(a, "speech") != backend_options(b, "speech")
    assert backend_options(a, "speech") == backend_options(c, "speech")
    assert set(backend_fields("bark")) >= {"bark_model", "tts_temperature", "half_precision",
                                            "cpu_offload", "attention", "compile"}
