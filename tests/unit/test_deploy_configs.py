"""cluster.yaml and the KubeRay manifest, checked offline: Ray's own cluster-config schema
and validation (what `ray up` runs before it launches anything), plus what the farm needs
from them (NOTES.md: the schema does not look inside node_config nor at per-type bounds)."""

import copy
import json
import re
from pathlib import Path

import jsonschema
import pytest
import ray.autoscaler
import yaml
from ray.autoscaler._private.util import prepare_config, validate_config

from vidgen_ray.config import RenderSettings
from vidgen_ray.farm.backpressure import assembly_slots
from vidgen_ray.farm.placement import assembly_options

ROOT = Path(__file__).resolve().parents[2]
VCPUS = {"c6i.4xlarge": 16, "g5.2xlarge": 8, "m6i.xlarge": 4}  # AWS's instance tables
SCHEMA = json.loads((Path(ray.autoscaler.__file__).parent / "ray-schema.json").read_text())


def load(name: str) -> dict:
    return yaml.safe_load((ROOT / name).read_text())


def check_cluster_config(raw: dict) -> dict:
    jsonschema.validate(raw, SCHEMA)  # the raw pass catches fields the defaults would fill
    config = prepare_config(copy.deepcopy(raw))
    validate_config(config)
    return config


def test_cluster_yaml_passes_rays_validation():
    config = check_cluster_config(load("cluster.yaml"))
    types = config["available_node_types"]
    assert set(types) == {"head", "gpu", "cpu"} and config["head_node_type"] == "head"
    for name, node in types.items():
        assert node.get("min_workers", 0) <= node.get("max_workers", 0) or name == "head"
    assert sum(t.get("max_workers", 0) for n, t in types.items() if n != "head") \
        >= config["max_workers"] > 0


def test_node_types_do_what_the_farm_expects():
    types = load("cluster.yaml")["available_node_types"]
    assert types["head"]["resources"] == {"CPU": 0}  # no model work, no FFmpeg on the head
    assert types["gpu"]["node_config"]["InstanceType"].startswith("g5.")
    assert types["gpu"]["min_workers"] == 0
    # The CPU nodes offer exactly the resource FFmpeg tasks ask for.
    offered = types["cpu"]["resources"]
    asked = assembly_options({"CPU": 16.0, **offered}, threads=1)["resources"]
    assert set(asked) <= set(offered) and offered["assembly"] >= 1


def node_resources(node_type: dict) -> dict[str, float]:
    """What Ray on a node of this type offers: the instance's vCPUs unless overridden."""
    vcpus = VCPUS[node_type["node_config"]["InstanceType"]]
    return {"CPU": float(vcpus), **node_type.get("resources", {})}


def test_every_cpu_of_the_assembly_nodes_is_a_slot_and_their_count_is_fixed():
    """The farm runs CPUs // ffmpeg_threads FFmpeg tasks per assembly node, at most its
    `assembly` count: with the default threads every vCPU runs one. And since it never keeps
    more in flight than the live nodes run, no backlog brings a CPU node up: the group is
    fixed, and up (else FFmpeg would fall back to the GPU nodes' CPUs)."""
    types = load("cluster.yaml")["available_node_types"]
    cpu, threads = types["cpu"], RenderSettings().ffmpeg_threads
    one = assembly_slots([node_resources(cpu)], threads)
    assert one == VCPUS[cpu["node_config"]["InstanceType"]] // threads
    assert 1 <= cpu["min_workers"] == cpu["max_workers"]
    cluster = [node_resources(types["head"]), node_resources(types["gpu"]),
               *[node_resources(cpu)] * cpu["min_workers"]]
    assert assembly_slots(cluster, threads) == one * cpu["min_workers"]  # GPU nodes: none


def test_setup_installs_the_package_tools_and_model_cache():
    raw = load("cluster.yaml")
    setup = "\n".join(raw["setup_commands"])
    for needed in ("ffmpeg", "espeak-ng", "vidgen-ray[models", "HF_HOME=/mnt/models"):
        assert needed in setup, needed
    starts = "\n".join(raw["head_start_ray_commands"] + raw["worker_start_ray_commands"])
    assert starts.count("HF_HOME=/mnt/models/huggingface") == 2
    assert 1 <= raw["idle_timeout_minutes"] <= 30


def test_validation_rejects_a_broken_config():
    """The check can fail: without a cluster name, or with an unknown field."""
    raw = load("cluster.yaml")
    del raw["cluster_name"]
    with pytest.raises(jsonschema.ValidationError, match="cluster_name"):
        check_cluster_config(raw)
    raw = load("cluster.yaml")
    raw["available_node_types"]["gpu"]["gpus"] = 1
    with pytest.raises(jsonschema.ValidationError, match="gpus"):
        check_cluster_config(raw)


def test_kuberay_manifest_serves_the_same_application():
    manifest = load("docs/kuberay-rayservice.yaml")
    assert manifest["kind"] == "RayService" and manifest["apiVersion"] == "ray.io/v1"
    served = yaml.safe_load(manifest["spec"]["serveConfigV2"])
    assert served["applications"] == load("serve_config.yaml")["applications"]
    cluster = manifest["spec"]["rayClusterConfig"]
    assert cluster["headGroupSpec"]["rayStartParams"]["num-cpus"] == "0"
    groups = {g["groupName"]: g for g in cluster["workerGroupSpecs"]}
    gpu_limits = groups["gpu"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    assert gpu_limits["nvidia.com/gpu"] == "1"
    cpu = groups["cpu"]
    resources = json.loads(json.loads(cpu["rayStartParams"]["resources"]))
    cpus = int(cpu["rayStartParams"]["num-cpus"])
    limit = cpu["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"]
    assert cpus == int(limit)  # Ray offers what the pod may use
    threads = RenderSettings().ffmpeg_threads
    assert assembly_slots([{"CPU": float(cpus), **resources}], threads) == cpus // threads
    assert 1 <= cpu["minReplicas"] == cpu["replicas"] == cpu["maxReplicas"]  # fixed, as above


def test_cluster_yaml_turns_on_ray_token_auth_from_a_file():
    """Every node starts Ray with RAY_AUTH_MODE=token, the token comes from the operator's
    own file (copied to Ray's default path), and no token is written in the config."""
    raw = load("cluster.yaml")
    starts = raw["head_start_ray_commands"] + raw["worker_start_ray_commands"]
    ray_starts = [c for c in starts if "ray start" in c]
    assert ray_starts and all("RAY_AUTH_MODE=token" in c for c in ray_starts), ray_starts
    assert raw["file_mounts"]["~/.ray/auth_token"] == "~/.ray/auth_token"
    assert any("export RAY_AUTH_MODE=token" in c for c in raw["setup_commands"])
    assert not re.search(r"RAY_AUTH_TOKEN\s*=", (ROOT / "cluster.yaml").read_text())


def test_kuberay_manifest_turns_on_ray_token_auth_from_a_secret():
    manifest = load("docs/kuberay-rayservice.yaml")
    cluster = manifest["spec"]["rayClusterConfig"]
    assert cluster["authOptions"] == {"mode": "token"}  # the operator keeps it in a Secret
    assert tuple(map(int, cluster["rayVersion"].split("."))) >= (2, 52)
    groups = [cluster["headGroupSpec"], *cluster["workerGroupSpecs"]]
    for group in groups:
        for container in group["template"]["spec"]["containers"]:
            for var in container.get("env", []):
                if var["name"].startswith("RAY_AUTH"):  # if ever set by hand: never a literal
                    assert "value" not in var and "secretKeyRef" in var["valueFrom"], var
