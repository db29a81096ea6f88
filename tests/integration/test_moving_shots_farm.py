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
from vidgen_ray.storyboard import Character, Line, Scene, Storyboard

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


TALKING_BOARD = Storyboard(
    characters=[Character(name="MARA", description="a keeper with grey hair")],
    scenes=[Scene(title="Tower", description="a tower", characters=["MARA"],
                  lines=[Line(text="Night falls."), Line(speaker="MARA", text="Light it.")])])


def test_talking_shots_render_on_the_farm_with_their_pool_on_a_gpu_share(one_gpu, tmp_path):
    """The talking pool (a tiny LTX-2 through the real loader) starts for a job with a
    character's line, on its own share of the card (80 GB named: LTX-2's estimate is 70);
    the chunk that cuts to the close-up gets the clip by reference, in an FFmpeg task."""
    from vidgen_ray.testing.tiny_ltx2 import build_ltx2

    ltx2 = str(build_ltx2(tmp_path / "ltx2"))
    settings = load_settings(
        resolution="360p", fps=15, x264_preset="ultrafast", chunk_seconds=1.0, offline=True,
        shots="talking", ltx2_model=ltx2, ltx2_sigmas=(1.0, 0.5), ltx2_clip_side=64,
        gpu_memory_gb=80.0)

    async def scenario():
        farm = Farm()
        try:
            result = await farm.wait(await farm.submit(TALKING_BOARD, str(tmp_path / "out"),
                                                       settings))
            return result, sorted(k[:2] for k in farm.pools), await farm.workers()
        finally:
            await farm.shutdown()

    result, pools, workers = asyncio.run(asyncio.wait_for(scenario(), 600))
    assert ("talking", "ltx2") in pools
    shares = {row["kind"]: (row["gpu_share"], row["gpu_ids"]) for row in workers}
    share, gpus = shares["talking"]
    assert 0.8 < share < 1 and gpus == ["0"]  # 71 GB of 80, from the memory table
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert sum(key.startswith("talking/") for key in manifest["parts"]) == 1
    assert manifest["backends"]["talking"].startswith("ltx2-talk-1 ")
    assert result.video.stat().st_size > 0 and manifest["settings"]["shots"] == "talking"
