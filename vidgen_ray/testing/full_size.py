"""SDXL base and Bark at their published sizes with random weights, built on the GPU without a
download: where no real weights are cached, benchmarks time the real architectures (the same
kernels and shapes) instead of nothing. The pictures and voices are noise.

The configs are copied from the hub's config files (stabilityai/stable-diffusion-xl-base-1.0:
unet, vae, text_encoder, text_encoder_2, scheduler; suno/bark: config.json). Two pool-worker
factories (``sdxl_backend``, ``bark_backend``) build the real backends around them, so a farm
renders through the code real weights go through: ``Farm(factories={"image": partial(
sdxl_backend, settings), ...})``.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

from vidgen_ray.speech.bark import BarkBackend

# ---- SDXL base 1.0 ---------------------------------------------------------------------------

SDXL_UNET = dict(
    sample_size=128, in_channels=4, out_channels=4, layers_per_block=2,
    block_out_channels=(320, 640, 1280),
    down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
    up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
    transformer_layers_per_block=(1, 2, 10), attention_head_dim=(5, 10, 20),
    cross_attention_dim=2048, use_linear_projection=True, addition_embed_type="text_time",
    addition_time_embed_dim=256, projection_class_embeddings_input_dim=2816,
    norm_num_groups=32)
SDXL_VAE = dict(
    in_channels=3, out_channels=3, latent_channels=4, layers_per_block=2,
    block_out_channels=(128, 256, 512, 512), down_block_types=("DownEncoderBlock2D",) * 4,
    up_block_types=("UpDecoderBlock2D",) * 4, norm_num_groups=32, sample_size=1024,
    scaling_factor=0.13025, force_upcast=True)
CLIP_L = dict(hidden_size=768, intermediate_size=3072, num_attention_heads=12,
              num_hidden_layers=12, projection_dim=768, hidden_act="quick_gelu")
OPENCLIP_BIGG = dict(hidden_size=1280, intermediate_size=5120, num_attention_heads=20,
                     num_hidden_layers=32, projection_dim=1280, hidden_act="gelu")
SDXL_SCHEDULER = dict(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                      num_train_timesteps=1000, steps_offset=1, timestep_spacing="leading",
                      prediction_type="epsilon")
SDXL_ID = "stabilityai/stable-diffusion-xl-base-1.0"


def full_size_sdxl(device: str = "cuda"):
    """SDXL base with random fp16 weights, built on ``device`` (~5 GB on a GPU); on the
    "meta" device it only checks the shapes."""
    import torch
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        StableDiffusionXLPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    from vidgen_ray.testing.tiny_sdxl import byte_tokenizer, byte_vocab

    vocab, _ = byte_vocab()  # the real vocab is not here: token ids stay below 49408
    ids = dict(vocab_size=49408, max_position_embeddings=77, bos_token_id=len(vocab) - 2,
               eos_token_id=len(vocab) - 1, pad_token_id=len(vocab) - 1)
    default_dtype = torch.get_default_dtype()
    torch.set_default_dtype(torch.float16)
    try:
        with torch.device(device):
            unet = UNet2DConditionModel(**SDXL_UNET)
            vae = AutoencoderKL(**SDXL_VAE)
            text = CLIPTextModel(CLIPTextConfig(**CLIP_L, **ids))
            text_2 = CLIPTextModelWithProjection(CLIPTextConfig(**OPENCLIP_BIGG, **ids))
    finally:
        torch.set_default_dtype(default_dtype)
    return StableDiffusionXLPipeline(
        vae=vae, unet=unet, text_encoder=text, text_encoder_2=text_2,
        tokenizer=byte_tokenizer(), tokenizer_2=byte_tokenizer(pad_token="!"),
        scheduler=EulerDiscreteScheduler(**SDXL_SCHEDULER))


def sdxl_backend(settings):
    """A pool worker's SdxlBackend over the full-size random pipeline, with every option the
    settings give (size, steps, style...). Its version names the random weights, so no part
    made with them is mistaken for a real picture."""
    from vidgen_ray.images.sdxl import SdxlBackend
    from vidgen_ray.images.sdxl_options import SdxlOptions

    options = dataclasses.replace(SdxlOptions.from_settings(settings),
                                  model=f"random-weights:{SDXL_ID}")
    return SdxlBackend(options, pipeline=full_size_sdxl())


# ---- Bark (suno/bark) ------------------------------------------------------------------------

_BARK_GPT = {"num_layers": 24, "num_heads": 16, "hidden_size": 1024, "block_size": 1024,
             "bias": False, "dropout": 0.0}
FULL_BARK = {
    "semantic_config": {**_BARK_GPT, "input_vocab_size": 129_600, "output_vocab_size": 10_048},
    "coarse_acoustics_config": {**_BARK_GPT, "input_vocab_size": 12_096,
                                "output_vocab_size": 12_096},
    "fine_acoustics_config": {**_BARK_GPT, "input_vocab_size": 1_056,
                              "output_vocab_size": 1_056, "n_codes_total": 8,
                              "n_codes_given": 1},
    "codec_config": {"model_type": "encodec", "sampling_rate": 24_000, "audio_channels": 1,
                     "target_bandwidths": [1.5, 3.0, 6.0, 12.0, 24.0], "normalize": False,
                     "hidden_size": 128, "num_filters": 32, "num_residual_layers": 1,
                     "upsampling_ratios": [8, 5, 4, 2], "num_lstm_layers": 2,
                     "codebook_size": 1024, "kernel_size": 7, "last_kernel_size": 7,
                     "residual_kernel_size": 3, "dilation_growth_rate": 2,
                     "use_causal_conv": True, "pad_mode": "reflect", "compress": 2,
                     "norm_type": "weight_norm", "trim_right_ratio": 1.0},
}
BARK_ID = "suno/bark"


def full_size_bark(device: str):
    """suno/bark's architecture with random fp16 weights on ``device``, and a processor
    over a small vocabulary (token ids only index embeddings: any vocabulary times the
    same)."""
    import torch
    from transformers import BarkConfig, BarkModel, BarkProcessor, BertTokenizer

    from vidgen_ray.testing.tiny_bark import _vocab, generation_config

    config = BarkConfig(**{k: dict(v) for k, v in FULL_BARK.items()})
    torch.manual_seed(0)
    with torch.device(device):
        model = BarkModel(config).to(torch.float16)
    model.generation_config = generation_config()
    model.eval()
    folder = Path(tempfile.mkdtemp(prefix="bark_vocab_"))
    (folder / "vocab.txt").write_text("\n".join(_vocab()) + "\n")
    tokenizer = BertTokenizer(vocab_file=str(folder / "vocab.txt"), do_lower_case=False)
    return model, BarkProcessor(tokenizer=tokenizer)


class BudgetedBark(BarkBackend):
    """Bark whose lines stop at a token budget proportional to their text. Random weights
    (almost) never sample end-of-speech, so each line would run to Bark's 768-token limit;
    here a batch runs for the budget of its longest text (what real weights spend when the
    longest line ends) and each line keeps the share of samples its own text earns, so the
    video is as long as real speech of those words would be."""

    def generate(self, texts, voice, exact_tokens=None):
        if exact_tokens is not None:
            return super().generate(texts, voice, exact_tokens)
        budgets = [line_budget(text) for text in texts]
        waves = super().generate(texts, voice, exact_tokens=max(budgets))
        return [wave[:round(len(wave) * budget / max(budgets))]
                for wave, budget in zip(waves, budgets, strict=True)]


def line_budget(text: str) -> int:
    """Semantic tokens Bark would spend on ``text`` at its usual speaking rate."""
    from vidgen_ray.speech.bark_text import estimate_seconds, semantic_tokens

    return semantic_tokens(estimate_seconds(text))


def bark_backend(settings):
    """A pool worker's Bark over the full-size random model. Voices come from the processor
    folder ``settings.bark_model`` names (a tiny Bark folder holds presets of the real
    shape), so casting in the planning process and speaking here agree."""
    from transformers import BarkProcessor

    from vidgen_ray.speech.bark import BarkOptions

    model, _ = full_size_bark("cuda")
    processor = BarkProcessor.from_pretrained(settings.bark_model, local_files_only=True)
    options = dataclasses.replace(BarkOptions.from_settings(settings), device="cuda",
                                  model=f"random-weights:{BARK_ID}")
    backend = BudgetedBark.from_loaded(model, processor, options)
    backend.presets()  # read the preset list now, not in the first call
    return backend
