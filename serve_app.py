"""The job service's import path: ``serve run serve_app:app`` (or ``serve deploy
serve_config.yaml``). Settings come from VIDGEN_* variables (README: The job service).

``serve run`` imports this module before it starts Ray: without RAY_ADDRESS, the Ray it then
starts listens on 127.0.0.1 only (vidgen_ray/farm/actors/listen.py). In a replica Ray is already up
and nothing changes."""

from vidgen_ray.farm.actors.listen import prepare_serve_run

prepare_serve_run()

from vidgen_ray.service.api import app  # noqa: E402  (after the Ray settings above)

__all__ = ["app"]
