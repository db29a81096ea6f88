"""A tiny random-weight LTX-Video image-to-video pipeline, built offline from configs.

Same folder layout as ``Lightricks/LTX-Video`` (model_index.json; transformer, vae,
text_encoder, tokenizer, scheduler), saved with save_pretrained, so the backend loads it
through ``from_pretrained(folder, local_files_only=True)`` like real weights. The VAE keeps
the real grid (32x32 pixels and 8 frames per latent, patch size 4, a timestep-aware decoder
as in 0.9.1+) with 8 channels; the transformer has one layer; the T5 encoder one layer of
width 16. The tokenizer is a T5 Unigram over printable ASCII written here (no sentencepiece
model needed): tokenizer.json, as the real repository's fast tokenizer. ~1 MB on disk.
"""

from __future__ import annotations

from pathlib import Path

SEED = 0
LATENT_CHANNELS = 8
TEXT_HIDDEN = 16  # T5 d_model = the transformer's caption_channels
VAE = dict(
    in_channels=3, out_channels=3, latent_channels=LATENT_CHANNELS,
    block_out_channels=(8, 8, 8, 8), decoder_block_out_channels=(8, 8, 8, 8),
    layers_per_block=(1, 1, 1, 1, 1), decoder_layers_per_block=(1, 1, 1, 1, 1),
    spatio_temporal_scaling=(True, True, True, False),
    decoder_spatio_temporal_scaling=(True, True, True, False),
    decoder_inject_noise=(False,) * 5, upsample_residual=(False,) * 4,
    upsample_factor=(1,) * 4, timestep_conditioning=True, patch_size=4, patch_size_t=1,
)


def t5_vocab() -> list[tuple[str, float]]:
    """A Unigram vocabulary in T5's order: <pad>, </s>, <unk>, then the word-start marker,
    every printable ASCII character alone and after the marker (scores favour the latter)."""
    chars = [chr(c) for c in range(ord("!"), ord("~") + 1)]
    return ([("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581", -2.0)]
            + [(c, -3.0) for c in chars] + [("\u2581" + c, -2.5) for c in chars])


def t5_tokenizer():
    """A T5 tokenizer (transformers 5: backed by the tokenizers library) over t5_vocab()."""
    from transformers import T5TokenizerFast

    return T5TokenizerFast(vocab=t5_vocab(), extra_ids=0, model_max_length=128)


def build_ltx(folder: Path) -> Path:
    """An LTXImageToVideoPipeline folder with random weights; returns it."""
    import torch
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXImageToVideoPipeline,
        LTXVideoTransformer3DModel,
    )
    from transformers import T5Config, T5EncoderModel

    folder = Path(folder)
    torch.manual_seed(SEED)
    text_encoder = T5EncoderModel(T5Config(
        vocab_size=len(t5_vocab()), d_model=TEXT_HIDDEN, d_kv=8, d_ff=32, num_layers=1,
        num_heads=2, relative_attention_num_buckets=8, relative_attention_max_distance=16))
    transformer = LTXVideoTransformer3DModel(
        in_channels=LATENT_CHANNELS, out_channels=LATENT_CHANNELS, patch_size=1,
        patch_size_t=1, num_attention_heads=2, attention_head_dim=8, cross_attention_dim=16,
        num_layers=1, caption_channels=TEXT_HIDDEN)
    pipe = LTXImageToVideoPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(), vae=AutoencoderKLLTXVideo(**VAE),
        text_encoder=text_encoder, tokenizer=t5_tokenizer(), transformer=transformer)
    pipe.save_pretrained(folder)
    return folder
