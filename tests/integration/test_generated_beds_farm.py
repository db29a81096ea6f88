"""Generated beds on the farm (issue 21): a render with ambience_model stable_audio through
the Farm, on a local Ray with one logical GPU: the bed pool (a tiny random-weight Stable
Audio Open through the real loader) is started for it and placed on a share of the GPU (its
estimate in memory.py's table); the pictures (cards) and
speech (espeak) take none. Ray and FFmpeg are real; the model runs on the CPU (there is no
card), one thread."""

from __future__ import annotations

import asyncio
import json
import shutil

import pytest

from vidgen_ray.config import load_settings
from vidgen_ray.farm.placement import bed_gb, gpu_fraction
from vidgen_ray.farm.scheduler import Farm
from vidgen_ray.storyboard import Line, Scene, Storyboard

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")
pytestmark = [pytest.mark.ray, pytest.mark.ffmpeg, pytest.mark.slow,
              pytest.mark.skipif(not (shutil.which("ffmpeg") and shutil.which("espeak-ng")),
                                 reason="needs ffmpeg and espeak-ng")]

BOARD = Storyboard(scenes=[
    Scene(title="Harbour", description="boats at dawn", ambience="ocean",
          lines=[Line(text="The boats.")]),
    Scene(title="Room", description="a quiet room", ambience="none",
          lines=[Line(text="It is quiet.")])])


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    from vidgen_ray.testing.tiny_stable_audio import build_stable_audio

    return str(build_stable_audio(tmp_path_factory.mktemp("tiny") / "stable_audio"))


def test_generated_ambience_renders_on_the_farm_with_its_bed_pool_on_a_gpu_share(
        one_gpu, model, tmp_path):
    settings = load_settings(
        resolution="360p", fps=15, x264_preset="ultrafast", chunk_seconds=1.0,
        ambience_model="stable_audio", stable_audio_model=model, offline=True,
        stable_audio_steps=2)

    async def scenario():
        farm = Farm()
        try:
            result = await farm.wait(await farm.submit(BOARD, str(tmp_path / "out"), settings))
            return result, sorted(k[:2] for k in farm.pools), await farm.workers()
        finally:
            await farm.shutdown()

    result, pools, workers = asyncio.run(asyncio.wait_for(scenario(), 600))
    assert pools == [("beds", "stable_audio"), ("image", "cards"), ("speech", "espeak")]
    shares = {row["kind"]: (row["gpu_share"], row["gpu_ids"]) for row in workers}
    share, gpus = shares["beds"]
    assert share == gpu_fraction(bed_gb(settings), 24.0) and gpus == ["0"]
    assert 0 < share < 1
    assert shares["image"][0] == shares["speech"][0] == 0.0
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    beds = [key for key in manifest["parts"] if key.startswith("bed/")]
    assert len(beds) == 1  # the ocean scene's ambience; the quiet room has none
    assert manifest["backends"]["beds"].startswith("stable-audio-1 ")
    assert result.video.stat().st_size > 0
