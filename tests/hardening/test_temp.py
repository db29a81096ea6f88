"""Scratch folders (issue 15, point 9): one temp root per job, gone after success, failure
and cancel, and whatever is left is found by `vidgen cleanup --temp`.

A real Farm on a local Ray with the embedded backends (cards, espeak-ng) and real FFmpeg
tasks; a slow fake picture backend where a job must still be running when it is cancelled.
"""

import asyncio
import os
import tempfile
import time
from functools import partial

import pytest
from typer.testing import CliRunner

from vidgen_ray.cli.app import app
from vidgen_ray.config import RenderSettings
from vidgen_ray.errors import OutputError, RenderError
from vidgen_ray.farm.jobs import JobRecord, JobStatus, save_record
from vidgen_ray.farm.scheduler import Farm
from vidgen_ray.pipeline import scratch
from vidgen_ray.storyboard import Line, Scene, Storyboard
from vidgen_ray.testing.fake_backends import SlowImageBackend

BOARD = Storyboard(scenes=[Scene(title=f"Scene {i}", lines=[Line(text=f"Line {i}.")])
                           for i in range(3)])
SETTINGS = RenderSettings(fps=12, chunk_seconds=2.0, image_batch_size=1)
DAY = 86400.0


def farm_test(test):
    return pytest.mark.ray(pytest.mark.ffmpeg(pytest.mark.slow(test)))


def run(scenario):
    return asyncio.run(asyncio.wait_for(scenario, timeout=240))


async def until(check, timeout: float = 60.0) -> None:
    for _ in range(int(timeout / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached in time")


@farm_test
def test_root_gone_after_success_with_what_a_killed_task_left(ray_local, tmp_path):
    job_id = "job-5c7a7c400001"
    root = scratch.job_root(job_id)
    left = root / "chunk-killed"  # as a task killed mid-encode leaves it
    left.mkdir(parents=True)
    (left / "chunk.mp4").write_bytes(b"\0" * 4096)

    async def scenario():
        farm = Farm(max_running=1)
        try:
            await farm.submit(BOARD, str(tmp_path / "out"), SETTINGS, job_id=job_id)
            result = await farm.wait(job_id)
            assert result.video.exists()
        finally:
            await farm.shutdown()

    run(scenario())
    assert not root.exists()


@farm_test
def test_root_gone_after_a_chunk_task_fails_in_it(ray_local, tmp_path):
    # A fonts folder FFmpeg cannot be given: each chunk task makes its folder in the job's
    # root, then refuses the value; the job fails.
    settings = SETTINGS.model_copy(update={"burn_subtitles": True,
                                           "subtitle_fonts_dir": "/fonts\0x"})

    async def scenario():
        farm = Farm(max_running=1)
        try:
            job_id = await farm.submit(BOARD, str(tmp_path / "out"), settings)
            with pytest.raises(RenderError, match="subtitle_fonts_dir"):
                await farm.wait(job_id)
            assert (await farm.status(job_id)).status == JobStatus.failed
            return job_id
        finally:
            await farm.shutdown()

    assert not scratch.job_root(run(scenario())).exists()


@farm_test
def test_root_gone_after_cancel_while_a_chunk_task_works_in_it(ray_local, tmp_path):
    # Slow pictures keep the job running; a slower encoder keeps each chunk task busy long
    # enough to be seen at work in the root.
    settings = SETTINGS.model_copy(update={"x264_preset": "medium", "chunk_seconds": 4.0})
    board = Storyboard(scenes=[*BOARD.scenes, *BOARD.scenes])

    async def scenario():
        farm = Farm(max_running=1,
                    factories={"image": partial(SlowImageBackend, latency_s=1.0)})
        try:
            job_id = await farm.submit(board, str(tmp_path / "out"), settings)
            root = scratch.job_root(job_id)
            await until(lambda: root.is_dir() and any(
                p.name.startswith("chunk-") for p in root.iterdir()))
            await farm.cancel(job_id)
            assert (await farm.status(job_id)).status == JobStatus.cancelled
            assert not root.exists()
            return root
        finally:
            await farm.shutdown()

    root = run(scenario())
    time.sleep(2.0)  # the cancelled task stops its ffmpeg and removes its own folder
    assert not root.exists()


def aged(path, days: float):
    path.mkdir(parents=True, exist_ok=True)
    (path / "piece.wav").write_bytes(b"\0" * 2048)
    stamp = time.time() - days * DAY
    for item in (path / "piece.wav", path):
        os.utime(item, (stamp, stamp))
    return path


def test_cleanup_temp_finds_left_roots_but_not_a_running_jobs(tmp_path, monkeypatch):
    temp = tmp_path / "tmp"
    monkeypatch.setattr(tempfile, "tempdir", str(temp))  # this node's temp folder
    home = tmp_path / "service"
    running = JobRecord(out_dir=str(home / "outputs"), created=time.time())
    running.start()
    save_record(running, home / "parts" / "jobs")
    stale = aged(temp / "vidgen-job-job-0123456789ab" / "chunk-x1", 3).parent
    os.utime(stale, (time.time() - 3 * DAY,) * 2)
    legacy = aged(temp / "vidgen-mix-abc123", 3)
    live = aged(temp / scratch.root_name(running.id) / "mix-y2", 3).parent
    fresh = aged(temp / "vidgen-job-job-ffffffffffff", 0)
    other = aged(temp / "someone-elses", 3)

    dry = CliRunner().invoke(app, ["cleanup", "--temp", "--home", str(home)])
    assert dry.exit_code == 0, dry.output
    assert f"would delete {stale}" in dry.stdout and "job job-0123456789ab" in dry.stdout
    assert f"would delete {legacy}" in dry.stdout
    assert str(live) not in dry.stdout and str(fresh) not in dry.stdout
    done = CliRunner().invoke(app, ["cleanup", "--temp", "--home", str(home), "--yes"])
    assert done.exit_code == 0, done.output
    assert not stale.exists() and not legacy.exists()
    assert live.exists() and fresh.exists() and other.exists()


def test_a_root_is_private_never_a_link_and_a_job_id_cannot_point_it_elsewhere(
        tmp_path, monkeypatch):
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    assert scratch.job_root("../../etc").parent == temp
    assert "/" not in scratch.root_name("../../etc") and ".." not in scratch.root_name("..")
    with scratch.task_folder("job-0123456789ab", "chunk") as work:
        assert work.parent == scratch.job_root("job-0123456789ab")
        assert (work.parent.stat().st_mode & 0o777) == 0o700
    assert not scratch.job_root("job-0123456789ab").exists()  # the last task out removes it
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (temp / scratch.root_name("job-aaaaaaaaaaaa")).symlink_to(elsewhere)  # planted in /tmp
    with pytest.raises(OutputError, match="not this user's own folder"), \
            scratch.task_folder("job-aaaaaaaaaaaa", "mix"):
        pass
    assert list(elsewhere.iterdir()) == []


def test_a_root_removed_between_its_mkdir_and_its_check_is_made_again(tmp_path, monkeypatch):
    """The last task of a job out removes the root; a task starting just then sees it gone
    after its own mkdir. It makes the root again instead of failing the job (a CI run once
    failed a render on this)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    real, removed = scratch.Path.lstat, []

    def lstat_after_a_removal(path):
        if path.name.startswith("vidgen-job-") and not removed:
            removed.append(path)
            path.rmdir()  # as the task ending beside it does
        return real(path)

    monkeypatch.setattr(scratch.Path, "lstat", lstat_after_a_removal)
    with scratch.task_folder("job-race0000001", "chunk") as folder:
        assert folder.is_dir() and removed and folder.parent == removed[0]
