"""Errors from Ray tasks and actors, turned back into ours."""

from __future__ import annotations

import ray

from vidgen_ray.errors import RenderError, VidgenError


def unwrap(exc: ray.exceptions.RayTaskError) -> VidgenError:
    """The VidgenError a task raised, or a RenderError naming the foreign one."""
    cause = exc.cause
    if isinstance(cause, VidgenError):
        return cause
    return RenderError(f"{type(cause).__name__}: {cause}")
