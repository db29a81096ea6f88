"""The language-model analysers' options (--llm gemini|openai; analysis/gemini.py and
analysis/openai_compat.py read them). README "Script analysis with Gemini"."""

from __future__ import annotations

from typing import Annotated

from pydantic import AliasChoices, Field

from vidgen_ray.config.scope import SERVER, SERVER_RECORDED, Section


class LlmSettings(Section):
    """Which model, how it samples, and (the server's) where it is and how it is called.
    The model's address, limits and cache are the operator's: a per-job base URL would let
    any caller make the server send requests anywhere."""

    llm_model: str | None = Field(
        # A name, not a path: it goes into the request URL (Gemini: models/NAME).
        None, min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][\w:/-]*(\.[\w:/-]+)*$",
        validation_alias=AliasChoices("llm_model", "VIDGEN_LLM_MODEL", "VIDGEN_GEMINI_MODEL"),
        description="Model name; empty: gemini-2.5-flash for gemini (openai needs one).")
    llm_temperature: float = Field(
        0.3, ge=0.0, le=2.0,
        validation_alias=AliasChoices("llm_temperature", "VIDGEN_LLM_TEMPERATURE",
                                      "VIDGEN_GEMINI_TEMPERATURE"),
        description="Sampling temperature of the analysis: low keeps it steady.")
    llm_max_tokens: int = Field(
        8192, ge=1024, le=65536,
        validation_alias=AliasChoices("llm_max_tokens", "VIDGEN_LLM_MAX_TOKENS",
                                      "VIDGEN_GEMINI_MAX_TOKENS"),
        description="Most output tokens per request; long scripts are split to fit.")
    llm_base_url: Annotated[str | None, SERVER] = Field(
        # No user:password@ and no ?query: keys go in headers, never in a URL that is logged.
        None, pattern=r"^https?://[^\s@?#]+$",
        description="Server of the analysis: required for openai (e.g. "
        "http://localhost:11434/v1 for Ollama); for gemini, an override (tests, proxies).")
    llm_requests_per_minute: Annotated[int, SERVER_RECORDED] = Field(
        60, ge=1, le=10_000, description="Requests per minute to the model, shared by every "
        "process on this machine.")
    llm_timeout: Annotated[float, SERVER_RECORDED] = Field(
        120.0, ge=1.0, le=900.0, description="Seconds to wait for one answer of the model.")
    llm_retries: Annotated[int, SERVER_RECORDED] = Field(
        5, ge=0, le=20, description="Retries on 429, 5xx and timeouts, "
        "with exponential backoff and jitter (Retry-After honoured).")
    llm_rewrite: bool = Field(False, description="Let the model reword spoken lines; off: "
                              "every line must come back verbatim and in order.")
    llm_cache_dir: Annotated[str | None, SERVER] = Field(
        None, description="Folder of cached analyses and the rate limiter's state; empty: "
        "<user cache dir>/vidgen/llm.")
