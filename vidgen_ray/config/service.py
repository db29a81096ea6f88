"""The service section: the job service's keys, limits and storage (ServiceSettings), and
where the CLI client sends jobs (ClientSettings)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """The job service (api.py): keys, limits, storage (env VIDGEN_API_KEYS, ...)."""

    model_config = SettingsConfigDict(env_prefix="VIDGEN_", extra="ignore")

    api_keys: str = Field("", description="Comma-separated 'name:key' pairs ('name:key:admin' "
                          "sees every job); empty refuses to start unless api_open is set.")
    api_open: bool = Field(False, description="Serve without keys (every caller is "
                           "'anonymous'): only on a machine nobody else can reach.")
    storage: str | None = Field(None, description="Where jobs and results live: a folder or "
                                "s3://bucket/prefix; empty is <user data dir>/vidgen.")
    workdir: str | None = Field(None, description="Local working folder of the farm node when "
                                "storage is S3; empty is <user data dir>/vidgen.")
    s3_endpoint_url: str | None = Field(None, description="S3-compatible endpoint (MinIO...).")
    presign_seconds: int = Field(3600, ge=60, le=7 * 24 * 3600,
                                 description="Lifetime of presigned download links.")
    max_script_bytes: int = Field(1024 * 1024, ge=1024, le=10 * 1024 * 1024,
                                  description="Largest script a request may carry.")
    max_scenes: int = Field(500, ge=1, le=10_000, description="Most scenes in one job.")
    max_media_bytes: int = Field(32 * 1024 * 1024, ge=0, le=2 * 1024**3,
                                 description="Most bytes of pictures, clips and music one job "
                                 "may upload (its 'media'); 0 takes none.")
    page_size: int = Field(50, ge=1, le=1000, description="Jobs per page when listing.")
    # Work one job may ask for, counted while its script is read (analysis/budget.py): a
    # 1 MB script is ~4,000 lines and ~21 hours of narration.
    max_lines: int = Field(1000, ge=1, le=100_000, description="Most spoken lines in one job.")
    max_words: int = Field(60_000, ge=1, le=10_000_000,
                           description="Most spoken words in one job.")
    max_minutes: float = Field(120.0, gt=0, le=10_000, description="Most minutes of narration "
                               "in one job, estimated at 150 words a minute.")
    max_queued_per_key: int = Field(8, ge=1, le=100_000, description="Most unfinished jobs "
                                    "(queued or running) of one non-admin key; past it, 429.")
    max_tenant_priority: int = Field(10, ge=-100, le=100, description="Highest priority a "
                                     "non-admin key may give a job.")
    api_keys_file: str | None = Field(None, description="A file of keys, one 'name:key' or "
                                      "'name:key:admin' per line (# comments): keeps keys "
                                      "out of env_vars, which the Ray dashboard shows.")
    api_docs: bool = Field(False, description="Serve Swagger UI at /docs (scripts from a CDN, "
                           "pinned and hash-checked); /openapi.json is always served.")
    probes_need_key: bool = Field(False, description="/readyz and /metrics ask for a key too "
                                  "(by default they answer anyone, for probes and Prometheus).")


class ClientSettings(BaseSettings):
    """Where the CLI client sends jobs (env VIDGEN_URL, VIDGEN_API_KEY)."""

    model_config = SettingsConfigDict(env_prefix="VIDGEN_", extra="ignore")

    url: str = Field("http://127.0.0.1:8000", description="The job service's base URL.")
    api_key: str | None = Field(None, description="Your key from the service's operator.")
    timeout: float = Field(60.0, ge=1, le=3600, description="Seconds to wait for one answer.")
