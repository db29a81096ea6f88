"""Backpressure on the CPU stage, on a three-node cluster on this machine: a head without
CPUs (as cluster.yaml's), a plain node with CPUs but no `assembly`, and one assembly node
with 2 CPUs. FFmpeg tasks go only to the assembly node, at most its 2 slots are in flight at
once (measured from each task's own times: handed to Ray, started, ended on its node), and
finishing (join, mux, check, QC) runs there too, so the head needs no FFmpeg. Chunks still
start while pictures are being drawn, and a still shown by several chunks is put in the
object store once."""

import asyncio
from functools import partial

import pytest
import ray

from vidgen_ray.config import RenderSettings
from vidgen_ray.farm.actors.executor import Pools, RayExecutor
from vidgen_ray.farm.scheduler import Farm
from vidgen_ray.images.base import ImageRequest
from vidgen_ray.images.cards import CardsBackend
from vidgen_ray.pipeline.slots import most_at_once
from vidgen_ray.storage import LocalStore, content_key
from vidgen_ray.storyboard import Line, Scene, Storyboard
from vidgen_ray.testing.fake_backends import SlowImageBackend
from vidgen_ray.timeline import Pacing, plan_timeline

pytestmark = [pytest.mark.cluster, pytest.mark.ffmpeg, pytest.mark.slow]

BOARD = Storyboard(scenes=[Scene(title=f"Scene {i}", lines=[Line(text=f"Line {i}.")])
                           for i in range(4)])
# Small frames, short chunks, a second size: many chunks ready at once.
SETTINGS = RenderSettings(resolution="360p", fps=12, x264_preset="ultrafast",
                          chunk_seconds=1.0, renditions=["180x320"], image_batch_size=1,
                          image_workers=1, speech_workers=1)
SLOTS = 2


@pytest.fixture(scope="module")
def cluster():
    from ray.cluster_utils import Cluster

    if ray.is_initialized():
        ray.shutdown()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    nodes = {"plain": cluster.add_node(num_cpus=2),
             "assembly": cluster.add_node(num_cpus=SLOTS, resources={"assembly": 4})}
    cluster.wait_for_nodes()
    ray.init(address=cluster.address)
    yield nodes
    ray.shutdown()
    cluster.shutdown()


async def _render(out, factories=None):
    farm = Farm(factories=factories)
    try:
        job = await farm.submit(BOARD, str(out), SETTINGS)
        result = await farm.wait(job)
        return result, await farm.status(job)
    finally:
        await farm.shutdown()


def test_ffmpeg_tasks_stay_within_the_assembly_slots_and_finish_there(cluster, tmp_path):
    assembly = cluster["assembly"].node_id
    result, _ = asyncio.run(_render(tmp_path / "out"))
    spans = result.spans
    chunks = [s for s in spans if s.kind == "chunk"]
    assert len(chunks) >= 8  # every one ready at once: far more than the slots
    # Handed to Ray no more than two at a time, and the two slots were used.
    assert most_at_once(spans) == SLOTS
    assert {s.node for s in spans} == {assembly}
    assert result.placement["finish"] == [assembly, assembly]  # the video and its rendition
    assert [s.kind for s in spans].count("finish") == 2
    assert result.video.stat().st_size > 0 and (result.out_dir / "qc.json").exists()


def test_chunks_start_while_pictures_are_still_drawn(cluster, tmp_path):
    slow = {"image": partial(SlowImageBackend, latency_s=1.0)}
    result, record = asyncio.run(_render(tmp_path / "slow", slow))
    last_picture = max(p.image_ready for p in record.scene_parts)
    first_chunk = min(s.started for s in result.spans if s.kind == "chunk")
    assert first_chunk < last_picture
    assert most_at_once(result.spans) <= SLOTS
    assert {s.node for s in result.spans} == {cluster["assembly"].node_id}


class CountingStore(LocalStore):
    """A real store that counts how often each part is read (each read is one put)."""

    def __init__(self, root):
        super().__init__(root)
        self.reads: dict[str, int] = {}

    def get(self, key: str) -> bytes:
        self.reads[key] = self.reads.get(key, 0) + 1
        return super().get(key)


def test_a_still_shown_by_several_chunks_and_sizes_is_read_and_put_once(cluster, tmp_path):
    board = Storyboard(scenes=[Scene(title="Quay", lines=[Line(text="x")])])
    timeline = plan_timeline(board, [[3.0]], Pacing(fps=SETTINGS.fps))
    store = CountingStore(tmp_path / "store")
    width, height = SETTINGS.size
    png = CardsBackend().generate([ImageRequest(1, "Quay", "A card.", (), "calm",
                                                width, height, 0)])[0]
    key = content_key("image", test="quay")
    store.put(key, png)
    pools = Pools(image=None, speech=None, cluster=ray.cluster_resources())
    executor = RayExecutor(pools, "job-0123456789ab")
    ranges = timeline.chunks(1.0)

    async def encode_all():
        return await asyncio.gather(*(
            executor.encode_chunk(timeline, a, b, {0: key}, store, SETTINGS, size,
                                  None, None)
            for a, b in ranges for size in (SETTINGS.size, (180, 320))))

    made = asyncio.run(encode_all())
    assert len(made) == 2 * len(ranges) >= 6
    assert store.reads == {key: 1}
    assert {node for _, node in made} == {cluster["assembly"].node_id}
    assert most_at_once(executor.spans) <= SLOTS
