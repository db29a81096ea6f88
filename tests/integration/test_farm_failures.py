"""A picture stage that fails, through a Farm on a local Ray, with the tiny SDXL: a model folder
whose scheduler cannot be set (the pipeline raises a plain ValueError when it draws), as a
broken model does. The job's error is the pictures' own, with the scene as people count it,
never "scene 1 has no picture" from the video stage that waited for it, and it comes at once."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time

import pytest

from vidgen_ray.config import load_settings
from vidgen_ray.farm.jobs import JobStatus
from vidgen_ray.farm.scheduler import Farm
from vidgen_ray.storyboard import NARRATOR, Character, Line, Scene, Storyboard
from vidgen_ray.testing import tiny_sdxl
from vidgen_ray.testing.fake_backends import DyingImageBackend

pytestmark = [pytest.mark.ray, pytest.mark.ffmpeg, pytest.mark.slow]


@pytest.fixture(scope="module")
def broken_folder(tmp_path_factory):
    folder = tiny_sdxl.build_sdxl(tmp_path_factory.mktemp("tiny") / "sdxl")
    config = folder / "scheduler" / "scheduler_config.json"
    settings = json.loads(config.read_text())
    config.write_text(json.dumps({**settings, "timestep_spacing": "sideways"}))
    return folder


@pytest.fixture(scope="module")
def broken_sdxl(broken_folder):
    return load_settings(image_model="sdxl", sdxl_model=str(broken_folder), offline=True,
                         image_resolution="64x64", image_inference_steps=2,
                         image_safety_checker=False, fps=12, chunk_seconds=2.0)


def render(storyboard: Storyboard, settings, out, factories=None
           ) -> tuple[Exception, object, float]:
    """(what waiting for the job raised, its record, seconds from submit to failure)."""
    async def run():
        farm = Farm(factories=factories)
        try:
            started = time.monotonic()
            job = await farm.submit(storyboard, str(out), settings)
            with pytest.raises(Exception) as failed:
                await asyncio.wait_for(farm.wait(job), 300)
            return failed.value, await farm.status(job), time.monotonic() - started
        finally:
            await farm.shutdown()
    return asyncio.run(run())


def scenes(*descriptions: str, who: str | None = None) -> list[Scene]:
    return [Scene(title=f"Scene {i + 1}", description=text, characters=[who] if who else [],
                  lines=[Line(speaker=who or NARRATOR, text=f"Line {i + 1}.")])
            for i, text in enumerate(descriptions)]


def test_a_tiny_sdxl_that_cannot_draw_fails_the_job_as_pictures_at_its_scene(
        ray_local, broken_sdxl, tmp_path):
    board = Storyboard(title="broken", scenes=scenes("a storm", "a door", "the dawn"))
    error, record, seconds = render(board, broken_sdxl, tmp_path / "job")
    assert record.status == JobStatus.failed and seconds < 120, (record.status, seconds)
    assert record.error.startswith("pictures: scene 1: "), record.error
    assert "sideways" in record.error and "has no picture" not in record.error
    assert str(error) == record.error  # what the farm's caller reads
    assert tempfile.gettempdir() not in record.error and "ValueError" not in record.error
    assert record.failed_scene == 0 and record.scenes[0] == "failed"
    assert set(record.scenes[1:]) <= {"stopped"}, record.scenes
    assert record.stage_errors["pictures"] == record.error
    for stage in ("video", "soundtrack", "finishing"):
        assert record.stage_errors[stage] == "stopped: pictures failed at scene 1"


def test_when_the_portraits_fail_the_job_says_so_not_that_a_scene_has_no_picture(
        ray_local, broken_sdxl, tmp_path):
    board = Storyboard(title="portraits", scenes=scenes("a storm", "a door", who="MARA"),
                       characters=[Character(name="MARA", description="a woman in red")])
    error, record, seconds = render(board, broken_sdxl, tmp_path / "job")
    assert seconds < 120
    assert record.error.startswith("pictures: the characters' portraits: "), record.error
    assert "sideways" in record.error and "has no picture" not in record.error
    assert record.failed_scene is None and set(record.scenes) == {"stopped"}
    assert record.stage_errors["video"] == "stopped: pictures failed"


def test_vidgen_render_exits_with_the_pictures_error(broken_folder, tmp_path):
    script = tmp_path / "two.md"
    script.write_text("# Two\n\n## Storm\n\nThe storm broke.\n\n## Dawn\n\nIt passed.\n",
                      encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDGEN_")}
    done = subprocess.run(
        [sys.executable, "-m", "vidgen_ray", "render", str(script), "-o", str(tmp_path / "out"),
         "--images", "sdxl", "--sdxl-model", str(broken_folder), "--image-resolution", "64x64",
         "--steps", "2", "--offline", "--no-safety-checker", "--fps", "12"],
        capture_output=True, text=True, timeout=300, env={**env, "OMP_NUM_THREADS": "1"})
    message = " ".join((done.stdout + done.stderr).split("error:")[-1].split())
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert message.startswith("pictures: scene 1: "), message
    assert "sideways" in message and "run the same command again to resume" in message


def test_a_picture_that_kills_its_worker_every_time_fails_the_job_without_the_call_timeout(
        ray_local, tmp_path):
    """Ray restarts a worker whose process dies and would resend its call for ever: the job
    waited out the 600 s call timeout. The pool resends it a few times, then names why."""
    board = Storyboard(title="dying", scenes=scenes("a storm"))
    settings = load_settings(fps=12, chunk_seconds=2.0, image_batch_size=1)
    error, record, seconds = render(board, settings, tmp_path / "job",
                                    factories={"image": DyingImageBackend})
    assert seconds < 120, seconds
    assert record.error.startswith("pictures: scene 1: "), record.error
    assert "died 3 times on the same request(s)" in record.error
    assert record.stage_errors["video"] == "stopped: pictures failed at scene 1"
