"""One resident model serves every job that loads it (issue 17): a 16:9 job and then a 9:16
job, at two Bark temperatures, on one Farm and one logical GPU, run on one SDXL pool and one
Bark pool, and each job's pictures are drawn at its own shape (not cropped from the other's).
Tiny random-weight SDXL and Bark through the real loaders; Ray and FFmpeg are real."""

from __future__ import annotations

import asyncio
import io

import pytest
from PIL import Image

from vidgen_ray.config import load_settings
from vidgen_ray.farm.scheduler import Farm
from vidgen_ray.images.portraits import picture_notes
from vidgen_ray.storyboard import Line, Scene, Storyboard
from vidgen_ray.testing.tiny_bark import build_bark
from vidgen_ray.testing.tiny_sdxl import build_sdxl

pytestmark = [pytest.mark.ray, pytest.mark.ffmpeg, pytest.mark.slow]

BOARD = Storyboard(scenes=[
    Scene(title="Harbour", description="boats at dawn", lines=[Line(text="The boats.")]),
    Scene(title="Lamp", description="a lamp in the tower", lines=[Line(text="Light it.")])])


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    return {"sdxl": str(build_sdxl(root / "sdxl")), "bark": str(build_bark(root / "bark"))}


def _settings(models, **job):
    return load_settings(
        fps=12, resolution="360p", image_model="sdxl", sdxl_model=models["sdxl"],
        image_inference_steps=2, image_safety_checker=False, tts_model="bark",
        bark_model=models["bark"], offline=True, image_workers=1, speech_workers=1, **job)


def test_landscape_then_portrait_jobs_share_one_model_each(one_gpu, models, tmp_path):
    wide = _settings(models, aspect="16:9", image_resolution="128x72", tts_temperature=0.3)
    tall = _settings(models, aspect="9:16", image_resolution="72x128", tts_temperature=0.9)

    async def scenario():
        farm = Farm()
        try:
            for name, settings in (("wide", wide), ("tall", tall)):
                await farm.wait(await farm.submit(BOARD, str(tmp_path / name), settings))
            return sorted((kind, backend) for kind, backend, _ in farm.pools)
        finally:
            await farm.shutdown()

    assert asyncio.run(asyncio.wait_for(scenario(), 600)) == [("image", "sdxl"),
                                                              ("speech", "bark")]
    for name, video, drawn in (("wide", (640, 360), "128x72"), ("tall", (360, 640), "72x128")):
        pngs = sorted((tmp_path / name / "parts" / "image").glob("*.png"))
        assert len(pngs) == 2, name
        for png in pngs:
            data = png.read_bytes()
            assert Image.open(io.BytesIO(data)).size == video, name
            assert picture_notes(data)["drawn"] == drawn, name  # its own shape, not cropped
