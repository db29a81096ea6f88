"""`--address`: a render joins an existing Ray cluster (head + worker node on this machine)
and its work runs on the cluster's nodes instead of a Ray of its own."""

import subprocess

import pytest

from vidgen_ray.config import RenderSettings
from vidgen_ray.farm.connect import render

pytestmark = [pytest.mark.cluster, pytest.mark.ffmpeg, pytest.mark.slow]

SCRIPT = """# Two rooms

## Kitchen

The kettle sang on the stove.

## Garden

Birds sang in the trees of the quiet garden.
"""


@pytest.fixture(scope="module")
def cluster():
    import ray
    from ray.cluster_utils import Cluster

    if ray.is_initialized():
        ray.shutdown()
    # The head offers no CPUs: every task must run on the worker node.
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    cluster.add_node(num_cpus=2)
    cluster.wait_for_nodes()
    yield cluster
    ray.shutdown()
    cluster.shutdown()


def test_render_joins_the_cluster_at_the_address(cluster, tmp_path):
    import ray

    script = tmp_path / "rooms.md"
    script.write_text(SCRIPT, encoding="utf-8")
    result = render(script, tmp_path / "out", RenderSettings(ray_address=cluster.address))
    assert ray.get_runtime_context().gcs_address == cluster.address
    assert len(ray.nodes()) == 2  # joined the cluster, did not start a Ray of its own
    decoded = subprocess.run(["ffmpeg", "-v", "error", "-i", str(result.video), "-f", "null",
                              "-"], capture_output=True, text=True)
    assert decoded.returncode == 0 and decoded.stderr == ""
    assert len(result.storyboard.scenes) == 2
