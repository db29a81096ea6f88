"""The job service's import path: ``serve run serve_app:app`` (or ``serve deploy
serve_config.yaml``). Settings come from VIDGEN_* variables (README: The job service)."""

from vidgen_ray.api import app

__all__ = ["app"]
