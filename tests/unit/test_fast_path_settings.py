"""The fast picture path's pure parts: the steps and guidance it implies, the settings it
refuses, its place in the pool key and the content keys, and the one file of its repository
that `vidgen models download` fetches."""

from __future__ import annotations

import pytest

from vidgen_ray.config import RenderSettings, load_fields, load_settings
from vidgen_ray.errors import SettingsError
from vidgen_ray.images.sdxl_fast import FAST_PATHS, fast_path, sampling
from vidgen_ray.images.sdxl_options import SdxlOptions
from vidgen_ray.images.sdxl_sampling import job_digest, sampling_for
from vidgen_ray.models.registry import missing_files, models_for, pick, select_files

LIGHTNING_REPO = [  # ByteDance/SDXL-Lightning: checkpoints of 5-7 GB next to the LoRAs
    "README.md", "LICENSE.md", "sdxl_lightning_report.pdf",
    "comfyui/sdxl_lightning_workflow_lora.json",
    "sdxl_lightning_1step_unet_x0.safetensors", "sdxl_lightning_1step_x0.safetensors",
    "sdxl_lightning_2step.safetensors", "sdxl_lightning_2step_lora.safetensors",
    "sdxl_lightning_2step_unet.safetensors", "sdxl_lightning_4step.safetensors",
    "sdxl_lightning_4step_lora.safetensors", "sdxl_lightning_4step_unet.safetensors",
    "sdxl_lightning_8step_lora.safetensors", "sdxl_lightning_8step_unet.safetensors"]
HYPER_REPO = ["Hyper-SDXL-1step-Unet.safetensors", "Hyper-SDXL-1step-lora.safetensors",
              "Hyper-SDXL-2steps-lora.safetensors", "Hyper-SDXL-4steps-lora.safetensors",
              "Hyper-SDXL-8steps-lora.safetensors", "Hyper-SDXL-8steps-CFG-lora.safetensors",
              "Hyper-SD15-4steps-lora.safetensors", "README.md"]
LCM_REPO = ["README.md", "pytorch_lora_weights.safetensors", ".gitattributes"]


def options(**settings):
    """How a 16:9 picture of a job with these settings is drawn (the request's sampling)."""
    return sampling_for(load_settings(**settings), 1280, 720)


def digest(**settings) -> str:
    return job_digest(load_settings(**settings))


@pytest.mark.parametrize(("name", "guidance"), [("lightning", 0.0), ("lcm", 1.0),
                                                ("hyper", 0.0)])
def test_each_path_draws_in_four_steps_with_its_cards_guidance_unless_given(name, guidance):
    chosen = options(image_fast_path=name)
    assert (chosen.steps, chosen.guidance_scale) == (4, guidance)
    loaded = SdxlOptions.from_settings(load_settings(image_fast_path=name))
    assert loaded.fast_path == name
    given = options(image_fast_path=name, image_inference_steps=8, image_guidance_scale=1.5)
    assert (given.steps, given.guidance_scale) == (8, 1.5)
    assert options(image_fast_path=name, image_preset="fast").steps == 4  # not 30
    assert sampling(name, None, None) == (4, guidance)


def test_off_changes_nothing():
    assert sampling("off", None, None) == (None, None) and fast_path("off") is None
    plain = options()
    assert (plain.steps, plain.guidance_scale) == (50, 7.5)
    assert SdxlOptions.from_settings(load_settings()).fast_path == "off"
    assert options(image_fast_lora="/nowhere").steps == 50  # read only with a path


def test_settings_that_cannot_go_with_it_are_refused_naming_the_fix():
    for settings, field in (
            (dict(image_inference_steps=30), "image_inference_steps"),
            (dict(image_inference_steps=1), "image_inference_steps"),
            (dict(image_scheduler="dpmpp_2m"), "image_scheduler"),
            (dict(sdxl_refiner="stabilityai/stable-diffusion-xl-refiner-1.0"), "sdxl_refiner")):
        with pytest.raises(SettingsError, match="--image-fast-path off") as info:
            options(image_fast_path="lightning", **settings)
        assert info.value.field == field
    with pytest.raises(SettingsError, match="image_fast_path"):
        load_settings(image_fast_path="turbo")


def test_it_is_the_farms_choice_a_load_field_and_in_the_pictures_keys():
    fields = RenderSettings.model_fields
    for name in ("image_fast_path", "image_fast_lora"):
        assert name in load_fields("sdxl")  # what a worker loads: part of the pool key
        scope = next(m for m in fields[name].metadata if hasattr(m, "owner"))
        assert (scope.owner, scope.recorded) == ("farm", True)
    digests = {digest(image_fast_path=n) for n in ("off", *FAST_PATHS)}
    assert len(digests) == 4
    same_sampling = dict(image_inference_steps=4, image_guidance_scale=0.0)
    assert (digest(**same_sampling)
            != digest(image_fast_path="lightning", **same_sampling))
    assert (digest(image_fast_path="lcm")
            != digest(image_fast_path="lcm", image_fast_lora="me/lcm"))
    # Without the fast path the digest is the one pictures were stored under before it
    # (computed before the fast path existed).
    assert digest() == "80fb29d632d7"


@pytest.mark.parametrize(("name", "repo", "listing", "wanted"), [
    ("lightning", "ByteDance/SDXL-Lightning", LIGHTNING_REPO,
     "sdxl_lightning_4step_lora.safetensors"),
    ("lcm", "latent-consistency/lcm-lora-sdxl", LCM_REPO, "pytorch_lora_weights.safetensors"),
    ("hyper", "ByteDance/Hyper-SD", HYPER_REPO, "Hyper-SDXL-4steps-lora.safetensors")])
def test_download_takes_the_one_lora_file_of_its_repository(name, repo, listing, wanted):
    specs = models_for(load_settings(image_fast_path=name))
    spec = pick(specs, "fast-lora")[0]
    assert spec.repo_id == repo and spec in pick(specs, "sdxl")
    assert select_files(spec, listing) == [wanted]
    assert missing_files(spec, [f for f in listing if f != wanted]) == [wanted]
    assert missing_files(spec, [wanted]) == []


def test_no_fast_lora_model_when_off_or_given_as_a_folder(tmp_path):
    assert "fast-lora" not in {s.name for s in models_for(load_settings())}
    folder = load_settings(image_fast_path="lcm", image_fast_lora=str(tmp_path))
    assert "fast-lora" not in {s.name for s in models_for(folder)}
    mirror = load_settings(image_fast_path="lcm", image_fast_lora="me/lcm-mirror")
    assert pick(models_for(mirror), "fast-lora")[0].repo_id == "me/lcm-mirror"
