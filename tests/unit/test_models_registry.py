"""Which models the settings refer to and which files of a repository each needs (pure),
on file listings shaped like the real repositories."""

import pytest

from vidgen_ray.config import load_settings
from vidgen_ray.errors import SettingsError
from vidgen_ray.models.registry import (
    missing_files,
    models_for,
    models_named,
    pick,
    select_files,
)

SDXL_REPO = [  # stabilityai/stable-diffusion-xl-base-1.0, abridged but with every kind
    "model_index.json", "sd_xl_base_1.0.safetensors",
    "sd_xl_offset_example-lora_1.0.safetensors",
    "scheduler/scheduler_config.json", "text_encoder/config.json", "text_encoder/model.onnx",
    "text_encoder/model.fp16.safetensors", "text_encoder/model.safetensors",
    "text_encoder/flax_model.msgpack", "text_encoder/openvino_model.bin",
    "text_encoder_2/config.json", "text_encoder_2/model.fp16.safetensors",
    "text_encoder_2/model.safetensors", "tokenizer/merges.txt", "tokenizer/vocab.json",
    "tokenizer/special_tokens_map.json", "tokenizer/tokenizer_config.json",
    "tokenizer_2/merges.txt", "tokenizer_2/vocab.json", "unet/config.json",
    "unet/diffusion_pytorch_model.fp16.safetensors", "unet/diffusion_pytorch_model.safetensors",
    "unet/model.onnx_data", "vae/config.json", "vae/diffusion_pytorch_model.fp16.safetensors",
    "vae/diffusion_pytorch_model.safetensors", "vae_1_0/diffusion_pytorch_model.safetensors",
    "vae_decoder/model.onnx", "README.md", "LICENSE.md", "01.png"]
BARK_REPO = ["config.json", "generation_config.json", "pytorch_model.bin", "coarse_2.pt",
             "fine_2.pt", "text_2.pt", "special_tokens_map.json", "tokenizer.json",
             "tokenizer_config.json", "vocab.txt", "speaker_embeddings_path.json",
             "speaker_embeddings/v2/en_speaker_6_semantic_prompt.npy",
             "speaker_embeddings/v2/en_speaker_6_coarse_prompt.npy",
             "speaker_embeddings/announcer_semantic_prompt.npy"]


def specs(**settings):
    return {s.name: s for s in models_for(load_settings(**settings))}


def test_sdxl_takes_fp16_weights_configs_and_tokenizers_only():
    chosen = select_files(specs()["sdxl"], SDXL_REPO)
    weights = [f for f in chosen if f.endswith("safetensors")]
    assert weights == ["text_encoder/model.fp16.safetensors",
                       "text_encoder_2/model.fp16.safetensors",
                       "unet/diffusion_pytorch_model.fp16.safetensors",
                       "vae/diffusion_pytorch_model.fp16.safetensors"]
    assert {"model_index.json", "scheduler/scheduler_config.json", "tokenizer/merges.txt",
            "tokenizer_2/vocab.json", "unet/config.json"} <= set(chosen)
    for unwanted in ("sd_xl_base_1.0.safetensors", "text_encoder/model.onnx", "README.md",
                     "vae_1_0/diffusion_pytorch_model.safetensors", "unet/model.onnx_data",
                     "text_encoder/openvino_model.bin", "text_encoder/flax_model.msgpack"):
        assert unwanted not in chosen
    full = select_files(specs(half_precision=False)["sdxl"], SDXL_REPO)
    assert "unet/diffusion_pytorch_model.safetensors" in full
    assert not any(".fp16." in f for f in full)


def test_bark_and_its_voices_split_one_repository():
    bark, voices = specs()["bark"], specs()["bark-voices"]
    assert select_files(bark, BARK_REPO) == [
        "config.json", "generation_config.json", "pytorch_model.bin",
        "speaker_embeddings_path.json", "special_tokens_map.json", "tokenizer.json",
        "tokenizer_config.json", "vocab.txt"]
    assert select_files(voices, BARK_REPO) == [
        "speaker_embeddings/v2/en_speaker_6_coarse_prompt.npy",
        "speaker_embeddings/v2/en_speaker_6_semantic_prompt.npy",
        "speaker_embeddings_path.json"]
    with_safetensors = select_files(bark, [*BARK_REPO, "model.safetensors"])
    assert "model.safetensors" in with_safetensors and "pytorch_model.bin" not in with_safetensors


def test_optional_models_appear_once_set_and_folders_are_left_out(tmp_path):
    assert set(specs()) == {"sdxl", "bark", "bark-voices", "kokoro", "safety-checker"}
    named = specs(sdxl_refiner="stabilityai/stable-diffusion-xl-refiner-1.0",
                  ip_adapter="h94/IP-Adapter",
                  upscaler="stabilityai/stable-diffusion-x4-upscaler",
                  image_safety_checker=False, bark_model=str(tmp_path))
    assert set(named) == {"sdxl", "sdxl-refiner", "ip-adapter", "upscaler", "kokoro"}
    ip = select_files(named["ip-adapter"], [
        "sdxl_models/ip-adapter_sdxl.safetensors", "sdxl_models/ip-adapter_sdxl.bin",
        "sdxl_models/ip-adapter-plus_sdxl_vit-h.safetensors", "models/ip-adapter_sd15.bin",
        "sdxl_models/image_encoder/config.json", "sdxl_models/image_encoder/model.safetensors"])
    assert ip == ["sdxl_models/image_encoder/config.json",
                  "sdxl_models/image_encoder/model.safetensors",
                  "sdxl_models/ip-adapter_sdxl.safetensors"]


def test_groups_names_and_what_a_partial_snapshot_lacks():
    every = list(specs(ip_adapter="h94/IP-Adapter").values())
    assert [s.name for s in pick(every, "sdxl")] == ["sdxl", "ip-adapter", "safety-checker"]
    assert [s.name for s in pick(every, "bark")] == ["bark", "bark-voices"]
    assert [s.name for s in pick(every, "ip-adapter")] == ["ip-adapter"]
    with pytest.raises(SettingsError, match="no model named .stable-diffusion.*of sdxl, bark"):
        pick(every, "stable-diffusion")
    sdxl = specs()["sdxl"]
    partial = [f for f in select_files(sdxl, SDXL_REPO) if not f.startswith("vae/")]
    assert missing_files(sdxl, partial) == ["vae/config.json", "vae/<weights>"]
    assert missing_files(sdxl, select_files(sdxl, SDXL_REPO)) == []


LTX_REPO = [  # Lightricks/LTX-Video, abridged: diffusers' folders beside single-file checkpoints
    "model_index.json", "ltx-video-2b-v0.9.safetensors", "ltx-video-2b-v0.9.5.safetensors",
    "ltxv-13b-0.9.7-dev.safetensors", "ltxv-spatial-upscaler-0.9.7.safetensors", "README.md",
    "scheduler/scheduler_config.json", "text_encoder/config.json",
    "text_encoder/model-00001-of-00004.safetensors",
    "text_encoder/model-00002-of-00004.safetensors",
    "text_encoder/model-00003-of-00004.safetensors",
    "text_encoder/model-00004-of-00004.safetensors", "text_encoder/model.safetensors.index.json",
    "tokenizer/added_tokens.json", "tokenizer/special_tokens_map.json",
    "tokenizer/spiece.model", "tokenizer/tokenizer_config.json", "transformer/config.json",
    "transformer/diffusion_pytorch_model-00001-of-00002.safetensors",
    "transformer/diffusion_pytorch_model-00002-of-00002.safetensors",
    "transformer/diffusion_pytorch_model.safetensors.index.json", "vae/config.json",
    "vae/diffusion_pytorch_model.safetensors", "media/ltx-video_example_00001.gif"]


def test_ltx_takes_every_shard_of_its_folders_and_no_root_checkpoint():
    assert "ltx" not in specs()  # no video model: not what the settings use
    ltx = specs(video_model="ltx")["ltx"]
    chosen = select_files(ltx, LTX_REPO)
    assert set(chosen) == {f for f in LTX_REPO if "/" in f and not f.startswith("media/")
                           } | {"model_index.json"}
    assert not any(f.startswith("ltx") for f in chosen)  # 10-28 GB each, for other tools
    assert missing_files(ltx, chosen) == []
    without_vae = [f for f in chosen if not f.startswith("vae/")]
    assert missing_files(ltx, without_vae) == ["vae/config.json", "vae/<weights>"]


def test_models_on_request_are_named_but_never_all():
    settings = load_settings()
    assert [s.name for s in models_named(settings, "ltx")] == ["ltx"]
    assert [s.repo_id for s in models_named(settings, "ltx2")] == [
        "diffusers/LTX-2.3-Distilled-Diffusers"]
    assert [s.repo_id for s in models_named(settings, "stable-audio")] == [
        "stabilityai/stable-audio-open-1.0"]
    assert {s.name for s in models_named(settings, "all")} == set(specs())
    mirrored = load_settings(video_model="ltx", ltx_model="me/ltx-mirror")
    assert [s.repo_id for s in models_named(mirrored, "ltx")] == ["me/ltx-mirror"]
    assert "ltx" in {s.name for s in models_named(mirrored, "all")}
    talking = load_settings(shots="talking", ltx2_model="me/ltx2-mirror")
    assert "ltx2" not in {s.name for s in models_named(settings, "all")}
    assert [s.repo_id for s in models_named(talking, "all") if s.name == "ltx2"] == [
        "me/ltx2-mirror"]
    audio, = models_named(settings, "stable-audio")
    repo = ["model_index.json", "model.safetensors", "model.ckpt", "model_config.json",
            *(f"{d}/config.json" for d in ("transformer", "vae", "text_encoder",
                                           "projection_model")),
            "transformer/diffusion_pytorch_model.safetensors",
            "vae/diffusion_pytorch_model.safetensors", "text_encoder/model.safetensors",
            "projection_model/diffusion_pytorch_model.safetensors",
            "scheduler/scheduler_config.json", "tokenizer/spiece.model"]
    assert set(select_files(audio, repo)) == set(repo) - {
        "model.safetensors", "model.ckpt", "model_config.json"}  # stable-audio-tools' files
