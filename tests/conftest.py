"""Test settings: Ray on loopback and away from stray clusters (see NOTES.md), one thread."""

import os
import tempfile

import pytest

os.environ.update({
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_ENABLE_AUTO_CONNECT": "0",
    "RAY_AUTH_MODE": "disabled",
    "OMP_NUM_THREADS": "1",
})
os.environ.pop("RAY_ADDRESS", None)
for name in list(os.environ):
    if name.startswith("VIDGEN_"):  # a developer's own settings must not change test results
        del os.environ[name]
# Nor a farm the developer keeps running (`vidgen farm start`): renders would use it.
os.environ["VIDGEN_FARM_DIR"] = tempfile.mkdtemp(prefix="vidgen-test-farm-")


@pytest.fixture(scope="module")
def ray_local():
    """One local Ray per test module, started on loopback and stopped at the module's end."""
    import ray

    from vidgen_ray.farm.connect import connect

    if ray.is_initialized():
        ray.shutdown()
    connect(None)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def one_gpu():
    """A local Ray with one logical GPU (no card behind it), for a module: the model
    workers take GPU shares and no CPU; torch on one thread in every worker."""
    import ray

    if ray.is_initialized():
        ray.shutdown()
    ray.init(address="local", num_cpus=2, num_gpus=1, include_dashboard=False,
             _node_ip_address="127.0.0.1", logging_level="WARNING", log_to_driver=False,
             object_store_memory=256 * 1024**2,
             runtime_env={"env_vars": {"OMP_NUM_THREADS": "1"}})
    yield ray
    ray.shutdown()
