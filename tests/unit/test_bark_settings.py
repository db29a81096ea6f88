"""Bark's settings: names users know, bounded, and the load fields that key worker pools."""

from __future__ import annotations

import pytest

from vidgen_ray.config import backend_options, load_fields, load_settings
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


def test_pools_differ_only_when_what_bark_loads_differs():
    a = load_settings(tts_model="bark")
    for loaded in ({"bark_model": "suno/bark-small"}, {"bark_decoding": "transformers"},
                   {"half_precision": False}, {"attention": "eager"}, {"offline": True}):
        assert backend_options(a, "speech") != backend_options(
            load_settings(tts_model="bark", **loaded), "speech"), loaded
    for per_line in ({"tts_temperature": 0.5}, {"tts_speed": 1.5}):  # sent with each line
        assert backend_options(a, "speech") == backend_options(
            load_settings(tts_model="bark", **per_line), "speech"), per_line
    assert "tts_temperature" not in load_fields("bark")
    assert set(load_fields("bark")) <= set(type(a).model_fields)
