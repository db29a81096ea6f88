"""The settings a job request may send (``settings`` of POST /v1/jobs, /v1/analyze and
/v1/write): RenderSettings' job-scoped fields (config/scope.py), each optional, with the
same bounds and descriptions, so OpenAPI lists them and FastAPI checks them. The farm's and
the server's settings are not the request's; the operator-only ones need an admin key
(tenancy.py says why).
"""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    Strict,
    create_model,
)
from pydantic.fields import FieldInfo

from vidgen_ray.config import RenderSettings, fields_of
from vidgen_ray.service import tenancy

# Settings of the shared farm and the server, not of one job: a request may not choose them
# (their scope says so). Jobs pick llm, model, temperature, rewrite; the model's address,
# limits and cache are the operator's.
SERVER_ONLY = fields_of(RenderSettings, "farm", "server")
# Settings only an admin key may send per job (models, how they load, server folders):
# tenancy.py says why. Everything else in JobSettings is a tenant's: see tenant_settings().
OPERATOR_ONLY = tenancy.OPERATOR_ONLY


def _strict(annotation: Any) -> Any:
    """A scalar type made strict (no "12" for 12, no true for 1, no 1 for true): what JSON
    sends must already be the type the OpenAPI document names."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        annotation = args[0]
    if annotation in (int, float, bool, str):
        return Annotated[annotation, Strict()]
    return annotation


def _number_or_name(value: Any) -> float | str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise ValueError("give a number (LUFS, e.g. -16) or a preset name (e.g. web)")


# One check, so an error names the field itself (a union would name its members too).
Loudness = Annotated[float | str | None, PlainValidator(
    _number_or_name, json_schema_input_type=float | str | None)]


def _request_alias(info: FieldInfo) -> AliasChoices | None:
    """The keys a request may use for a field: its name and an old name (``cast`` for
    ``voices``), never the environment's names (VIDGEN_..., HF_HUB_OFFLINE)."""
    alias = info.validation_alias
    if not isinstance(alias, AliasChoices):
        return None
    keys = [c for c in alias.choices if isinstance(c, str) and c.islower()]
    return AliasChoices(*keys) if len(keys) > 1 else None


def _request_settings_model() -> type[BaseModel]:
    """RenderSettings' job-scoped fields, each optional (the service's default when absent)."""
    fields = {}
    for name in fields_of(RenderSettings, "job"):
        info = RenderSettings.model_fields[name]
        copy = info._copy() if hasattr(info, "_copy") else info
        copy.default, copy.default_factory = None, None
        copy.validation_alias = _request_alias(info)
        if name == "loudness":  # also a preset name (web, broadcast): load_settings checks it
            fields[name] = (Loudness, Field(None, description=info.description))
            continue
        fields[name] = (_strict(info.annotation) | None, copy)
    return create_model("JobSettings", __config__=ConfigDict(extra="forbid"), **fields)


JobSettings = _request_settings_model()


def tenant_settings() -> tuple[str, ...]:
    """The settings a non-admin key may send per job, in JobSettings' order."""
    return tuple(name for name in JobSettings.model_fields if name not in OPERATOR_ONLY)
