"""Settings in sections: each field in one section, its owner (job, farm, server) as a marker
that the service, the manifest and the worker pools ask, and the old name of voices still
read everywhere a setting enters."""

from __future__ import annotations

import pytest

from vidgen_ray.config import (
    BACKEND_SETTINGS,
    SECTIONS,
    RenderSettings,
    backend_options,
    fields_of,
    load_fields,
    load_settings,
    scope_of,
    unrecorded_fields,
)
from vidgen_ray.config.backends.loading import ModelLoading
from vidgen_ray.config.farm import FarmSection
from vidgen_ray.errors import SettingsError
from vidgen_ray.service.job_settings import SERVER_ONLY, JobSettings


def test_every_field_is_in_exactly_one_section():
    owners: dict[str, list[str]] = {}
    for section in SECTIONS:
        for name in section.model_fields:
            owners.setdefault(name, []).append(section.__name__)
    assert set(owners) == set(RenderSettings.model_fields)
    shared = set(ModelLoading.model_fields)  # how models load: SDXL, Bark, LTX, Stable Audio
    assert {n: s for n, s in owners.items() if len(s) > 1 and n not in shared} == {}


def test_the_farms_and_the_servers_fields_are_marked():
    assert fields_of(RenderSettings, "farm") == (
        "image_fast_path", "image_fast_lora", "ltx_model", "ltx_half_dtype", "ltx_vae_tiling",
        "ltx2_model", "ltx2_half_dtype", "ltx2_vae_tiling", "ltx2_cross_timestep",
        "stable_audio_model", "stable_audio_half_dtype",
        "image_workers", "speech_workers", "max_in_flight",
        "image_batch_size", "speech_batch_size", "image_gpu_gb", "speech_gpu_gb", "gpu_memory_gb",
        "pool_idle_timeout_s")
    assert set(fields_of(RenderSettings, "server")) == {
        "ray_address", "ffmpeg_threads", "llm_base_url", "llm_requests_per_minute",
        "llm_timeout", "llm_retries", "llm_cache_dir"}
    assert set(fields_of(FarmSection, "job")) == set()
    assert scope_of(RenderSettings.model_fields["fps"]).owner == "job"


def test_a_request_carries_only_the_jobs_fields():
    every = set(RenderSettings.model_fields)
    assert set(SERVER_ONLY) == every - set(fields_of(RenderSettings, "job"))
    assert set(JobSettings.model_fields) == set(fields_of(RenderSettings, "job"))
    with pytest.raises(ValueError, match="image_workers"):
        JobSettings.model_validate({"image_workers": 2})


def test_the_manifest_records_what_shapes_the_video_and_how_the_model_was_called():
    recorded = load_settings(image_workers=3, ray_address="ray://head:10001").for_manifest()
    assert not set(unrecorded_fields(RenderSettings)) & set(recorded)
    assert {"llm_requests_per_minute", "llm_timeout", "llm_retries", "fps"} <= set(recorded)
    assert {"image_fast_path", "image_fast_lora"} <= set(recorded)  # farm's, but they draw
    assert {"image_workers", "ray_address", "ffmpeg_threads", "llm_base_url",
            "llm_cache_dir"}.isdisjoint(recorded)


def test_each_backend_declares_what_its_workers_load():
    assert set(BACKEND_SETTINGS) == {"sdxl", "bark", "kokoro", "ltx", "ltx2", "stable_audio"}
    assert load_fields("cards") == load_fields("espeak") == ()
    assert set(load_fields("kokoro")) == {"kokoro_model", "offline"}
    assert "image_batch_size" in load_fields("sdxl")  # its pipeline is built per batch
    a = load_settings(image_model="sdxl", image_batch_size=2)
    b = load_settings(image_model="sdxl", image_batch_size=4)
    assert backend_options(a, "image") != backend_options(b, "image")
    c = load_settings(image_model="cards", image_batch_size=2)
    assert backend_options(c, "image") == ("cards", ())
    # A motion pool is keyed by the LTX weights and how they load, not by each clip's shape.
    ltx = load_settings(video_model="ltx", ltx_steps=8, ltx_frames=9)
    assert backend_options(ltx, "motion") == backend_options(
        load_settings(video_model="ltx"), "motion")
    assert backend_options(ltx, "motion")[0] == "ltx"
    assert backend_options(load_settings(), "motion") == ("none", ())
    # One bed pool whichever bed asks for Stable Audio, keyed by what it loads, not by steps.
    music = load_settings(music_model="stable_audio", stable_audio_steps=8)
    assert backend_options(music, "beds") == backend_options(
        load_settings(ambience_model="stable_audio"), "beds")
    assert backend_options(music, "beds")[0] == "stable_audio"
    assert backend_options(load_settings(), "beds") == ("procedural", ())


@pytest.mark.parametrize("key", ["voices", "cast"])
def test_voices_read_by_name_and_by_its_old_name(key, monkeypatch):
    assert load_settings(**{key: {"MARA": "en+f3"}}).voices == {"MARA": "en+f3"}
    assert JobSettings.model_validate({key: {"MARA": "en+f3"}}).voices == {"MARA": "en+f3"}
    monkeypatch.setenv(f"VIDGEN_{key.upper()}", '{"ELIAS": "en+m3"}')
    settings = load_settings()
    assert settings.voices == {"ELIAS": "en+m3"} and not hasattr(settings, "cast")


def test_a_bad_voices_value_names_the_setting():
    with pytest.raises(SettingsError) as info:
        load_settings(voices={"MARA": 3})
    assert info.value.field.startswith("voices")


def test_the_request_schema_names_voices():
    properties = JobSettings.model_json_schema()["properties"]
    assert "voices" in properties and "cast" not in properties
    fps = next(t for t in properties["fps"]["anyOf"] if t.get("type") == "integer")
    assert (fps["minimum"], fps["maximum"]) == (12, 60)  # the field's bounds, as before
