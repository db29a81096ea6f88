"""The farm's GPU budget on one logical 24 GB GPU: the embedded backends take none, an idle
model pool is retired (least recently used first) for a pool a job needs, a pool a running
job uses is not, and a job whose models fit on no card is refused at submit.

SDXL and Bark are fakes (SlowImageBackend, SlowSpeechBackend: their latency and protocol);
their pools ask for the GPU shares the measured table gives the real models. Ray, espeak-ng
and FFmpeg are real."""

import asyncio
from functools import partial

import pytest
import ray

from vidgen_ray.config import RenderSettings
from vidgen_ray.errors import SettingsError
from vidgen_ray.farm.actors.pool import WorkerPool
from vidgen_ray.farm.placement import gpu_fraction
from vidgen_ray.farm.pools import SharedPools
from vidgen_ray.farm.scheduler import Farm
from vidgen_ray.storyboard import Line, Scene, Storyboard
from vidgen_ray.testing.fake_backends import SlowImageBackend, SlowSpeechBackend

pytestmark = [pytest.mark.ray, pytest.mark.ffmpeg, pytest.mark.slow]

BOARD = Storyboard(scenes=[Scene(title=f"Scene {i}", lines=[Line(text=f"Line {i}.")])
                           for i in range(2)])
FAST = {"fps": 12, "chunk_seconds": 2.0, "preview": True, "gpu_memory_gb": 24}
SDXL = {**FAST, "image_model": "sdxl", "image_safety_checker": False}
SDXL_SHARE = gpu_fraction(11.53 + 1.0, 24)  # 0.53 of the card
FACTORIES = {"image": partial(SlowImageBackend, latency_s=0.05),
             "speech": partial(SlowSpeechBackend, latency_s=0.05)}


@pytest.fixture(scope="module")
def one_gpu():
    if ray.is_initialized():
        ray.shutdown()
    ray.init(address="local", num_cpus=4, num_gpus=1, include_dashboard=False,
             _node_ip_address="127.0.0.1", logging_level="WARNING", log_to_driver=False,
             object_store_memory=256 * 1024**2)
    yield ray
    ray.shutdown()


def gpu_free() -> float:
    return ray.available_resources().get("GPU", 0.0)


async def settle(expected: float) -> None:
    """Ray frees a killed actor's share a moment later."""
    for _ in range(200):
        if abs(gpu_free() - expected) < 1e-3:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"GPU free {gpu_free()}, expected {expected}")


def test_a_default_job_holds_no_gpu_and_sdxl_jobs_retire_the_idle_pool(one_gpu, tmp_path):
    async def scenario():
        farm = Farm(factories=FACTORIES)
        try:
            default = await farm.submit(BOARD, str(tmp_path / "default"), RenderSettings(**FAST))
            await farm.wait(default)
            assert gpu_free() == 1.0  # cards and espeak take no share
            first = RenderSettings(**SDXL, sdxl_model="model-a")
            await farm.wait(await farm.submit(BOARD, str(tmp_path / "a"), first))
            a_key = next(k for k in farm.pools if k[1] == "sdxl")
            await settle(1.0 - SDXL_SHARE)  # SDXL at batch 1: 12.5 GB of 24
            # Another SDXL the first pool cannot serve: both do not fit on the one card.
            second = RenderSettings(**SDXL, sdxl_model="model-b")
            result = await asyncio.wait_for(
                farm.wait(await farm.submit(BOARD, str(tmp_path / "b"), second)), 120)
            assert result.video.exists()
            assert farm.shared.retired == [a_key]  # the idle one made room
            sdxl = [k for k in farm.pools if k[1] == "sdxl"]
            assert len(sdxl) == 1 and sdxl[0] != a_key
            assert ("image", "cards") in {k[:2] for k in farm.pools}  # held nothing: kept
            await settle(1.0 - SDXL_SHARE)
        finally:
            await farm.shutdown()

    asyncio.run(scenario())


def test_a_pool_in_use_is_never_retired_and_the_next_waits_for_it(one_gpu):
    async def scenario():
        shared = SharedPools(FACTORIES)
        bark = RenderSettings(**{**FAST, "tts_model": "bark", "gpu_memory_gb": 16})
        sdxl = RenderSettings(**{**SDXL, "gpu_memory_gb": 16})  # 12.5 GB: not beside Bark
        try:
            await shared.for_settings(bark, user="bark-job")
            waiting = asyncio.ensure_future(shared.for_settings(sdxl, user="sdxl-job"))
            await asyncio.sleep(1.0)
            assert not waiting.done() and shared.retired == []  # Bark's job is running
            shared.leave("bark-job")
            pools = await asyncio.wait_for(waiting, 60)
            assert [k[1] for k in shared.retired] == ["bark"]  # not cards: it held no GPU
            assert pools.image.options["num_gpus"] == 0.79  # 12.53 GB of 16
            await settle(1.0 - 0.79)
        finally:
            await shared.shutdown()

    asyncio.run(scenario())


def test_an_idle_pool_is_retired_after_its_timeout(one_gpu):
    async def scenario():
        shared = SharedPools(FACTORIES)
        settings = RenderSettings(**SDXL, pool_idle_timeout_s=0.5)
        try:
            await shared.for_settings(settings, user="job")
            assert len(shared.started) == 2
            shared.leave("job")
            await asyncio.sleep(1.0)
            assert [k[1] for k in shared.retired] == ["sdxl", "espeak"]
            assert shared.started == {}
            await settle(1.0)
        finally:
            await shared.shutdown()

    asyncio.run(scenario())


def test_a_job_that_cannot_fit_is_refused_at_submit(one_gpu, tmp_path):
    async def scenario():
        farm = Farm(factories=FACTORIES)
        try:
            small = RenderSettings(**{**SDXL, "gpu_memory_gb": 8})
            with pytest.raises(SettingsError, match=r"SDXL needs 12\.5 GB per worker \(batch "
                                                    r"1\); the largest card here is a "):
                await farm.submit(BOARD, str(tmp_path / "x"), small)
            assert await farm.list_jobs() == []  # nothing queued, nothing waits
        finally:
            await farm.shutdown()

    asyncio.run(scenario())


def test_a_kokoro_worker_holds_no_gpu_and_sees_no_card(one_gpu):
    async def scenario():
        pool = WorkerPool("speech", RenderSettings(tts_model="kokoro"),
                          factory=FACTORIES["speech"])
        async with pool:
            return pool.options, pool.ready_info

    options, ready = asyncio.run(scenario())
    assert "num_gpus" not in options and options["num_cpus"] == 1
    assert [(r["gpu_ids"], r["cuda_visible_devices"]) for r in ready] == [([], "")] * len(ready)
    assert gpu_free() == 1.0
