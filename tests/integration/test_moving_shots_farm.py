"""Moving shots on the farm (issue 21): a render with one clip scene through the Farm, on a
local Ray with one logical GPU: the motion pool (a tiny random-weight LTX-Video through the
real loader) is started for it and placed on a share of the GPU, as its LTX entry in the
memory table asks; the pictures (cards) and speech (espeak) take none. Ray and FFmpeg are
real; the model runs on the CPU (there is no card), one thread."""

from __future__ import annotations

import asyncio
import json
import shutil

import pytest

from vidgen_ray.config import load_settings
from vidgen_ray.farm.scheduler import Farm
from vidgen_ray.storyboard import Line, Scene, Storyboard

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")
pytestmark = [pytest.mark.ray, pytest.mark.ffmpeg, pytest.mark.slow,
              pytest.mark.skipif(not (shutil.which("ffmpeg") and shutil.which("espeak-ng")),
                                 reason="needs ffmpeg and espeak-ng")]

BOARD = Storyboard(scenes=[
    Scene(title="Harbour", description="boats at dawn", lines=[Line(text="The boats.")]),
    Scene(title="Window", description="a window in the storm", motion="clip",
          motion_prompt="rain streaks the window", lines=[Line(text="It rains.")])])


@pytest.fixture(scope="module")
def ltx(tmp_path_factory):
    from vidgen_ray.testing.tiny_ltx import build_ltx

    return str(build_ltx(tmp_path_factory.mktemp("tiny") / "ltx"))


def test_a_clip_scene_renders_on_the_farm_with_its_motion_pool_on_a_gpu_share(
        one_gpu, ltx, tmp_path):
    settings = load_settings(
        resolution="360p", fps=15, x264_preset="ultrafast", chunk_seconds=1.0,
        video_model="ltx", ltx_model=ltx, offline=True, ltx_steps=2, ltx_frames=9,
        ltx_fps=8, ltx_clip_side=96, clip_crossfade=0.25, max_clips_per_scene=2)

    async def scenario():
        farm = Farm()
        try:
            result = await farm.wait(await farm.submit(BOARD, str(tmp_path / "out"), settings))
            return result, sorted(k[:2] for k in farm.pools), await farm.workers()
        finally:
            await farm.shutdown()

    result, pools, workers = asyncio.run(asyncio.wait_for(scenario(), 600))
    assert pools == [("image", "cards"), ("motion", "ltx"), ("speech", "espeak")]
    shares = {row["kind"]: (row["gpu_share"], row["gpu_ids"]) for row in workers}
    share, gpus = shares["motion"]
    assert 0 < share < 1 and gpus == ["0"]  # a share of the one GPU, from the memory table
    assert shares["image"][0] == shares["speech"][0] == 0.0
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    kinds = {key.split("/")[0] for key in manifest["parts"]}
    assert {"motion", "motion-fit"} <= kinds and manifest["notes"] == []
    assert result.video.stat().st_size > 0
    fits = [span for span in result.spans if span.kind == "fit"]
    assert len(fits) == 1  # fitted by an FFmpeg task, where chunks run
