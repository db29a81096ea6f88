"""The encoder on a farm (a local Ray, no NVIDIA card here): auto is resolved by a task
placed as chunk tasks are, to x264; a job asking for nvenc through the Python API (no CLI
check before it) is refused at submit, naming NVENC and the fix."""

from __future__ import annotations

import asyncio

import pytest

from vidgen_ray.config import PREVIEW, RenderSettings
from vidgen_ray.errors import SettingsError
from vidgen_ray.farm.journal import HomeJournal
from vidgen_ray.farm.scheduler import Farm
from vidgen_ray.pipeline import encoders
from vidgen_ray.storyboard import NARRATOR, Line, Scene, Storyboard

pytestmark = [pytest.mark.ray, pytest.mark.ffmpeg]


@pytest.fixture(scope="module")
def no_nvenc():
    if encoders.nvenc_problem() is None:
        pytest.skip("this machine encodes with NVENC")


def test_the_probe_task_resolves_auto_to_x264_and_refuses_nvenc(ray_local, no_nvenc):
    from vidgen_ray.farm.actors import ffmpeg_tasks

    assert ray_local.get(ffmpeg_tasks._resolve_encoder.remote("auto"), timeout=60) == "x264"
    with pytest.raises(ray_local.exceptions.RayTaskError) as info:
        ray_local.get(ffmpeg_tasks._resolve_encoder.remote("nvenc"), timeout=60)
    assert isinstance(info.value.as_instanceof_cause(), SettingsError)


def test_a_farm_refuses_nvenc_at_submit_asked_of_a_chunk_node(ray_local, no_nvenc, tmp_path):
    """Through the Python API (no CLI check before it) and through enqueue (the service's
    way in, with the client's message and field): nothing is queued or written."""
    board = Storyboard(title="nvenc", scenes=[
        Scene(title="One", description="a harbour", lines=[Line(speaker=NARRATOR,
                                                                 text="The boats.")])])
    settings = RenderSettings(encoder="nvenc", **PREVIEW)

    async def run():
        farm = Farm(journal=HomeJournal(tmp_path / "home"))
        try:
            with pytest.raises(SettingsError) as direct:
                await farm.submit(board, str(tmp_path / "job"), settings)
            with pytest.raises(SettingsError) as service:
                await farm.enqueue(board, settings, owner="alice")
            assert await farm.list_jobs() == []
            return direct.value, service.value
        finally:
            await farm.shutdown()

    direct, service = asyncio.run(run())
    assert "NVENC cannot encode" in direct.message and "--encoder x264" in direct.message
    assert direct.field == "encoder"
    assert service.field == "settings.encoder" and "libcuda" not in service.message
    assert not (tmp_path / "job").exists()
    assert not list((tmp_path / "home").rglob("*.json"))  # no request stored
