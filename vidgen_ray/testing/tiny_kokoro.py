"""A random-weight Kokoro in the layout of the hub's ``hexgrad/Kokoro-82M`` folder:
``config.json``, ``kokoro-v1_0.pth`` (a dict of the five sub-modules' state dicts, as the
real file is) and ``voices/NAME.pt`` style tensors of shape (510, 1, 256).

The real phoneme vocabulary (ids as in the published config.json) is kept. ``tiny_config``
shrinks what Kokoro lets shrink (the ALBERT text model, the prosody layers, the vocoder's
residual blocks); the decoder's widths are fixed in Kokoro's code, so the folder is still
~110 MB (weights in half precision). ``full_config`` is the published architecture
(82 M parameters), for benchmarks.
The duration head is set to about three frames (75 ms) per phoneme, a natural speaking rate,
so random weights speak lines of a realistic length; everything else is noise.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

# Kokoro-82M's vocabulary, as its config.json has it: symbol i of _SYMBOLS has id _IDS[i].
_SYMBOLS = ';:,.!?—…"()“” ̃ʣʥʦʨᵝꭧAIOQSTWYᵊabcdefhijklmnopqrstuvwxyzɑɐɒæβ' \
    'ɔɕçɖðʤəɚɛɜɟɡɥɨɪʝɯɰŋɳɲɴøɸθœɹɾɻʁɽʂʃʈʧʊʋʌɣɤχʎʒʔˈˌːʰʲ↓→↗↘ᵻ'
_IDS = (1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25,
        31, 33, 35, 36, 39, 41, 42, 43, 44, 45, 46, 47, 48, 50, 51, 52, 53, 54, 55, 56, 57,
        58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 75, 76, 77, 78, 80, 81,
        82, 83, 85, 86, 87, 90, 92, 99, 101, 102, 103, 110, 111, 112, 113, 114, 115, 116, 118,
        119, 120, 123, 125, 126, 128, 129, 130, 131, 132, 133, 135, 136, 138, 139, 140, 142,
        143, 147, 148, 156, 157, 158, 162, 164, 169, 171, 172, 173, 177)
VOICES = ("af_heart", "af_bella", "am_michael", "am_fenrir", "bf_emma", "bm_george",
          "ff_siwis", "em_alex", "ef_dora")
FRAMES_PER_PHONEME = 3.0


def vocab() -> dict[str, int]:
    return dict(zip(_SYMBOLS, _IDS, strict=True))


def full_config() -> dict:
    """Kokoro-82M's published config.json."""
    return {
        "istftnet": {"upsample_kernel_sizes": [20, 12], "upsample_rates": [10, 6],
                     "gen_istft_hop_size": 5, "gen_istft_n_fft": 20,
                     "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
                     "resblock_kernel_sizes": [3, 7, 11], "upsample_initial_channel": 512},
        "dim_in": 64, "dropout": 0.2, "hidden_dim": 512, "max_conv_dim": 512, "max_dur": 50,
        "multispeaker": True, "n_layer": 3, "n_mels": 80, "n_token": 178, "style_dim": 128,
        "text_encoder_kernel_size": 5,
        "plbert": {"hidden_size": 768, "num_attention_heads": 12, "intermediate_size": 2048,
                   "max_position_embeddings": 512, "num_hidden_layers": 12, "dropout": 0.1},
        "vocab": vocab(),
    }


def tiny_config() -> dict:
    config = full_config()
    config["n_layer"] = 1
    config["text_encoder_kernel_size"] = 3
    config["plbert"] = {"hidden_size": 32, "num_attention_heads": 2, "intermediate_size": 64,
                        "max_position_embeddings": 512, "num_hidden_layers": 1, "dropout": 0.1}
    config["istftnet"] = {**config["istftnet"], "resblock_kernel_sizes": [3],
                          "resblock_dilation_sizes": [[1, 3, 5]]}
    return config


def build_kokoro(folder: Path, config: dict | None = None, voices: tuple[str, ...] = VOICES,
                 seed: int = 0) -> Path:
    """Write a random-weight Kokoro into ``folder`` (kept if already there); returns it."""
    import torch

    from vidgen_ray.speech.kokoro import WEIGHTS

    folder = Path(folder)
    if (folder / WEIGHTS).is_file():
        return folder
    config = config or tiny_config()
    (folder / "voices").mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config, ensure_ascii=False, indent=1),
                                        encoding="utf-8")
    torch.manual_seed(seed)
    parts = _modules(config)
    head = parts["predictor"].duration_proj.linear_layer
    with torch.no_grad():  # sigmoid(bias) * max_dur = frames per phoneme
        head.weight.zero_()
        head.bias.fill_(math.log(FRAMES_PER_PHONEME / (config["max_dur"] - FRAMES_PER_PHONEME)))
    # Saved in half precision (KModel's load_state_dict copies into float32): half the disk.
    torch.save({name: {key: value.half() if value.is_floating_point() else value
                       for key, value in module.state_dict().items()}
                for name, module in parts.items()}, folder / WEIGHTS)
    for voice in voices:
        torch.save(torch.randn(510, 1, 2 * config["style_dim"]) * 0.5,
                   folder / "voices" / f"{voice}.pt")
    return folder


def _modules(config: dict) -> dict:
    """KModel's five sub-modules, built as KModel.__init__ builds them."""
    import torch
    from transformers import AlbertConfig

    from vidgen_ray.speech.kokoro import kmodel_class

    kmodel_class()
    from kokoro.istftnet import Decoder
    from kokoro.modules import CustomAlbert, ProsodyPredictor, TextEncoder

    bert = CustomAlbert(AlbertConfig(vocab_size=config["n_token"], **config["plbert"]))
    return {
        "bert": bert,
        "bert_encoder": torch.nn.Linear(bert.config.hidden_size, config["hidden_dim"]),
        "predictor": ProsodyPredictor(style_dim=config["style_dim"], d_hid=config["hidden_dim"],
                                      nlayers=config["n_layer"], max_dur=config["max_dur"],
                                      dropout=config["dropout"]),
        "text_encoder": TextEncoder(channels=config["hidden_dim"],
                                    kernel_size=config["text_encoder_kernel_size"],
                                    depth=config["n_layer"], n_symbols=config["n_token"]),
        "decoder": Decoder(dim_in=config["hidden_dim"], style_dim=config["style_dim"],
                           dim_out=config["n_mels"], **config["istftnet"]),
    }
