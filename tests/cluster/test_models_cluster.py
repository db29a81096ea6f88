"""`vidgen models download --cluster`: one download task pinned to every alive node of a
two-node cluster on this machine, from a local hub; the CLI prints one report per node."""

import json

import pytest
import ray
from typer.testing import CliRunner

from vidgen_ray.cli.app import app
from vidgen_ray.config import load_settings
from vidgen_ray.farm.actors.model_download import download_on_every_node
from vidgen_ray.models.registry import models_for, pick
from vidgen_ray.models.status import model_status
from vidgen_ray.testing.hub import LocalHub, read_folder
from vidgen_ray.testing.tiny_bark import build_bark

pytestmark = [pytest.mark.cluster, pytest.mark.slow]


@pytest.fixture(scope="module")
def cluster():
    from ray.cluster_utils import Cluster

    if ray.is_initialized():
        ray.shutdown()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address)
    yield cluster
    ray.shutdown()
    cluster.shutdown()


def test_download_runs_once_on_every_node(cluster, tmp_path):
    bark = read_folder(build_bark(tmp_path / "bark"))
    specs = pick(models_for(load_settings()), "bark")
    with LocalHub({"suno/bark": bark}) as hub:
        reports = download_on_every_node(specs, hub.url, cache=str(tmp_path / "a"))
        alive = {n["NodeID"] for n in ray.nodes() if n["Alive"]}
        assert len(alive) == 2 and {r["node_id"] for r in reports} == alive
        for report in reports:
            assert report["models"]["bark"] == "7 files", report
            assert report["models"]["bark-voices"].endswith("files")
        for spec in specs:
            assert model_status(tmp_path / "a", spec).state == "complete"

        result = CliRunner().invoke(
            app, ["models", "download", "bark", "--cluster", "--address", cluster.address,
                  "--cache-dir", str(tmp_path / "b")], env={"HF_ENDPOINT": hub.url})
        assert result.exit_code == 0, result.output
        reports = json.loads(result.stdout)
        assert {r["cache"] for r in reports} == {str(tmp_path / "b")} and len(reports) == 2
        assert model_status(tmp_path / "b", specs[0]).state == "complete"
        missing = CliRunner().invoke(app, ["models", "download", "bark", "--cluster"],
                                     env={"RAY_ADDRESS": None})
        assert missing.exit_code == 2 and "--address" in missing.output
