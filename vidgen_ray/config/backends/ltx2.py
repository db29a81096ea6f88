"""LTX-2's options for talking shots (issue 21): motion/talking.py turns the LOAD_FIELDS into
what a worker loads; the others are each talking clip's defaults (frame rate, schedule,
the portrait's conditioning compression).

Part of RenderSettings through config/motion.py (``--shots talking``); ``Ltx2Settings()``
alone also builds one; motion.talking.TalkingOptions.from_settings reads either.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, field_validator

from vidgen_ray.config.backends.loading import ModelLoading
from vidgen_ray.config.scope import Scope

FARM_RECORDED = Scope("farm", recorded=True)
# LTX-2.3 distilled in diffusers' layout. The talking backend runs one LTX2DFRPipeline pass
# on the distilled sigma schedule without guidance, which is what a distilled checkpoint is
# trained for. Not loaded or measured here (no GPU, no network): check it on a GPU node.
DEFAULT_MODEL = "diffusers/LTX-2.3-Distilled-Diffusers"
MAX_SECONDS = 20.0  # LTX-2's pipelines bound a clip at 20 s (their max_seconds default)


class Ltx2Settings(ModelLoading):
    """LTX-2 weights and how each talking clip is sampled."""

    BACKEND: ClassVar[str] = "ltx2"
    LOAD_FIELDS: ClassVar[tuple[str, ...]] = (
        "ltx2_model", "ltx2_half_dtype", "ltx2_vae_tiling", "ltx2_cross_timestep",
        "half_precision", "cpu_offload", "attention", "compile", "offline")

    ltx2_model: Annotated[str, FARM_RECORDED] = Field(
        DEFAULT_MODEL, min_length=1,
        description="LTX-2 model id (Hugging Face cache) or local folder, in diffusers' layout "
        "(model_index.json with transformer, vae, audio_vae, vocoder, text_encoder, "
        "tokenizer, connectors, scheduler); a distilled checkpoint.")
    ltx2_half_dtype: Annotated[Literal["bf16", "fp16"], FARM_RECORDED] = Field(
        "bf16", description="Half precision type on CUDA; bf16 is what LTX-2's authors use.")
    ltx2_vae_tiling: Annotated[bool, FARM_RECORDED] = Field(
        False, description="Decode clips in VAE tiles: less GPU memory, slower.")
    ltx2_cross_timestep: Annotated[bool, FARM_RECORDED] = Field(
        True, description="Modulate cross-modal attention by the other stream's noise level: "
        "on for LTX-2.3 and later, off for LTX-2.0 (diffusers' use_cross_timestep).")
    ltx2_clip_side: int = Field(
        768, ge=64, le=1536, description="Long side of a talking clip in pixels (the short "
        "side follows the video's shape, on the model's 32-pixel grid); the chunks scale it "
        "to the frame.")
    ltx2_fps: int = Field(
        24, ge=1, le=60, description="A talking clip's frame rate when its request names "
        "none; renders ask for the video's own rate, so each clip frame is one video frame.")
    ltx2_sigmas: tuple[float, ...] | None = Field(
        None, min_length=1, max_length=50, description="The noise schedule, without the final "
        "0; empty: diffusers' distilled LTX-2 schedule (8 steps).")
    ltx2_image_crf: int = Field(
        33, ge=0, le=51, description="H.264 CRF the portrait is re-compressed at before it "
        "conditions the first frame, as LTX-2 was trained (33 through LTX-2.3, 18 for "
        "LTX-2.5); 0 leaves it as it is.")
    ltx2_max_seconds: float = Field(
        MAX_SECONDS, gt=0.0, le=MAX_SECONDS, description="The longest line a talking clip is "
        "made for; longer lines are refused (split the line).")

    @field_validator("ltx2_sigmas")
    @classmethod
    def _falling_noise(cls, sigmas: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if sigmas is not None and (
                any(not 0.0 < s <= 1.0 for s in sigmas)
                or any(a <= b for a, b in zip(sigmas, sigmas[1:], strict=False))):
            raise ValueError(f"ltx2_sigmas {list(sigmas)} must fall strictly, each in (0, 1], "
                             "e.g. [1.0, 0.725, 0.42]; leave it empty for the distilled "
                             "schedule")
        return sigmas
