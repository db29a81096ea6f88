"""From the SDXL drawing size to the video's size: Lanczos plus light sharpening by default,
or the diffusers x4 upscaler first when one is configured. Aspect differences (1344x768 is
1.75, 16:9 is 1.78) are taken by a centred crop, never by stretching."""

from __future__ import annotations

from PIL import Image, ImageFilter

# Light: enough to undo Lanczos softening at 2-3x, not enough to ring on edges.
UNSHARP = dict(radius=1.2, percent=60, threshold=2)


def cover_box(source: tuple[int, int], target: tuple[int, int]) -> tuple[int, int, int, int]:
    """The centred crop of ``source`` with the aspect of ``target`` (pure)."""
    sw, sh = source
    tw, th = target
    if sw * th > tw * sh:  # source wider: cut the sides
        w = round(sh * tw / th)
        left = (sw - w) // 2
        return left, 0, left + w, sh
    h = round(sw * th / tw)
    top = (sh - h) // 2
    return 0, top, sw, top + h


def fit_lanczos(image: Image.Image, size: tuple[int, int]) -> tuple[Image.Image, bool]:
    """``image`` cropped to the aspect of ``size`` and scaled to it with Lanczos, sharpened
    when it was enlarged; returns (picture, whether it was enlarged)."""
    if image.size == size:
        return image, False
    box = cover_box(image.size, size)
    enlarged = size[0] > box[2] - box[0]
    image = image.resize(size, Image.LANCZOS, box=box)
    if enlarged:
        image = image.filter(ImageFilter.UnsharpMask(**UNSHARP))
    return image, enlarged


class X4Upscaler:
    """diffusers' StableDiffusionUpscalePipeline (e.g. stabilityai/stable-diffusion-x4-upscaler),
    loaded once beside SDXL; used only for pictures smaller than the video."""

    def __init__(self, model: str, device: str, dtype, local_only: bool, steps: int = 20):
        from diffusers import StableDiffusionUpscalePipeline

        self.pipe = StableDiffusionUpscalePipeline.from_pretrained(
            model, dtype=dtype, local_files_only=local_only).to(device)
        self.pipe.set_progress_bar_config(disable=True)
        self.steps = steps

    def __call__(self, image: Image.Image, prompt: str, seed: int) -> Image.Image:
        import torch

        generator = torch.Generator("cpu").manual_seed(seed)
        return self.pipe(prompt=prompt, image=image, num_inference_steps=self.steps,
                         generator=generator).images[0]
