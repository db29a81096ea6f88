"""The farm on a four-node cluster on this machine: a head without CPUs, two "GPU" nodes
(logical GPUs) for the model workers, and a CPU node offering `assembly` for FFmpeg.

Checks placement by node id, then removes the GPU node hosting the picture worker in the
middle of a job: the worker is restarted on the other GPU node, its calls are retried, and
the video's decoded frames equal those of the undisturbed render."""

import asyncio
import subprocess
from functools import partial

import pytest
import ray

from vidgen_ray.config import RenderSettings
from vidgen_ray.farm.scheduler import Farm
from vidgen_ray.storyboard import Line, Scene, Storyboard
from vidgen_ray.testing.fake_backends import SlowImageBackend

pytestmark = [pytest.mark.cluster, pytest.mark.ffmpeg, pytest.mark.slow]

BOARD = Storyboard(scenes=[Scene(title=f"Scene {i}", lines=[Line(text=f"Line {i}.")])
                           for i in range(6)])
# One picture worker of a model backend (faked; 8 of 16 GB: 0.5 GPU), so it fits on either
# GPU node and a lost node's worker has somewhere to go; espeak's worker takes no GPU.
SETTINGS = RenderSettings(fps=12, chunk_seconds=2.0, image_batch_size=1, image_workers=1,
                          speech_workers=1, gpu_memory_gb=16, image_model="sdxl",
                          image_gpu_gb=8)


@pytest.fixture(scope="module")
def cluster():
    from ray.cluster_utils import Cluster

    if ray.is_initialized():
        ray.shutdown()
    # Notice a dead node in ~2 s instead of ~14 s (NOTES.md).
    fast_health = {"health_check_period_ms": 500, "health_check_timeout_ms": 500,
                   "health_check_failure_threshold": 3}
    cluster = Cluster(initialize_head=True,
                      head_node_args={"num_cpus": 0, "_system_config": fast_health})
    nodes = {"gpu-a": cluster.add_node(num_cpus=1, num_gpus=1),
             "gpu-b": cluster.add_node(num_cpus=1, num_gpus=1),
             "cpu": cluster.add_node(num_cpus=2, resources={"assembly": 2})}
    cluster.wait_for_nodes()
    ray.init(address=cluster.address)
    yield cluster, nodes
    ray.shutdown()
    cluster.shutdown()


def frame_hashes(video) -> list[str]:
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", str(video), "-map", "0:v", "-f",
                          "framemd5", "-"], capture_output=True, text=True, check=True).stdout
    return [line.split()[-1] for line in out.splitlines() if not line.startswith("#")]


async def _render(out, on_started=None):
    farm = Farm(factories={"image": partial(SlowImageBackend, latency_s=0.7)})
    try:
        job = await farm.submit(BOARD, str(out), SETTINGS)
        if on_started:
            for _ in range(1200):
                progress = (await farm.status(job)).progress["images"]
                if progress.total and 1 <= progress.done < progress.total:
                    break
                await asyncio.sleep(0.05)
            await on_started(farm)
        result = await farm.wait(job)
        return result, await farm.placement()
    finally:
        await farm.shutdown()


def test_workers_on_gpu_nodes_ffmpeg_on_the_cpu_node_and_a_lost_node(cluster, tmp_path):
    cluster_, nodes = cluster
    gpu_ids = {nodes["gpu-a"].node_id, nodes["gpu-b"].node_id}
    calm, placement = asyncio.run(_render(tmp_path / "calm"))
    image = next(infos for label, infos in placement.items() if label.startswith("image"))
    speech = next(infos for label, infos in placement.items() if label.startswith("speech"))
    assert len(image) == 1 and image[0]["node_id"] in gpu_ids
    assert image[0]["gpu_ids"]  # it sees the GPU Ray assigned it
    assert len(speech) == 1 and speech[0]["gpu_ids"] == []  # espeak takes no GPU
    assert set(calm.placement["chunk"]) == {nodes["cpu"].node_id}
    assert set(calm.placement["mix"]) == {nodes["cpu"].node_id}

    moved = {}

    async def remove_picture_node(farm):
        pool = next(p for (kind, *_), p in farm.pools.items() if kind == "image")
        host = pool.ready_info[0]["node_id"]
        moved["from"] = host
        node = next(n for n in (nodes["gpu-a"], nodes["gpu-b"]) if n.node_id == host)
        cluster_.remove_node(node)

    disturbed, _ = asyncio.run(_render(tmp_path / "disturbed", on_started=remove_picture_node))
    assert frame_hashes(disturbed.video) == frame_hashes(calm.video)
    alive = {n["NodeID"] for n in ray.nodes() if n["Alive"]}
    assert moved["from"] not in alive
