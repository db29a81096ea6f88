"""The Farm on a local Ray: queue caps, priorities, cancelling, and a worker killed mid-job.

Pictures come from a slow fake backend (a model's latency, deterministic flat PNGs) so a job
runs long enough to be interfered with; speech, FFmpeg and Ray are real."""

import asyncio
import subprocess
from functools import partial

import pytest
import ray

from vidgen_ray.config import RenderSettings
from vidgen_ray.errors import FarmSaturated
from vidgen_ray.farm.jobs import JobStatus
from vidgen_ray.farm.scheduler import Farm
from vidgen_ray.storyboard import Line, Scene, Storyboard
from vidgen_ray.testing.fake_backends import SlowImageBackend

pytestmark = [pytest.mark.ray, pytest.mark.ffmpeg, pytest.mark.slow]

BOARD = Storyboard(scenes=[Scene(title=f"Scene {i}", lines=[Line(text=f"Line {i}.")])
                           for i in range(6)])
SETTINGS = RenderSettings(fps=12, chunk_seconds=2.0, image_batch_size=1)


def slow_farm(latency: float, **kwargs) -> Farm:
    return Farm(factories={"image": partial(SlowImageBackend, latency_s=latency)}, **kwargs)


async def until(predicate, timeout: float = 60.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached in time")


def frame_hashes(video) -> list[str]:
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", str(video), "-map", "0:v", "-f",
                          "framemd5", "-"], capture_output=True, text=True, check=True).stdout
    return [line.split()[-1] for line in out.splitlines() if not line.startswith("#")]


def test_caps_raise_farm_saturated_and_priority_picks_the_next_job(ray_local, tmp_path):
    async def scenario():
        farm = slow_farm(2.0, max_running=1, max_queued=2)
        try:
            first = await farm.submit(BOARD, str(tmp_path / "a"), SETTINGS)
            low = await farm.submit(BOARD, str(tmp_path / "b"), SETTINGS, priority=0)
            high = await farm.submit(BOARD, str(tmp_path / "c"), SETTINGS, priority=5)
            with pytest.raises(FarmSaturated) as info:
                await farm.submit(BOARD, str(tmp_path / "d"), SETTINGS)
            assert info.value.retry_after > 0 and info.value.http_status == 429
            assert "2 queued" in str(info.value)
            states = [(await farm.status(j)).status for j in (first, low, high)]
            assert states == [JobStatus.running, JobStatus.queued, JobStatus.queued]
            await farm.cancel(first)
            try:
                await until(lambda: _is(farm, high, JobStatus.running))
            except AssertionError:
                raise AssertionError(str(await farm.status(high))) from None
            assert (await farm.status(low)).status == JobStatus.queued
            for job in (low, high):
                await farm.cancel(job)
            assert {r.status for r in await farm.list_jobs()} == {JobStatus.cancelled}
        finally:
            await farm.shutdown()

    asyncio.run(scenario())


async def _is(farm: Farm, job_id: str, status: JobStatus) -> bool:
    return (await farm.status(job_id)).status == status


def test_cancel_mid_job_keeps_finished_parts(ray_local, tmp_path):
    async def scenario():
        farm = slow_farm(1.0, max_running=1)
        try:
            job = await farm.submit(BOARD, str(tmp_path / "job"), SETTINGS)

            async def some_pictures_done():
                progress = (await farm.status(job)).progress["images"]
                return progress.done >= 1 and progress.done < progress.total
            await until(some_pictures_done)
            record = await farm.cancel(job)
            assert record.status == JobStatus.cancelled
            assert all(s in ("cancelled", "done") for s in record.scenes)
            with pytest.raises(Exception, match="cancelled"):
                await farm.wait(job)
            kept = list((tmp_path / "job" / "parts" / "image").glob("*.png"))
            assert 1 <= len(kept) < 6
            assert len(list((tmp_path / "job" / "parts" / "speech").glob("*.wav"))) == 6
            assert all(pool.in_flight == 0 for pool in farm.pools.values())
            assert not (tmp_path / "job" / "video.mp4").exists()
        finally:
            await farm.shutdown()

    asyncio.run(scenario())


def test_a_killed_worker_is_replaced_and_the_video_is_unchanged(ray_local, tmp_path):
    async def render(out, kill: bool):
        farm = slow_farm(0.5, max_running=1)
        try:
            job = await farm.submit(BOARD, str(out), SETTINGS)
            if kill:
                await until(lambda: _images_started(farm, job))
                pool = next(p for (kind, *_), p in farm.pools.items() if kind == "image")
                old = {info["pid"] for info in pool.ready_info}
                ray.kill(pool.workers[0], no_restart=False)
            result = await farm.wait(job)
            if kill:
                now = {h["pid"] for h in await pool.health()}
                assert now - old, "the killed worker was not replaced"
            return result
        finally:
            await farm.shutdown()

    calm = asyncio.run(render(tmp_path / "calm", kill=False))
    disturbed = asyncio.run(render(tmp_path / "disturbed", kill=True))
    assert frame_hashes(disturbed.video) == frame_hashes(calm.video)


async def _images_started(farm: Farm, job: str) -> bool:
    progress = (await farm.status(job)).progress["images"]
    return progress.total > 0 and 1 <= progress.done < progress.total


def test_a_failing_scene_fails_the_job_by_name_and_a_rerun_does_only_the_rest(ray_local,
                                                                               tmp_path):
    async def run(fail_scene):
        farm = Farm(factories={"image": partial(SlowImageBackend, latency_s=0.05,
                                                fail_scene=fail_scene)})
        try:
            # Batches of 4 pictures: the failing scene shares a call with good ones.
            job = await farm.submit(BOARD, str(tmp_path / "job"),
                                    SETTINGS.model_copy(update={"image_batch_size": 4}))
            try:
                return await farm.wait(job), await farm.status(job)
            except Exception as exc:  # noqa: BLE001 - returned to be checked below
                return exc, await farm.status(job)
        finally:
            await farm.shutdown()

    error, record = asyncio.run(run(fail_scene=4))
    assert record.status == JobStatus.failed and record.failed_scene == 3
    assert str(error).startswith("pictures: scene 4: ")
    assert "the model produced no image for scene 4" in str(error)
    # The record is for clients: where the parts are and how to resume is the CLI's to say.
    assert record.error == str(error) and str(tmp_path) not in record.error
    assert record.scenes[3] == "failed" and "cancelled" not in record.scenes
    parts = tmp_path / "job" / "parts"
    kept = {p.name: p.stat().st_mtime_ns for p in (parts / "image").glob("*.png")}
    assert len(kept) == 5 and len(list((parts / "speech").glob("*.wav"))) == 6

    result, record = asyncio.run(run(fail_scene=None))
    assert record.status == JobStatus.done and result.video.exists()
    again = {p.name: p.stat().st_mtime_ns for p in (parts / "image").glob("*.png")}
    assert len(again) == 6
    assert {name: again[name] for name in kept} == kept  # finished pictures were reused


def test_jobs_started_together_share_pools_and_a_timed_out_waiter_leaves_the_job_alone(
        ray_local, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    async def scenario():
        farm = slow_farm(0.3, max_running=2)
        try:
            # A relative folder, as an API client might send it.
            jobs = [await farm.submit(BOARD, f"rel/{n}", SETTINGS) for n in range(2)]
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(farm.wait(jobs[0]), 0.5)
            assert (await farm.status(jobs[0])).status == JobStatus.running
            results = [await farm.wait(job) for job in jobs]
            assert sorted(kind for kind, *_ in farm.pools) == ["image", "speech"]
            assert len(farm.shared.starts) == 2  # one start per pool, not one per job
            rows = await farm.workers()
            assert {(r["kind"], r["backend"]) for r in rows} == {("image", "cards"),
                                                                  ("speech", "espeak")}
            for row in rows:  # every worker answered, from this node, with its memory
                assert row["ok"] and row["loaded"] and row["in_flight"] == 0
                assert row["node_id"] == ray.get_runtime_context().get_node_id()
                assert row["node_ip"] == "127.0.0.1" and row["rss_bytes"] > 10_000_000
                assert row["gpu_share"] == 0.0 and "gpu_allocated_bytes" not in row
            speech = next(r for r in rows if r["kind"] == "speech")
            assert speech["calls"] >= 1  # both jobs were voiced through it
            return results
        finally:
            await farm.shutdown()

    results = asyncio.run(scenario())
    assert [r.video for r in results] == [tmp_path / "rel" / str(n) / "video.mp4"
                                          for n in range(2)]
    assert frame_hashes(results[0].video) == frame_hashes(results[1].video)


def test_chunks_start_while_later_scenes_are_still_being_voiced(ray_local, tmp_path):
    from vidgen_ray.testing.fake_backends import SlowSpeechBackend

    async def render(out, batch: int):
        farm = Farm(factories={"speech": partial(SlowSpeechBackend, latency_s=1.0)})
        settings = SETTINGS.model_copy(update={"speech_batch_size": batch,
                                               "chunk_seconds": 1.0})
        early = False
        try:
            job = await farm.submit(BOARD, str(out), settings)
            while (await farm.status(job)).status in (JobStatus.queued, JobStatus.running):
                progress = (await farm.status(job)).progress
                early |= progress["video"].done >= 1 and (
                    progress["speech"].done < progress["speech"].total)
                await asyncio.sleep(0.05)
            return await farm.wait(job), early
        finally:
            await farm.shutdown()

    streamed, early = asyncio.run(render(tmp_path / "streamed", batch=1))
    assert early, "no chunk was encoded before the last line was voiced"
    # All lines in one call: nothing can start early. Same video either way.
    at_once, early = asyncio.run(render(tmp_path / "at-once", batch=8))
    assert not early
    assert frame_hashes(streamed.video) == frame_hashes(at_once.video)
