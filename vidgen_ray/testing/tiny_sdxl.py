"""A tiny random-weight SDXL pipeline, IP-Adapter, safety checker and LoRA, built offline.

Same folder layouts as the real ones (``stabilityai/stable-diffusion-xl-base-1.0``,
``h94/IP-Adapter`` ``sdxl_models/``, ``CompVis/stable-diffusion-safety-checker``, a LoRA
file as ``latent-consistency/lcm-lora-sdxl`` and ``ByteDance/SDXL-Lightning`` hold one), so the
backend loads them through ``from_pretrained(..., local_files_only=True)`` like real weights.
Shapes are shrunk: the VAE scales by 2 (real SDXL: 8) and the latent has 4 channels.
"""

from __future__ import annotations

from pathlib import Path

SEED = 0
TEXT_HIDDEN = 32  # both text encoders; the UNet attends to their concatenation (64)
TEXT_PROJECTION = 32  # pooled embedding of text encoder 2, fed to text_time
TIME_EMBED = 8  # addition_time_embed_dim: 6 size/crop numbers each embedded to 8
UNET = dict(
    sample_size=32,
    in_channels=4,
    out_channels=4,
    block_out_channels=(32, 64),
    layers_per_block=1,
    down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
    up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
    attention_head_dim=(2, 4),
    transformer_layers_per_block=(1, 2),
    use_linear_projection=True,
    addition_embed_type="text_time",
    addition_time_embed_dim=TIME_EMBED,
    projection_class_embeddings_input_dim=6 * TIME_EMBED + TEXT_PROJECTION,
    cross_attention_dim=2 * TEXT_HIDDEN,
    norm_num_groups=16,
)
IMAGE_ENCODER_PROJECTION = 16  # CLIP vision embedding the IP-Adapter projects into tokens


def byte_vocab() -> tuple[dict[str, int], list[tuple[str, str]]]:
    """A CLIP BPE vocabulary over single bytes: every byte char alone and with ``</w>``,
    a few merges, then the start and end tokens (the real vocab ends with them too)."""
    chars = _byte_chars()
    tokens = chars + [c + "</w>" for c in chars]
    merges = [("t", "h"), ("th", "e</w>"), ("a", "n"), ("i", "n"), ("e", "r</w>")]
    tokens += ["th", "the</w>", "an", "in", "er</w>"]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    return {token: i for i, token in enumerate(tokens)}, merges


def _byte_chars() -> list[str]:
    """GPT-2/CLIP's printable stand-in for each of the 256 bytes."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1),
            *range(ord("®"), ord("ÿ") + 1)]
    extra = iter(range(256, 512))
    return [chr(b) if b in keep else chr(next(extra)) for b in range(256)]


def byte_tokenizer(pad_token: str = "<|endoftext|>"):
    """A CLIPTokenizer over byte_vocab(). transformers 5.24 wants merges as pairs; some 5.x
    releases want "a b" strings: try both."""
    from transformers import CLIPTokenizer

    vocab, merges = byte_vocab()
    try:
        return CLIPTokenizer(vocab=vocab, merges=merges, pad_token=pad_token,
                             model_max_length=77)
    except TypeError:
        return CLIPTokenizer(vocab=vocab, merges=[f"{a} {b}" for a, b in merges],
                             pad_token=pad_token, model_max_length=77)


def _text_config(vocab_size: int):
    from transformers import CLIPTextConfig

    return CLIPTextConfig(
        vocab_size=vocab_size, hidden_size=TEXT_HIDDEN, intermediate_size=37,
        num_attention_heads=4, num_hidden_layers=2, projection_dim=TEXT_PROJECTION,
        max_position_embeddings=77, hidden_act="gelu", bos_token_id=vocab_size - 2,
        eos_token_id=vocab_size - 1, pad_token_id=vocab_size - 1)


def build_sdxl(folder: Path) -> Path:
    """A StableDiffusionXLPipeline folder with random weights (~5 MB); returns it."""
    import torch
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        StableDiffusionXLPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextModel, CLIPTextModelWithProjection

    folder = Path(folder)
    torch.manual_seed(SEED)
    vocab, _ = byte_vocab()
    unet = UNet2DConditionModel(**UNET)
    vae = AutoencoderKL(
        block_out_channels=(32, 64), in_channels=3, out_channels=3, latent_channels=4,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"), norm_num_groups=16,
        sample_size=64, scaling_factor=0.13025)
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
        timestep_spacing="leading", steps_offset=1)
    config = _text_config(len(vocab))
    pipe = StableDiffusionXLPipeline(
        vae=vae, unet=unet, scheduler=scheduler,
        text_encoder=CLIPTextModel(config),
        text_encoder_2=CLIPTextModelWithProjection(config),
        tokenizer=byte_tokenizer(), tokenizer_2=byte_tokenizer(pad_token="!"),
    )
    pipe.save_pretrained(folder)
    return folder


def build_ip_adapter(folder: Path) -> Path:
    """An IP-Adapter for the tiny SDXL in h94's layout: ``sdxl_models/ip-adapter_sdxl
    .safetensors`` (image_proj + to_k_ip/to_v_ip per cross-attention) and its CLIP image
    encoder in ``sdxl_models/image_encoder``; returns ``folder``."""
    import torch
    from diffusers import UNet2DConditionModel
    from safetensors.torch import save_file
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    folder = Path(folder)
    models = folder / "sdxl_models"
    torch.manual_seed(SEED + 1)
    encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=2,
        image_size=32, patch_size=8, projection_dim=IMAGE_ENCODER_PROJECTION))
    encoder.save_pretrained(models / "image_encoder")
    cross = UNET["cross_attention_dim"]
    tensors = {
        "image_proj.proj.weight": torch.randn(4 * cross, IMAGE_ENCODER_PROJECTION) * 0.1,
        "image_proj.proj.bias": torch.zeros(4 * cross),
        "image_proj.norm.weight": torch.ones(cross),
        "image_proj.norm.bias": torch.zeros(cross),
    }
    # The original numbering: every attention processor counts, cross-attentions are odd.
    unet = UNet2DConditionModel(**UNET)
    channels = UNET["block_out_channels"]
    key_id = 1
    for name in unet.attn_processors:
        if name.endswith("attn1.processor"):
            continue
        hidden = _hidden_size(name, channels)
        for kind in ("to_k_ip", "to_v_ip"):
            tensors[f"ip_adapter.{key_id}.{kind}.weight"] = torch.randn(hidden, cross) * 0.1
        key_id += 2
    save_file({k: v.contiguous() for k, v in tensors.items()},
              str(models / "ip-adapter_sdxl.safetensors"))
    return folder


def build_lora(folder: Path, weight_name: str = "pytorch_lora_weights.safetensors") -> Path:
    """A LoRA for the tiny SDXL's UNet (what SDXL-Lightning, LCM-LoRA and Hyper-SD adapt),
    made with peft and saved in diffusers' layout as ``folder/weight_name``; its up
    projections are random, not zero, so it changes what the UNet draws. Returns ``folder``."""
    import torch
    from diffusers import StableDiffusionXLPipeline, UNet2DConditionModel
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    folder = Path(folder)
    torch.manual_seed(SEED + 4)
    unet = UNet2DConditionModel(**UNET)
    unet.add_adapter(LoraConfig(r=4, lora_alpha=4, init_lora_weights=False,
                                target_modules=["to_q", "to_k", "to_v", "to_out.0"]))
    layers = convert_state_dict_to_diffusers(get_peft_model_state_dict(unet))
    StableDiffusionXLPipeline.save_lora_weights(folder, unet_lora_layers=layers,
                                                weight_name=weight_name)
    return folder


def _hidden_size(name: str, channels: tuple[int, ...]) -> int:
    if name.startswith("mid_block"):
        return channels[-1]
    block = int(name.split(".")[1])
    return list(reversed(channels))[block] if name.startswith("up_blocks") else channels[block]


def build_safety_checker(folder: Path, flag_everything: bool) -> Path:
    """A StableDiffusionSafetyChecker folder (CompVis layout, with its CLIPImageProcessor)
    whose thresholds make it flag every image (``flag_everything``) or none."""
    import torch
    from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker
    from transformers import CLIPConfig, CLIPImageProcessor

    folder = Path(folder)
    torch.manual_seed(SEED + 2)
    config = CLIPConfig(
        text_config=dict(hidden_size=32, intermediate_size=37, num_attention_heads=4,
                         num_hidden_layers=2, vocab_size=99, bos_token_id=0,
                         eos_token_id=1, pad_token_id=1),
        vision_config=dict(hidden_size=32, intermediate_size=37, num_attention_heads=4,
                           num_hidden_layers=2, image_size=32, patch_size=8),
        projection_dim=16)
    checker = StableDiffusionSafetyChecker(config)
    # score = cosine - threshold (+ adjustment) > 0 flags: cosines lie in [-1, 1].
    with torch.no_grad():
        checker.concept_embeds_weights.fill_(-2.0 if flag_everything else 2.0)
        checker.special_care_embeds_weights.fill_(2.0)
    checker.save_pretrained(folder)
    CLIPImageProcessor(size=32, crop_size=32).save_pretrained(folder)
    return folder


def build_x4_upscaler(folder: Path) -> Path:
    """A StableDiffusionUpscalePipeline folder (stabilityai/stable-diffusion-x4-upscaler's
    layout) with random weights: a 3-level VAE (4x) and a UNet taking latents plus the
    low-resolution picture (7 channels) and the noise level as a class label."""
    import torch
    from diffusers import (
        AutoencoderKL,
        DDIMScheduler,
        DDPMScheduler,
        StableDiffusionUpscalePipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextModel

    folder = Path(folder)
    torch.manual_seed(SEED + 3)
    vocab, _ = byte_vocab()
    unet = UNet2DConditionModel(
        sample_size=32, in_channels=7, out_channels=4, layers_per_block=1,
        block_out_channels=(32, 32, 64),
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=TEXT_HIDDEN, attention_head_dim=8, use_linear_projection=True,
        num_class_embeds=400, norm_num_groups=16)
    vae = AutoencoderKL(
        block_out_channels=(32, 32, 64), in_channels=3, out_channels=3, latent_channels=4,
        down_block_types=("DownEncoderBlock2D",) * 3, up_block_types=("UpDecoderBlock2D",) * 3,
        norm_num_groups=16, scaling_factor=0.08333)
    pipe = StableDiffusionUpscalePipeline(
        vae=vae, unet=unet, text_encoder=CLIPTextModel(_text_config(len(vocab))),
        tokenizer=byte_tokenizer(), low_res_scheduler=DDPMScheduler(),
        scheduler=DDIMScheduler(prediction_type="v_prediction"), max_noise_level=350)
    pipe.save_pretrained(folder)
    return folder
