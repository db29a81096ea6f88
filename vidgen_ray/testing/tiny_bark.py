"""A tiny random-weight Bark in the layout of the hub's ``suno/bark`` folder.

``BarkModel`` + ``BarkProcessor`` (a ``BertTokenizer`` over a small vocabulary) + voice
presets for two languages, all loadable with ``from_pretrained(..., local_files_only=True)``.
The token layout (vocabulary sizes, special tokens, 8 codebooks of 1024 at 75 Hz, 24 kHz)
is the real one; only widths and depths shrink, so the real generate path runs unchanged.
"""

from __future__ import annotations

import json
import string
from pathlib import Path

import numpy as np

# Presets written: v2/<language>_speaker_<n>, as the hub names them.
LANGUAGES = ("en", "de")
SPEAKERS_PER_LANGUAGE = 4
# Real Bark vocabularies: text ids are offset by 10_048 into 129_600 semantic inputs;
# coarse and fine vocabularies hold the codebooks (see transformers' Bark generation config).
SEMANTIC_VOCAB = (129_600, 10_048)
COARSE_VOCAB = (12_096, 12_096)
FINE_VOCAB = (1_056, 1_056)


def _vocab() -> list[str]:
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    words = ["the", "a", "and", "of", "to", "in", "is", "it", "you", "that", "he", "she",
             "was", "for", "on", "are", "with", "as", "his", "her", "they", "at", "be",
             "this", "have", "from", "or", "one", "had", "by", "word", "but", "not", "what"]
    chars = list(string.ascii_lowercase + string.ascii_uppercase + string.digits
                 + string.punctuation + "äöüßéèàç")
    return specials + words + chars + ["##" + c for c in string.ascii_lowercase]


def tiny_config(hidden: int = 16, layers: int = 1, heads: int = 2):
    """A BarkConfig with the real token layout and tiny transformers and codec."""
    from transformers import (
        BarkCoarseConfig,
        BarkConfig,
        BarkFineConfig,
        BarkSemanticConfig,
        EncodecConfig,
    )

    shared = {"hidden_size": hidden, "num_layers": layers, "num_heads": heads,
              "block_size": 1024, "bias": False}
    # The semantic model has biases: one constant hidden unit sets its end-of-speech rate.
    semantic = BarkSemanticConfig(input_vocab_size=SEMANTIC_VOCAB[0],
                                  output_vocab_size=SEMANTIC_VOCAB[1],
                                  **{**shared, "bias": True})
    coarse = BarkCoarseConfig(input_vocab_size=COARSE_VOCAB[0],
                              output_vocab_size=COARSE_VOCAB[1], **shared)
    fine = BarkFineConfig(input_vocab_size=FINE_VOCAB[0], output_vocab_size=FINE_VOCAB[1],
                          n_codes_total=8, n_codes_given=1, **shared)
    codec = EncodecConfig(target_bandwidths=[1.5, 3.0, 6.0, 12.0, 24.0], sampling_rate=24_000,
                          audio_channels=1, normalize=False, hidden_size=8, num_filters=2,
                          num_residual_layers=1, upsampling_ratios=[8, 5, 4, 2],
                          num_lstm_layers=1, codebook_size=1024)
    return BarkConfig(semantic_config=semantic.to_dict(),
                      coarse_acoustics_config=coarse.to_dict(),
                      fine_acoustics_config=fine.to_dict(), codec_config=codec.to_dict())


def generation_config(max_semantic_tokens: int = 768):
    """Bark's nested generation settings as a plain GenerationConfig: saving a fresh
    BarkGenerationConfig fails in transformers 5.24 (early_stopping); loading the hub's
    file yields this same shape."""
    from transformers import GenerationConfig
    from transformers.models.bark.generation_configuration_bark import (
        BarkCoarseGenerationConfig,
        BarkFineGenerationConfig,
        BarkSemanticGenerationConfig,
    )

    return GenerationConfig(
        semantic_config=BarkSemanticGenerationConfig(max_new_tokens=max_semantic_tokens).to_dict(),
        coarse_acoustics_config=BarkCoarseGenerationConfig().to_dict(),
        fine_acoustics_config=BarkFineGenerationConfig().to_dict(),
        sample_rate=24_000, codebook_size=1024)


def voice_prompt(seed: int, seconds: float = 1.0) -> dict[str, np.ndarray]:
    """Arrays in the shape of a real preset: semantic tokens at ~50/s, 2 coarse and 8 fine
    codebooks at 75/s."""
    rng = np.random.default_rng(seed)
    frames = int(seconds * 75)
    return {"semantic_prompt": rng.integers(0, 10_000, int(seconds * 49.9), dtype=np.int64),
            "coarse_prompt": rng.integers(0, 1024, (2, frames), dtype=np.int64),
            "fine_prompt": rng.integers(0, 1024, (8, frames), dtype=np.int64)}


def write_presets(folder: Path, names: list[str]) -> None:
    """``speaker_embeddings_path.json`` and one ``.npy`` per prompt, as on the hub."""
    index: dict[str, object] = {"repo_or_path": str(folder)}
    for number, name in enumerate(names):
        paths = {}
        for key, array in voice_prompt(seed=number).items():
            relative = f"speaker_embeddings/{name}_{key}.npy"
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            np.save(folder / relative, array, allow_pickle=False)
            paths[key] = relative
        index[name] = paths
    (folder / "speaker_embeddings_path.json").write_text(json.dumps(index, indent=1))


def preset_names() -> list[str]:
    return [f"v2/{language}_speaker_{n}" for language in LANGUAGES
            for n in range(SPEAKERS_PER_LANGUAGE)]


def set_eos_logit(model, logit: float) -> None:
    """Random weights almost never say end-of-speech (1 in 10_001), so every line would
    run to the token limit. Pin one hidden unit of the final layer norm to 1 and give the
    EOS row of the LM head ``logit`` on it: lines then end at random, different lengths,
    as real speech does."""
    import torch

    semantic = model.semantic
    eos = 10_000  # Bark's semantic end-of-speech token
    with torch.no_grad():
        semantic.layernorm_final.weight[0] = 0.0
        semantic.layernorm_final.bias[0] = 1.0
        semantic.lm_head.weight[:, 0] = 0.0
        semantic.lm_head.weight[eos, 0] = logit


def build_bark(folder: Path, seed: int = 0, max_semantic_tokens: int = 40,
               eos_logit: float = 1.0) -> Path:
    """Write the tiny Bark into ``folder`` (created) and return it. Speech is at most
    ``max_semantic_tokens`` / 49.9 s per piece (the real model: 768, 15 s)."""
    import torch
    from transformers import BarkModel, BertTokenizer

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    model = BarkModel(tiny_config())
    set_eos_logit(model, eos_logit)
    model.generation_config = generation_config(max_semantic_tokens)
    model.save_pretrained(folder)
    vocab_file = folder / "vocab.txt"
    vocab_file.write_text("\n".join(_vocab()) + "\n")
    tokenizer = BertTokenizer(vocab_file=str(vocab_file), do_lower_case=False)
    tokenizer.save_pretrained(folder)
    write_presets(folder, preset_names())
    return folder
