"""A tiny random-weight Stable Audio Open pipeline, built offline from configs.

Same folder layout as ``stabilityai/stable-audio-open-1.0`` (model_index.json; transformer,
vae, text_encoder, tokenizer, projection_model, scheduler), saved with save_pretrained, so
the backend loads it through ``from_pretrained(folder, local_files_only=True)`` like real
weights. The VAE keeps the real rate (44.1 kHz, stereo, so the backend's resampling and
downmix run) and hop (2048 samples per latent) with 4 latent channels; the DiT has one layer
over 64 latents, so the longest piece is 64 * 2048 / 44100 = ~2.97 s (real: 1024 latents,
~47.55 s) and longer beds loop, as real ones past 47 s do. The T5 encoder is one layer of
width 16 with the tokenizer of tiny_ltx.py (a T5 Unigram written here, no sentencepiece).
"""

from __future__ import annotations

from pathlib import Path

from vidgen_ray.testing.tiny_ltx import t5_tokenizer, t5_vocab

SEED = 0
LATENT_CHANNELS = 4
LATENTS = 64  # the DiT's sample_size: the longest piece, in latents
TEXT_HIDDEN = 16  # T5 d_model
CONDITIONING = 8  # the projection's width: text and the start/end seconds
VAE = dict(encoder_hidden_size=4, downsampling_ratios=[2, 4, 4, 8, 8],
           channel_multiples=[1, 1, 1, 1, 1], decoder_channels=4,
           decoder_input_channels=LATENT_CHANNELS, audio_channels=2, sampling_rate=44_100)


def build_stable_audio(folder: Path, cosine: bool = False) -> Path:
    """A StableAudioPipeline folder with random weights; returns it. ``cosine``: the real
    model's sampler (CosineDPMSolverMultistepScheduler, which needs torchsde); otherwise
    EDMDPMSolverMultistepScheduler (SDE DPM-Solver++ with the same sigmas, no torchsde)."""
    import torch
    from diffusers import (
        AutoencoderOobleck,
        CosineDPMSolverMultistepScheduler,
        EDMDPMSolverMultistepScheduler,
        StableAudioDiTModel,
        StableAudioPipeline,
        StableAudioProjectionModel,
    )
    from transformers import T5Config, T5EncoderModel

    folder = Path(folder)
    torch.manual_seed(SEED)
    text_encoder = T5EncoderModel(T5Config(
        vocab_size=len(t5_vocab()), d_model=TEXT_HIDDEN, d_kv=8, d_ff=32, num_layers=1,
        num_heads=2, relative_attention_num_buckets=8, relative_attention_max_distance=16))
    transformer = StableAudioDiTModel(
        sample_size=LATENTS, in_channels=LATENT_CHANNELS, out_channels=LATENT_CHANNELS,
        num_layers=1, attention_head_dim=8, num_attention_heads=2,
        num_key_value_attention_heads=1, cross_attention_dim=CONDITIONING, time_proj_dim=8,
        global_states_input_dim=2 * CONDITIONING, cross_attention_input_dim=CONDITIONING)
    # The real model's projection takes 0..512 seconds (what its duration conditioning saw).
    projection = StableAudioProjectionModel(
        text_encoder_dim=TEXT_HIDDEN, conditioning_dim=CONDITIONING, min_value=0,
        max_value=512)
    sigmas = dict(sigma_min=0.3, sigma_max=500.0, sigma_data=1.0, sigma_schedule="exponential",
                  prediction_type="v_prediction", solver_order=2)
    scheduler = (CosineDPMSolverMultistepScheduler(**sigmas) if cosine
                 else EDMDPMSolverMultistepScheduler(algorithm_type="sde-dpmsolver++", **sigmas))
    pipe = StableAudioPipeline(
        vae=AutoencoderOobleck(**VAE), text_encoder=text_encoder,
        projection_model=projection, tokenizer=t5_tokenizer(), transformer=transformer,
        scheduler=scheduler)
    pipe.save_pretrained(folder)
    return folder
