"""The encoder on a farm (a local Ray, no NVIDIA card here): auto is resolved by a task
placed as chunk tasks are, to x264; a job asking for nvenc through the Python API (no CLI
check before it) fails at once, before any chunk, naming NVENC and the fix."""

from __future__ import annotations

import asyncio

import pytest

from vidgen_ray.config import PREVIEW, RenderSettings
from vidgen_ray.farm.jobs import JobStatus
from vidgen_ray.farm.scheduler import Farm
from vidgen_ray.pipeline import encoders
from vidgen_ray.storyboard import NARRATOR, Line, Scene, Storyboard

pytestmark = [pytest.mark.ray, pytest.mark.ffmpeg]


@pytest.fixture(scope="module")
def no_nvenc():
    if encoders.nvenc_problem() is None:
        pytest.skip("this machine encodes with NVENC")


def test_the_probe_task_resolves_auto_to_x264_and_refuses_nvenc(ray_local, no_nvenc):
    from vidgen_ray.errors import SettingsError
    from vidgen_ray.farm.actors import ffmpeg_tasks

    assert ray_local.get(ffmpeg_tasks._resolve_encoder.remote("auto"), timeout=60) == "x264"
    with pytest.raises(ray_local.exceptions.RayTaskError) as info:
        ray_local.get(ffmpeg_tasks._resolve_encoder.remote("nvenc"), timeout=60)
    assert isinstance(info.value.as_instanceof_cause(), SettingsError)


def test_a_farm_job_asking_for_nvenc_fails_before_any_chunk(ray_local, no_nvenc, tmp_path):
    board = Storyboard(title="nvenc", scenes=[
        Scene(title="One", description="a harbour", lines=[Line(speaker=NARRATOR,
                                                                 text="The boats.")])])
    settings = RenderSettings(encoder="nvenc", **PREVIEW)

    async def run():
        farm = Farm()
        try:
            job = await farm.submit(board, str(tmp_path / "job"), settings)
            with pytest.raises(Exception) as failed:
                await asyncio.wait_for(farm.wait(job), 120)
            return failed.value, await farm.status(job)
        finally:
            await farm.shutdown()

    error, record = asyncio.run(run())
    assert record.status == JobStatus.failed
    assert "NVENC" in record.error and "--encoder x264" in record.error, record.error
    assert not list((tmp_path / "job").glob("parts/chunk*"))
