"""SDXL's pure parts: sizes, prompts, options and what keys a pool, device checks, seeds,
upscale geometry."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from vidgen_ray.config import RenderSettings, backend_options, load_fields, load_settings
from vidgen_ray.config.backends.sdxl import SdxlSettings
from vidgen_ray.errors import SettingsError
from vidgen_ray.images.base import CharacterLook, ImageRequest
from vidgen_ray.images.prompts import (
    STYLES,
    generation_size,
    nearest_sdxl_size,
    parse_resolution,
    portrait_prompt,
    scene_prompt,
    try_seeds,
)
from vidgen_ray.images.sdxl_options import SdxlOptions, check_local, missing_model_hint, plan_device
from vidgen_ray.images.sdxl_sampling import job_digest, sampling_for, steps_of
from vidgen_ray.images.upscale import cover_box, fit_lanczos


@pytest.mark.parametrize(("aspect", "size"), [("16:9", (1344, 768)), ("9:16", (768, 1344)),
                                              ("1:1", (1024, 1024))])
def test_default_drawing_size_is_the_sdxl_size_nearest_the_video(aspect, size):
    settings = load_settings(image_model="sdxl", aspect=aspect, resolution="2160p")
    sampling = sampling_for(settings, *settings.size)
    assert (sampling.width, sampling.height) == size
    assert nearest_sdxl_size(*settings.size) == size


def test_resolution_setting_wins_and_bad_ones_name_the_fix():
    assert generation_size("640x360", (1280, 720)) == (640, 360)
    assert parse_resolution("1344X768") == (1344, 768)
    for bad in ("1344", "1340x768", "32x32", "axb"):
        with pytest.raises(SettingsError, match="image_resolution") as info:
            parse_resolution(bad)
        assert info.value.field == "image_resolution"


def test_steps_default_fast_preset_and_explicit():
    assert steps_of(load_settings()) == 50
    assert steps_of(load_settings(image_preset="fast")) == 30
    assert steps_of(load_settings(image_preset="fast", image_inference_steps=12)) == 12
    assert sampling_for(load_settings(image_inference_steps=12), 64, 64).steps == 12


def test_known_defaults():
    settings = RenderSettings()
    assert settings.image_guidance_scale == 7.5 and settings.image_safety_checker is True
    assert settings.sdxl_model == "stabilityai/stable-diffusion-xl-base-1.0"
    assert settings.attention == "sdpa" and settings.half_precision is None
    with pytest.raises(SettingsError, match="image_guidance_scale"):
        load_settings(image_guidance_scale=99)


# What each picture asks: it travels with the request, so changing it reuses the pool.
PER_REQUEST = {"image_resolution": "640x360", "image_guidance_scale": 3.0,
               "image_inference_steps": 12, "image_preset": "fast",
               "image_negative_prompt": "fog", "image_style": "anime", "refiner_start": 0.5,
               "ip_adapter_scale": 0.2, "aspect": "9:16", "resolution": "480p", "seed": 9}
# What a worker loads: changing it needs another pool.
LOADED = {"sdxl_model": "/models/other", "image_scheduler": "euler",
          "image_safety_checker": False, "safety_checker_model": "/models/checker",
          "image_half_dtype": "bf16", "sdxl_refiner": "/models/refiner",
          "ip_adapter": "/models/ip", "upscaler": "/models/x4", "half_precision": False,
          "cpu_offload": True, "attention": "eager", "compile": True, "offline": True,
          "image_batch_size": 2, "image_fast_path": "lcm", "image_fast_lora": "/models/lcm"}


def test_a_pool_is_keyed_by_what_is_loaded_not_by_what_is_asked():
    base = backend_options(load_settings(image_model="sdxl"), "image")
    for name, value in PER_REQUEST.items():
        assert backend_options(load_settings(image_model="sdxl", **{name: value}),
                               "image") == base, name
    for name, value in LOADED.items():
        assert backend_options(load_settings(image_model="sdxl", **{name: value}),
                               "image") != base, name
    assert set(load_fields("sdxl")) == set(LOADED)
    assert set(load_fields("sdxl")) <= set(RenderSettings.model_fields)
    # every SDXL option is one or the other (a new one must be sorted into either)
    unsorted = set(SdxlSettings.model_fields) - set(LOADED) - set(PER_REQUEST)
    assert not unsorted, unsorted


def test_the_options_loaded_are_the_load_fields():
    options = SdxlOptions.from_settings(load_settings(image_model="sdxl", **LOADED))
    assert (options.model, options.scheduler, options.refiner, options.batch_size) == (
        "/models/other", "euler", "/models/refiner", 2)
    assert not hasattr(options, "steps") and not hasattr(options, "size")


def test_offline_from_either_environment_variable(monkeypatch):
    assert RenderSettings().offline is False
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert RenderSettings().offline is True
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("VIDGEN_OFFLINE", "true")
    assert RenderSettings().offline is True


def test_scene_prompt_carries_each_present_characters_fixed_look_and_the_style():
    mara = CharacterLook("MARA", "a tall woman with a red coat", 11)
    tom = CharacterLook("TOM", "an old keeper with a white beard", 12)
    request = ImageRequest(1, "Night", "the lighthouse in a storm", ("MARA",), "tense", 64, 64,
                           5, looks=(mara, tom))
    prompt = scene_prompt(request, "watercolor")
    assert "the lighthouse in a storm" in prompt
    assert "Mara (a tall woman with a red coat)" in prompt
    assert "white beard" not in prompt  # not in this scene
    assert prompt.endswith(STYLES["watercolor"]) and "tense" in prompt
    assert "Mara (a tall woman with a red coat)" in portrait_prompt(mara, "anime")
    with pytest.raises(SettingsError, match="unknown image_style 'oil'"):
        scene_prompt(request, "oil")


def test_gpu_only_options_are_refused_on_a_cpu_with_the_fix():
    assert plan_device(SdxlOptions(), cuda=False).dtype == "float32"
    assert "slow" in plan_device(SdxlOptions(), cuda=False).warnings[0]
    for options in (SdxlOptions(half_precision=True), SdxlOptions(cpu_offload=True),
                    SdxlOptions(compile=True), SdxlOptions(attention="flash")):
        with pytest.raises(SettingsError, match="no CUDA GPU here"):
            plan_device(options, cuda=False)
    assert plan_device(SdxlOptions(), cuda=True).dtype == "float16"
    assert plan_device(SdxlOptions(half_dtype="bf16"), cuda=True).dtype == "bfloat16"
    assert plan_device(SdxlOptions(half_precision=False), cuda=True).dtype == "float32"


def test_missing_folder_and_missing_model_messages_say_how_to_get_it(tmp_path):
    with pytest.raises(SettingsError, match="does not exist"):
        check_local(str(tmp_path / "nope"), "sdxl_model")
    assert check_local("stabilityai/stable-diffusion-xl-base-1.0", "sdxl_model").count("/") == 1
    hint = missing_model_hint("org/model", "SDXL model", "--sdxl-model")
    assert "`VIDGEN_SDXL_MODEL=org/model vidgen models download sdxl`" in hint
    assert "--sdxl-model FOLDER" in hint


def test_job_digest_is_the_one_pictures_were_stored_under():
    """Digests computed by SdxlOptions.output_digest before the drawing options moved into
    the requests (issue 17): a picture's key names the same version text as then."""
    assert job_digest(load_settings(image_model="sdxl")) == "80fb29d632d7"
    assert job_digest(load_settings(
        image_model="sdxl", aspect="9:16", image_inference_steps=2, image_style="anime",
        ip_adapter="/x", half_precision=True)) == "de90754aafb7"
    assert job_digest(load_settings(image_model="sdxl", image_resolution="64x64",
                                    image_negative_prompt="dark")) == "ebc6297813bb"


def test_job_digest_follows_the_pixels_not_the_speed():
    base = job_digest(load_settings())
    assert base == job_digest(load_settings(compile=True, image_batch_size=1))
    assert base != job_digest(load_settings(image_inference_steps=30))
    assert base != job_digest(load_settings(image_style="anime"))
    assert base != job_digest(load_settings(aspect="9:16"))


def test_safety_retries_use_the_next_seeds():
    assert try_seeds(7) == [7, 8, 9, 10]
    assert try_seeds(2**32 - 1, 2) == [2**32 - 1, 0]


def test_upscale_crops_to_the_video_aspect_then_sharpens_when_enlarging():
    assert cover_box((1344, 768), (2560, 1440)) == (0, 6, 1344, 762)  # 1.75 -> 1.78
    assert cover_box((1024, 1024), (1280, 720)) == (0, 224, 1024, 800)
    picture = Image.new("RGB", (96, 64), (200, 10, 10))
    big, enlarged = fit_lanczos(picture, (320, 180))
    assert big.size == (320, 180) and enlarged
    small, enlarged = fit_lanczos(picture, (48, 27))
    assert small.size == (48, 27) and not enlarged


def test_enlarging_sharpens_beyond_plain_lanczos():
    rng = np.random.default_rng(0)
    picture = Image.fromarray(rng.integers(0, 255, (64, 96, 3), dtype=np.uint8))
    big, enlarged = fit_lanczos(picture, (320, 180))
    plain = picture.resize((320, 180), Image.LANCZOS, box=cover_box(picture.size, (320, 180)))
    assert enlarged and not np.array_equal(np.asarray(big), np.asarray(plain))
