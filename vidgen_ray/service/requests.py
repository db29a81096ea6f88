"""The job service's decisions, apart from HTTP and Ray: what a job request may ask for and
how lists are paged. Who a caller is lives in access.py, the settings a request may send in
job_settings.py, the Prometheus text in metrics.py. api.py is a thin FastAPI layer over
these; they are tested directly (tests/unit/test_service.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from vidgen_ray.analysis.budget import Budget, charge_storyboard
from vidgen_ray.config import RenderSettings, ServiceSettings, load_settings
from vidgen_ray.errors import SettingsError, TooLargeError
from vidgen_ray.farm.jobs import STAGES, JobRecord, JobStatus, SceneStatus
from vidgen_ray.pipeline import preflight
from vidgen_ray.pipeline.source import analyze_text, require_speech
from vidgen_ray.service import tenancy, uploads

# The names api.py and the tests read here: callers and keys (access.py), job settings
# (job_settings.py).
from vidgen_ray.service.access import (  # noqa: F401
    ANONYMOUS,
    ApiKey,
    Caller,
    authenticate,
    check_access,
    load_keys,
    parse_api_keys,
)
from vidgen_ray.service.job_settings import (  # noqa: F401
    OPERATOR_ONLY,
    SERVER_ONLY,
    JobSettings,
    tenant_settings,
)
from vidgen_ray.storyboard import Storyboard

IDEMPOTENCY_KEY = r"^[A-Za-z0-9._:-]{1,128}$"


# ---- job requests ----------------------------------------------------------------------------

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


@dataclass
class PreparedJob:
    """A checked job, as Farm.enqueue takes it: ``settings`` parsed once, here; ``sent`` the
    settings as the client sent them (what the farm stores); ``media`` the uploads (key ->
    bytes) that the storyboard and the music setting name by key, for the farm to keep."""

    storyboard: Storyboard
    settings: RenderSettings
    sent: dict[str, Any]
    media: dict[str, bytes]


def prepare(request: JobRequest, limits: Limits,
            limiter_for: Callable[[RenderSettings], Any] | None = None,
            caller: Caller | None = None) -> PreparedJob:
    """The job to queue, or the 4xx that says what to change. ``limiter_for(settings)``: the
    rate limiter a language model's requests go through (the cluster's; None or absent: the
    one shared by this machine's processes). ``caller``: who asks (None: a non-admin key);
    only admin keys pass operator-only settings and priorities above the cap."""
    admin = caller is not None and caller.admin
    tenancy.check_priority(request.priority, admin, limits.max_tenant_priority)
    storyboard, sent, settings = _storyboard(request, limits, limiter_for, admin)
    require_speech(storyboard)  # ScriptError (400): nothing to speak
    # Media name uploads only, never a path of the server's (422); checked like a render's.
    storyboard, music, files = uploads.check(storyboard, sent.get("music"), request.media,
                                             limits.max_media_bytes)
    if music != sent.get("music"):  # the upload's key, which the farm names by path
        sent, settings = {**sent, "music": music}, settings.model_copy(update={"music": music})
    # What would fail later (a voice, a backend not installed, a missing folder): now.
    preflight.check_job(storyboard, settings,
                        source="script" if request.script is not None else "storyboard")
    return PreparedJob(storyboard, settings, sent, files)


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
    stage_errors: dict[str, str] = Field(description=(
        "Why each stage that did not finish did not: the failed stage's error, "
        "'stopped: <stage> failed at scene N' for the stages it stopped."))
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
