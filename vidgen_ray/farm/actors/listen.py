"""Where Ray's servers listen: on loopback for a Ray this machine starts for itself.

Ray binds its servers (GCS, raylet, workers, dashboard and its agents) to the node's address,
which is 127.0.0.1 once Ray runs in single-machine mode (RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0,
read when ``ray`` is imported; ``prepare_local_start``). One server ignores it: each Serve
replica of Ray 2.60 opens its inter-deployment gRPC server on ``[::]:0`` (hardcoded in
ray/serve/_private/replica.py), on every interface, and that server unpickles what it is
sent. No setting moves or disables it (an application's ``worker_process_setup_hook`` is
ignored outside a job's own runtime_env). So importing this module binds wildcard gRPC
addresses to the node's address instead: 127.0.0.1 locally, the node's private address on a
cluster (where Serve's optional gRPC routing still reaches it). A replica imports the app
(vidgen_ray.service.api, which imports the farm and so this module) before it opens that server.
"""

from __future__ import annotations

import os
import sys

import ray
import ray._common.tls_utils as tls_utils
from ray._private import ray_constants

from vidgen_ray.config import ray_address_from_env, ray_runtime_env

_WILDCARD_HOSTS = ("[::]", "0.0.0.0", "")
_REPLICA_MODULE = "ray.serve._private.replica"


def bind_grpc_to_node_ip() -> None:
    """gRPC servers added through Ray's helper listen on the node's address, never on all
    interfaces: the helper is replaced where it is defined (for modules imported later) and
    in Serve's replica module if that is already loaded (it imported the name)."""
    original = tls_utils.add_port_to_grpc_server
    if getattr(original, "on_node_ip", False):
        return

    def add_port(server, address: str):
        host, _, port = address.rpartition(":")
        if host in _WILDCARD_HOSTS:
            address = f"{_bracketed(ray.util.get_node_ip_address())}:{port}"
        return original(server, address)

    add_port.on_node_ip = True
    tls_utils.add_port_to_grpc_server = add_port
    replica = sys.modules.get(_REPLICA_MODULE)
    if replica is not None:
        replica.add_port_to_grpc_server = add_port


def _bracketed(ip: str) -> str:
    return f"[{ip}]" if ":" in ip else ip


def prepare_local_start() -> None:
    """Before this process starts a Ray of its own: every Ray server on 127.0.0.1 (Ray's
    processes and workers inherit this environment)."""
    os.environ.update(ray_runtime_env(local=True))
    # The variable above is read when ``ray`` is imported, which has happened by now (the
    # `serve` CLI imports it before our module): the driver takes its node address from here.
    ray_constants.ENABLE_RAY_CLUSTER = False


def prepare_serve_run() -> None:
    """For ``serve run serve_app:app``, which imports the app before it calls ``ray.init``:
    keep the Ray it is about to start on loopback. Nothing to do in a replica (Ray is up) or
    when RAY_ADDRESS names a cluster to join."""
    if ray.is_initialized() or ray_address_from_env():
        return
    prepare_local_start()


bind_grpc_to_node_ip()  # at import: see the module's docstring
