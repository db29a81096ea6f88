"""A tiny random-weight LTX-2 pipeline (LTX2DFRPipeline), built offline from configs.

Same folder layout as diffusers' LTX-2 repositories (model_index.json; transformer, vae,
audio_vae, vocoder, text_encoder, tokenizer, connectors, scheduler), saved with
save_pretrained, so the talking backend loads it through
``from_pretrained(folder, local_files_only=True)`` like real weights. Kept from the real
model: the audio VAE's 16 kHz, 160-sample hop and 4x time compression (25 latent frames a
second), its stereo mel input, a causal video VAE encoder, the packed audio normalisation
(latent channels x latent mel bins = the VAE's base channels) and the cross-modal attention
between the video and audio streams. Shrunk: the video VAE compresses 2x2 pixels x 2 frames
(not 32x32 x 8; the backend reads the grid from the loaded model), 8 mel bins, one-layer
Gemma-3 text model of width 16 (no vision tower weights of note), two transformer layers.
The tokenizer is a Gemma BPE over printable ASCII written here (byte fallback; no
sentencepiece model needed). ~1 MB on disk.
"""

from __future__ import annotations

from pathlib import Path

SEED = 0
TEXT_HIDDEN = 16
MEL_BINS = 8  # the real model: 64
AUDIO_LATENT_CHANNELS = 2  # x (MEL_BINS / 4) latent mel bins = the audio VAE's base channels


def gemma_vocab() -> tuple[dict[str, int], list[tuple[str, str]]]:
    """(vocab, merges): Gemma's special tokens in its order, 256 byte-fallback tokens, the
    word-start marker, printable ASCII alone and merged after the marker."""
    specials = ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>"]
    chars = [chr(c) for c in range(ord("!"), ord("~") + 1)]
    tokens = (specials + [f"<0x{b:02X}>" for b in range(256)] + ["\u2581"] + chars
              + ["\u2581" + c for c in chars])
    return {t: i for i, t in enumerate(tokens)}, [("\u2581", c) for c in chars]


def gemma_tokenizer():
    """A Gemma tokenizer (transformers 5: backed by the tokenizers library) over gemma_vocab()."""
    from transformers import GemmaTokenizer

    vocab, merges = gemma_vocab()
    return GemmaTokenizer(vocab=vocab, merges=merges, model_max_length=64)


def _text_encoder(vocab_size: int):
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration

    config = Gemma3Config(
        text_config=dict(vocab_size=vocab_size, hidden_size=TEXT_HIDDEN,
                         intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
                         num_key_value_heads=1, head_dim=8, max_position_embeddings=256,
                         sliding_window=64, layer_types=["full_attention"]),
        vision_config=dict(hidden_size=8, intermediate_size=16, num_hidden_layers=1,
                           num_attention_heads=2, image_size=16, patch_size=8),
        mm_tokens_per_image=4, boi_token_index=2, eoi_token_index=1, image_token_index=4)
    return Gemma3ForConditionalGeneration(config)


def build_ltx2(folder: Path) -> Path:
    """An LTX2DFRPipeline folder with random weights; returns it."""
    import torch
    from diffusers import (
        AutoencoderKLLTX2Audio,
        AutoencoderKLLTX2Video,
        FlowMatchEulerDiscreteScheduler,
        LTX2DFRPipeline,
        LTX2VideoTransformer3DModel,
    )
    from diffusers.pipelines.ltx2 import LTX2TextConnectors
    from diffusers.pipelines.ltx2.vocoder import LTX2Vocoder

    folder = Path(folder)
    torch.manual_seed(SEED)
    tokenizer = gemma_tokenizer()
    text_encoder = _text_encoder(len(tokenizer))
    layers = text_encoder.config.text_config.num_hidden_layers
    transformer = LTX2VideoTransformer3DModel(
        in_channels=4, out_channels=4, patch_size=1, patch_size_t=1, num_attention_heads=2,
        attention_head_dim=8, cross_attention_dim=16, audio_in_channels=4,
        audio_out_channels=4, audio_num_attention_heads=2, audio_attention_head_dim=4,
        audio_cross_attention_dim=8, num_layers=2, qk_norm="rms_norm_across_heads",
        caption_channels=TEXT_HIDDEN, rope_double_precision=False, rope_type="split",
        vae_scale_factors=(2, 2, 2))
    connectors = LTX2TextConnectors(
        caption_channels=TEXT_HIDDEN, text_proj_in_factor=layers + 1,
        video_connector_num_attention_heads=2, video_connector_attention_head_dim=8,
        video_connector_num_layers=1, video_connector_num_learnable_registers=None,
        audio_connector_num_attention_heads=2, audio_connector_attention_head_dim=8,
        audio_connector_num_layers=1, audio_connector_num_learnable_registers=None,
        connector_rope_base_seq_len=32, rope_theta=10000.0, rope_double_precision=False,
        causal_temporal_positioning=False, rope_type="split")
    vae = AutoencoderKLLTX2Video(
        in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(8,),
        decoder_block_out_channels=(8,), layers_per_block=(1,),
        decoder_layers_per_block=(1, 1), spatio_temporal_scaling=(True,),
        decoder_spatio_temporal_scaling=(True,), decoder_inject_noise=(False, False),
        downsample_type=("spatial",), upsample_residual=(False,), upsample_factor=(1,),
        timestep_conditioning=False, patch_size=1, patch_size_t=1, encoder_causal=True,
        decoder_causal=False)
    audio_vae = AutoencoderKLLTX2Audio(
        base_channels=AUDIO_LATENT_CHANNELS * MEL_BINS // 4, output_channels=2, ch_mult=(1, 2, 4),
        num_res_blocks=1, attn_resolutions=None, in_channels=2, resolution=32,
        latent_channels=AUDIO_LATENT_CHANNELS, norm_type="pixel", causality_axis="height",
        dropout=0.0, mid_block_add_attention=False, sample_rate=16000, mel_hop_length=160,
        is_causal=True, mel_bins=MEL_BINS)
    vocoder = LTX2Vocoder(
        in_channels=2 * MEL_BINS, hidden_channels=32, out_channels=2,
        upsample_kernel_sizes=[4, 4], upsample_factors=[2, 2], resnet_kernel_sizes=[3],
        resnet_dilations=[[1, 3, 5]], leaky_relu_negative_slope=0.1,
        output_sampling_rate=16000)
    pipe = LTX2DFRPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae, audio_vae=audio_vae,
        text_encoder=text_encoder, tokenizer=tokenizer, connectors=connectors,
        transformer=transformer, vocoder=vocoder)
    pipe.save_pretrained(folder)
    return folder
