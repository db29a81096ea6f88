"""The fast picture path through the real loader on the tiny SDXL: a tiny LoRA made with
peft in diffusers' layout, loaded with load_lora_weights(local_files_only=True) from a folder
and from a Hugging Face cache that `vidgen models download` filled from a local hub; its
sampler, steps and guidance; the pictures it changes; the errors when it is not there."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from vidgen_ray.cli.app import app
from vidgen_ray.config import load_settings
from vidgen_ray.config.backends.sdxl import FAST_LORAS
from vidgen_ray.errors import DependencyError, SettingsError
from vidgen_ray.images.base import ImageRequest
from vidgen_ray.images.sdxl import SdxlBackend
from vidgen_ray.images.sdxl_options import SdxlOptions
from vidgen_ray.images.sdxl_sampling import key_version, sampling_for
from vidgen_ray.testing import tiny_sdxl
from vidgen_ray.testing.hub import LocalHub, RepoFile, read_folder

torch = pytest.importorskip("torch")
pytest.importorskip("peft")

# Each model card's sampler and timestep spacing (LCM keeps the model's own, leading).
SCHEDULERS = {"lightning": ("EulerDiscreteScheduler", "trailing"),
              "lcm": ("LCMScheduler", "leading"), "hyper": ("DDIMScheduler", "trailing")}


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("tiny")
    return {"sdxl": str(tiny_sdxl.build_sdxl(root / "sdxl")),
            "lora": str(tiny_sdxl.build_lora(root / "lora"))}


def _settings(models, **more):
    base = dict(image_model="sdxl", sdxl_model=models["sdxl"], offline=True,
                image_resolution="64x64", image_safety_checker=False, image_style="none")
    return load_settings(**{**base, **more})


def _scene(settings, seed=1):
    """A 64x64 scene drawn as a job with these settings asks (steps, guidance...)."""
    return ImageRequest(1, "", "a harbour at dusk", (), "calm", 64, 64, seed,
                        sampling=sampling_for(settings, 64, 64))


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


@pytest.mark.parametrize("name", ["lightning", "lcm", "hyper"])
def test_each_fast_path_fuses_its_lora_and_draws_with_its_sampler(models, name):
    settings = _settings(models, image_fast_path=name, image_fast_lora=models["lora"])
    backend = SdxlBackend(SdxlOptions.from_settings(settings))
    scene = _scene(settings)
    scheduler, spacing = SCHEDULERS[name]
    assert type(backend.pipe.scheduler).__name__ == scheduler
    assert backend.pipe.scheduler.config["timestep_spacing"] == spacing
    assert backend.fast.name == name and scene.sampling.steps == 4
    assert scene.sampling.guidance_scale == (1.0 if name == "lcm" else 0.0)
    unet = backend.pipe.unet
    assert not any("lora" in n for n, _ in unet.named_parameters())  # fused, layers gone

    steps: list[tuple[int, int]] = []
    fast = backend.generate([scene], on_step=lambda d, t: steps.append((d, t)))[0]
    assert steps == [(n, 4) for n in range(1, 5)]
    # The same sampler, steps and guidance without the LoRA draw another picture.
    plain_settings = _settings(models, image_inference_steps=4,
                               image_guidance_scale=scene.sampling.guidance_scale)
    plain = SdxlBackend(SdxlOptions.from_settings(plain_settings))
    plain.pipe.scheduler = type(backend.pipe.scheduler).from_config(backend.pipe.scheduler.config)
    without = plain.generate([_scene(plain_settings)])[0]
    assert np.abs(_pixels(fast) - _pixels(without)).max() > 0
    assert backend.generate([scene])[0] == fast  # and the fused one is deterministic
    # so pictures get other content keys
    assert key_version(settings, backend.version()) != key_version(plain_settings,
                                                                   plain.version())


def test_steps_and_guidance_given_win_over_the_fast_paths(models):
    settings = _settings(models, image_fast_path="lcm", image_fast_lora=models["lora"],
                         image_inference_steps=2, image_guidance_scale=1.5)
    scene = _scene(settings)
    steps: list[tuple[int, int]] = []
    SdxlBackend(SdxlOptions.from_settings(settings)).generate(
        [scene], on_step=lambda d, t: steps.append((d, t)))
    assert (scene.sampling.steps, scene.sampling.guidance_scale) == (2, 1.5)
    assert steps[-1] == (2, 2)


def test_a_folder_with_the_repositorys_own_file_name_loads_too(models, tmp_path):
    name = FAST_LORAS["hyper"][1]  # Hyper-SDXL-4steps-lora.safetensors
    folder = tiny_sdxl.build_lora(tmp_path / "hyper", weight_name=name)
    backend = SdxlBackend(SdxlOptions.from_settings(_settings(
        models, image_fast_path="hyper", image_fast_lora=str(folder))))
    assert backend.fast.weight_name == name
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SettingsError, match="holds no LoRA: put Hyper-SDXL-4steps") as info:
        SdxlBackend(SdxlOptions.from_settings(_settings(
            models, image_fast_path="hyper", image_fast_lora=str(empty))))
    assert info.value.field == "image_fast_lora"


def test_offline_without_the_lora_the_error_says_how_to_get_it(models, tmp_path, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "empty"))
    with pytest.raises(DependencyError) as info:
        SdxlBackend(SdxlOptions.from_settings(_settings(models, image_fast_path="lightning")))
    message = " ".join(info.value.message.split())
    assert "ByteDance/SDXL-Lightning" in message and "not in the Hugging Face cache" in message
    assert "`VIDGEN_IMAGE_FAST_PATH=lightning vidgen models download fast-lora`" in message


def test_download_fetches_only_the_lora_then_it_loads_offline(models, tmp_path, monkeypatch):
    """The hub repository holds full checkpoints next to the LoRA: only the LoRA comes."""
    repo, name = FAST_LORAS["lightning"]
    lora = read_folder(tiny_sdxl.build_lora(tmp_path / "lora", weight_name=name))
    unet = RepoFile("sdxl_lightning_4step_unet.safetensors", b"\0" * 64)
    hf = tmp_path / "hf"
    env = {"HF_HOME": str(hf), "HF_HUB_CACHE": None, "VIDGEN_IMAGE_FAST_PATH": "lightning"}
    with LocalHub({repo: [*lora, unet, RepoFile("README.md", b"# Lightning")]}) as hub:
        done = CliRunner().invoke(app, ["models", "download", "fast-lora", "--no-progress"],
                                  env={**env, "HF_ENDPOINT": hub.url})
        assert done.exit_code == 0, done.output
    snapshot = next((hf / "hub" / ("models--" + repo.replace("/", "--")) / "snapshots")
                    .iterdir())
    assert sorted(p.name for p in snapshot.iterdir()) == [name]
    status = CliRunner().invoke(app, ["models", "status", "--json"], env=env)
    row = next(r for r in json.loads(status.stdout) if r["name"] == "fast-lora")
    assert (row["repo_id"], row["state"], row["files"]) == (repo, "complete", 1)
    assert CliRunner().invoke(app, ["models", "verify", "fast-lora"], env=env).exit_code == 0

    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(hf / "hub"))
    settings = _settings(models, image_fast_path="lightning")
    backend = SdxlBackend(SdxlOptions.from_settings(settings))
    assert backend.fast.name == "lightning"
    assert Image.open(io.BytesIO(backend.generate([_scene(settings)])[0])).size == (64, 64)
