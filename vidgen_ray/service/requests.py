"""The job service's decisions, apart from HTTP and Ray: who a caller is and what it may see,
what a job request may ask for, and how lists are paged (the Prometheus text: metrics.py).
api.py is a thin FastAPI layer over these; they are tested directly (tests/unit/test_service.py).

Keys come from ``VIDGEN_API_KEYS``: comma-separated ``name:key`` pairs; ``name:key:admin``
also sees every job. A job belongs to the name of the key that submitted it.
"""

from __future__ import annotations

import hmac
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    Strict,
    create_model,
    model_validator,
)

from vidgen_ray.analysis.budget import Budget, charge_storyboard
from vidgen_ray.config import FARM_FIELDS, RenderSettings, ServiceSettings, load_settings
from vidgen_ray.errors import (
    AuthError,
    ForbiddenError,
    SettingsError,
    TooLargeError,
)
from vidgen_ray.farm.jobs import STAGES, JobRecord, JobStatus, SceneStatus
from vidgen_ray.pipeline import preflight
from vidgen_ray.pipeline.source import analyze_text, require_speech
from vidgen_ray.service import tenancy, uploads
from vidgen_ray.storyboard import Storyboard

ANONYMOUS = "anonymous"
# Settings of the shared farm, not of one job: a request may not choose them.
# The model's address, limits and cache are the operator's (a per-job base URL would let any
# caller make the server send requests anywhere); jobs pick llm, model, temperature, rewrite.
LLM_SERVER_ONLY = ("llm_base_url", "llm_requests_per_minute", "llm_timeout", "llm_retries",
                   "llm_cache_dir")
SERVER_ONLY = (*FARM_FIELDS, "ray_address", "ffmpeg_threads", *LLM_SERVER_ONLY)
# Settings only an admin key may send per job (models, how they load, server folders):
# tenancy.py says why. Everything else in JobSettings is a tenant's: see tenant_settings().
OPERATOR_ONLY = tenancy.OPERATOR_ONLY
IDEMPOTENCY_KEY = r"^[A-Za-z0-9._:-]{1,128}$"


# ---- keys and callers ------------------------------------------------------------------------

@dataclass(frozen=True)
class Caller:
    name: str
    admin: bool = False


@dataclass(frozen=True)
class ApiKey:
    name: str
    secret: str
    admin: bool = False


def parse_api_keys(text: str) -> list[ApiKey]:
    """``alice:KEY,ops:KEY2:admin`` -> keys; a malformed entry is a SettingsError."""
    keys = []
    for entry in filter(None, (e.strip() for e in text.split(","))):
        parts = entry.split(":")
        admin = len(parts) == 3 and parts[2] == "admin"
        if not (len(parts) == 2 or admin) or not parts[0] or len(parts[1]) < 16:
            raise SettingsError("each VIDGEN_API_KEYS entry is name:key or name:key:admin, "
                                f"with a key of 16 characters or more; got {parts[0]!r}...",
                                field="api_keys")
        keys.append(ApiKey(parts[0], parts[1], admin))
    names = [k.name for k in keys]
    if len(set(names)) != len(names):
        raise SettingsError("VIDGEN_API_KEYS names a caller twice: give each one name",
                            field="api_keys")
    return keys


def load_keys(settings: ServiceSettings) -> list[ApiKey]:
    """The keys to accept (VIDGEN_API_KEYS and the lines of VIDGEN_API_KEYS_FILE); none only
    when the service is explicitly open."""
    text = settings.api_keys
    if settings.api_keys_file:
        try:
            lines = Path(settings.api_keys_file).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise SettingsError(f"cannot read VIDGEN_API_KEYS_FILE={settings.api_keys_file}: "
                                f"{reason}: give a readable file with one name:key per line",
                                field="api_keys_file") from None
        entries = [line.strip() for line in lines if line.strip()
                   and not line.lstrip().startswith("#")]
        text = ",".join(filter(None, [text, *entries]))
    keys = parse_api_keys(text)
    if not keys and not settings.api_open:
        raise SettingsError("the job service has no API keys: set VIDGEN_API_KEYS_FILE to a "
                            "file of 'name:secret' lines, or VIDGEN_API_KEYS="
                            "'name:secret,...' (or VIDGEN_API_OPEN=true on a machine nobody "
                            "else can reach)", field="api_keys")
    return keys


def authenticate(authorization: str | None, keys: list[ApiKey]) -> Caller:
    """The caller a ``Bearer`` header names. Every key is compared in constant time, and all
    of them, so the answer's timing does not tell which name nearly matched."""
    if not keys:
        return Caller(ANONYMOUS, admin=True)
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("send your API key as 'Authorization: Bearer <key>'")
    token_bytes = token.strip().encode()
    found = None
    for key in keys:
        if hmac.compare_digest(token_bytes, key.secret.encode()):
            found = key
    if found is None:
        raise AuthError("this API key is not known: check VIDGEN_API_KEY")
    return Caller(found.name, found.admin)


def check_access(caller: Caller, record: JobRecord) -> None:
    if caller.admin or record.owner == caller.name:
        return
    raise ForbiddenError(f"job {record.id} belongs to another API key: ask its owner or an "
                         "admin key")


# ---- job requests ----------------------------------------------------------------------------

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


def _request_settings_model() -> type[BaseModel]:
    """RenderSettings' per-job fields, each optional (the service's default when absent),
    with the same bounds and descriptions, so OpenAPI lists them and FastAPI checks them."""
    fields = {}
    for name, info in RenderSettings.model_fields.items():
        if name in SERVER_ONLY:
            continue
        copy = info._copy() if hasattr(info, "_copy") else info
        copy.default, copy.default_factory = None, None
        copy.validation_alias = None
        if name == "loudness":  # also a preset name (web, broadcast): load_settings checks it
            fields[name] = (Loudness, Field(None, description=info.description))
            continue
        fields[name] = (_strict(info.annotation) | None, copy)
    return create_model("JobSettings", __config__=ConfigDict(extra="forbid"), **fields)


JobSettings = _request_settings_model()


class JobRequest(BaseModel):
    """A job: a script (text in any format the analyser reads) or a storyboard."""

    # The one-of rule is in the schema too, so clients and fuzzers know it. script and
    # storyboard have no null: absent is the only way to leave one out.
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "oneOf": [{"required": ["script"]}, {"required": ["storyboard"]}],
        "examples": [
            {"script": "# The lighthouse\n\nThe keeper climbs the stairs.",
             "settings": {"resolution": "720p", "fps": 24}, "priority": 0,
             "idempotency_key": "lighthouse-2026-11-25"}]})

    script: str = Field(None, strict=True, description=(  # type: ignore[assignment]
        "Script text: prose, Markdown or Fountain. Give script or storyboard, not both."))
    filename: str | None = Field(None, max_length=255, strict=True, description=(
        "The script's file name; its extension picks the format (e.g. story.fountain)."))
    storyboard: Storyboard = Field(None, description=(  # type: ignore[assignment]
        "A storyboard, rendered as is. Give script or storyboard, not both."))
    settings: JobSettings = Field(default_factory=JobSettings)  # type: ignore[valid-type]
    priority: int = Field(0, ge=-100, le=100, strict=True, description="Higher runs first.")
    idempotency_key: str | None = Field(None, pattern=IDEMPOTENCY_KEY, strict=True,
                                        description=("Sending the same key again returns the "
                                                     "same job instead of a new one."))
    media: dict[str, str] = Field(default_factory=dict, strict=True, description=(
        "Your own pictures, clips and music: file name -> its bytes in base64. A storyboard's "
        "media path, a scene's music, or the music setting names one of these; the service "
        "reads no path of its own."))

    @model_validator(mode="after")
    def _one_source(self) -> JobRequest:
        if (self.script is None) == (self.storyboard is None):
            raise ValueError("give exactly one of 'script' or 'storyboard'")
        return self


class AnalyzeRequest(BaseModel):
    """A script to turn into a storyboard, without rendering it: analysed as a job with
    these settings would be (``llm`` picks the analyser)."""

    model_config = ConfigDict(extra="forbid")

    script: str = Field(strict=True, description="Script text: prose, Markdown or Fountain.")
    filename: str | None = Field(None, max_length=255, strict=True, description=(
        "The script's file name; its extension picks the format (e.g. story.fountain)."))
    settings: JobSettings = Field(default_factory=JobSettings)  # type: ignore[valid-type]


def tenant_settings() -> tuple[str, ...]:
    """The settings a non-admin key may send per job, in JobSettings' order."""
    return tuple(name for name in JobSettings.model_fields if name not in OPERATOR_ONLY)


@dataclass
class Limits:
    """What one job and one key may ask for (ServiceSettings holds the operator's values)."""

    max_script_bytes: int = 1024 * 1024
    max_scenes: int = 500
    max_lines: int = 1000
    max_words: int = 60_000
    max_minutes: float = 120.0
    max_queued_per_key: int = 8
    max_tenant_priority: int = 10
    max_media_bytes: int = 32 * 1024 * 1024

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> Limits:
        return cls(settings.max_script_bytes, settings.max_scenes, settings.max_lines,
                   settings.max_words, settings.max_minutes, settings.max_queued_per_key,
                   settings.max_tenant_priority, settings.max_media_bytes)

    def budget(self, source: str) -> Budget:
        return Budget(self.max_scenes, self.max_lines, self.max_words, self.max_minutes,
                      source=source)

    def queued_quota(self, caller: Caller) -> int | None:
        """Most unfinished jobs this caller may have; None: no quota (admin keys)."""
        return None if caller.admin else self.max_queued_per_key


def check_priority(caller: Caller, priority: int, limits: Limits) -> None:
    """A non-admin key may not put a job above ``limits.max_tenant_priority`` (422)."""
    tenancy.check_priority(priority, caller.admin, limits.max_tenant_priority)


def prepare(request: JobRequest, limits: Limits,
            limiter_for: Callable[[RenderSettings], Any] | None = None,
            caller: Caller | None = None, media_dir: Path | None = None
            ) -> tuple[Storyboard, dict[str, Any]]:
    """The storyboard and settings to queue, or the 4xx that says what to change.
    ``limiter_for(settings)``: the rate limiter a language model's requests go through (the
    cluster's; None or absent: the one shared by this machine's processes). ``caller``:
    who asks (None: a non-admin key); only admin keys pass operator-only settings and
    priorities above the cap. ``media_dir``: where the job's uploaded media are kept (None:
    the request may name none)."""
    admin = caller is not None and caller.admin
    tenancy.check_priority(request.priority, admin, limits.max_tenant_priority)
    storyboard, settings, render_settings = _storyboard(request, limits, limiter_for, admin)
    require_speech(storyboard)  # ScriptError (400): nothing to speak
    # Media name uploads only, never a path of the server's (422); checked like a render's.
    storyboard, settings = uploads.place(storyboard, settings, request.media,
                                         limits.max_media_bytes, media_dir)
    # What would fail later (a voice, a backend not installed, a missing folder): now.
    preflight.check_job(storyboard, render_settings,
                        source="script" if request.script is not None else "storyboard")
    return storyboard, settings


def analyze(request: AnalyzeRequest, limits: Limits,
            limiter_for: Callable[[RenderSettings], Any] | None = None,
            caller: Caller | None = None) -> Storyboard:
    """The storyboard a job with this script and these settings would render (its media
    names as written: nothing is read)."""
    job = JobRequest(script=request.script, filename=request.filename,
                     settings=request.settings)
    return _storyboard(job, limits, limiter_for, caller is not None and caller.admin)[0]


def _storyboard(request: JobRequest, limits: Limits, limiter_for, admin: bool
                ) -> tuple[Storyboard, dict[str, Any], RenderSettings]:
    """Checked text and settings, then the script read within the job's budget (or the
    storyboard counted against it)."""
    if request.script is not None:
        tenancy.check_text(request.script, "script", controls=False)  # the analyser's call
        size = len(request.script.encode("utf-8"))
        if size > limits.max_script_bytes:
            raise TooLargeError(f"the script is {size} bytes; this service takes at most "
                                f"{limits.max_script_bytes}: split it into several jobs",
                                field="script")
    tenancy.check_text(request.filename, "filename")
    settings = request.settings.model_dump(exclude_none=True)
    tenancy.check_text(settings, "settings")
    tenancy.check_operator_settings(settings, admin)
    render_settings = load_settings(**settings)  # cross-field checks; SettingsError names it
    if request.script is not None:
        # --llm gemini|openai: the model is called here, with the server's own key
        limiter = limiter_for(render_settings) if limiter_for else None
        storyboard = analyze_text(request.script, request.filename, render_settings, limiter,
                                  budget=limits.budget("script"))
        if render_settings.llm != "local":  # the model's storyboard is counted too
            charge_storyboard(storyboard, limits.budget("script"))
    else:
        storyboard = request.storyboard
        tenancy.check_text(storyboard.model_dump(), "storyboard")
        tenancy.check_character_voices([c.voice for c in storyboard.characters], admin)
        charge_storyboard(storyboard, limits.budget("storyboard"))
    return storyboard, settings, render_settings


# ---- a script from a topic (POST /v1/write) --------------------------------------------------

class WriteRequest(BaseModel):
    """A topic to write a Markdown script about, with a language model (``settings.llm``
    gemini or openai): the script comes back checked, to edit and submit as a job."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"topic": "how lighthouses work", "scenes": 4, "minutes": 1.5,
         "style": "documentary", "settings": {"llm": "gemini"}}]})

    topic: str = Field(min_length=1, max_length=2000, description="What the video is about.")
    scenes: int = Field(5, ge=1, le=30, description="Scenes to write.")
    minutes: float = Field(1.5, ge=0.25, le=30, description="Spoken length in minutes.")
    style: str | None = Field(None, max_length=500, description="How it should read.")
    language: str = Field("en", pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$",
                          description="Language code of the script.")
    settings: JobSettings = Field(default_factory=JobSettings)  # type: ignore[valid-type]


class WriteView(BaseModel):
    script: str = Field(description="The script, in Markdown.")
    title: str
    scenes: int
    minutes: float = Field(description="Its spoken length, estimated from its words.")


def write(request: WriteRequest,
          limiter_for: Callable[[RenderSettings], Any] | None = None) -> WriteView:
    """A checked script for the topic, by the model the settings name."""
    from vidgen_ray.analysis import writer

    settings = load_settings(**request.settings.model_dump(exclude_none=True))
    if settings.llm == "local":
        raise SettingsError("writing a script needs a language model: set settings.llm to "
                            "gemini or openai", field="llm")
    topic = writer.WriteRequest(topic=request.topic, scenes=request.scenes,
                                minutes=request.minutes, language=request.language,
                                **({"style": request.style} if request.style else {}))
    limiter = limiter_for(settings) if limiter_for else None
    script = writer.write_script(topic, settings, limiter)
    board = writer.check_script(script, topic)
    return WriteView(script=script, title=board.title, scenes=len(board.scenes),
                     minutes=round(writer.spoken_minutes(board), 2))


# ---- answers ---------------------------------------------------------------------------------

class StageView(BaseModel):
    done: int
    total: int


class JobView(BaseModel):
    """A job as the API shows it."""

    id: str
    url: str
    status: JobStatus
    priority: int
    owner: str | None
    title: str
    created: float
    started: float | None
    finished: float | None
    progress: dict[str, StageView] = Field(description=f"Per stage: {', '.join(STAGES)}.")
    scenes: list[SceneStatus] = Field(description="State of each scene, in order.")
    error: str | None
    failed_scene: int | None
    timings: dict[str, float] = Field(description="Seconds per stage, once done.")
    links: dict[str, str] = Field(description="Result downloads, once done.")


class JobPage(BaseModel):
    jobs: list[JobView]
    total: int = Field(description="Jobs matching the filter.")
    next_offset: int | None = Field(description="Offset of the next page; null on the last.")


class ErrorDetail(BaseModel):
    type: str = Field(description="The error's class, e.g. SettingsError.")
    message: str = Field(description="What is wrong and how to fix it.")
    field: str | None = Field(None, description="The request field at fault, if one is.")


class ErrorBody(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"error": {"type": "SettingsError", "message": "setting fps=5 is not allowed: ...",
                   "field": "settings.fps"}}]})

    error: ErrorDetail


def error_body(kind: str, message: str, field: str | None = None) -> dict:
    # A message or field may quote the request, lone surrogates included: escape them, or
    # the answer itself could not be encoded.
    message, field = tenancy.safe_text(message), field and tenancy.safe_text(field)
    return ErrorBody(error=ErrorDetail(type=kind, message=message, field=field)).model_dump()


OUTPUT_LINKS = ("video", "subtitles.srt", "subtitles.vtt", "storyboard", "manifest")


def job_view(record: JobRecord, base: str) -> JobView:
    url = f"{base}/v1/jobs/{record.id}"
    links = ({name: f"{url}/{name}" for name in OUTPUT_LINKS}
             if record.status == JobStatus.done else {})
    data = record.model_dump(include=set(JobView.model_fields))
    return JobView(**data, url=url, links=links)


def page(records: list[JobRecord], caller: Caller, state: JobStatus | None, offset: int,
         limit: int) -> tuple[list[JobRecord], int, int | None]:
    """The caller's jobs (all, for an admin) in ``state``, newest first, one page of them."""
    mine = [r for r in records if (caller.admin or r.owner == caller.name)
            and (state is None or r.status == state)]
    mine.sort(key=lambda r: (r.created, r.id), reverse=True)
    chosen = mine[offset:offset + limit]
    after = offset + len(chosen)
    return chosen, len(mine), after if after < len(mine) else None


def storage_locations(settings: ServiceSettings, data_dir: str) -> tuple[str, str | None]:
    """(the farm's home folder, the S3 URL results go to or None). With S3 the home is the
    farm node's working folder: records, requests and parts stay there (see README)."""
    storage = settings.storage or data_dir
    if storage.startswith("s3://"):
        return settings.workdir or data_dir, storage
    return storage, None
