"""Who owns a setting: a job, the farm, or the server the work runs on.

A field says it with a marker in its annotation, ``Annotated[int, FARM]``; a field without
one belongs to the job. "The settings a request may not send" (service/job_settings.py) and
"the settings a manifest leaves out" (RenderSettings.for_manifest) are asked of these markers
(``fields_of``, ``unrecorded_fields``), never kept by hand. Which job settings need an admin
key is the service's policy, not an owner: service/tenancy.py keeps it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict
from pydantic.fields import FieldInfo

Owner = Literal["job", "farm", "server"]


@dataclass(frozen=True)
class Scope:
    """``owner``: job (each request chooses it), farm (workers, batches, GPU shares: the
    shared farm's, never one job's) or server (where and how the work runs: the operator's).
    ``recorded``: a farm or server setting the manifest still records."""

    owner: Owner
    recorded: bool = False


JOB, FARM, SERVER = Scope("job"), Scope("farm"), Scope("server")


class Section(BaseModel):
    """A part of the settings: a mixin of RenderSettings, not validated on its own, so its
    schema is built only when something does (defer_build): an import builds RenderSettings'
    alone, not each section's as well."""

    model_config = ConfigDict(defer_build=True)
# A server setting the manifest keeps (how the analysis model was called).
SERVER_RECORDED = Scope("server", recorded=True)


def scope_of(field: FieldInfo) -> Scope:
    """The field's marker; a field without one is the job's."""
    return next((m for m in field.metadata if isinstance(m, Scope)), JOB)


def fields_of(model: type[BaseModel], *owners: Owner) -> tuple[str, ...]:
    """The model's fields owned by any of ``owners``, in the model's order."""
    return tuple(name for name, field in model.model_fields.items()
                 if scope_of(field).owner in owners)


def unrecorded_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """Fields a manifest leaves out: the farm's and the server's, unless marked recorded."""
    return tuple(name for name, field in model.model_fields.items()
                 if scope_of(field).owner != "job" and not scope_of(field).recorded)
