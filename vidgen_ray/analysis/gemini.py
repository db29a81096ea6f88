"""Gemini through google-genai (the maintained SDK), with structured output.

One request per call: the Storyboard's JSON schema goes as ``response_json_schema`` with
``application/json``; the SDK's own retries are off (one attempt) so that ours, which honour
Retry-After and share a rate limit, are the only ones. Failures become ``retry.Failure``
(429, 5xx, timeouts: retryable) or ``AnalysisKeyError`` (a rejected key).
"""

from __future__ import annotations

import contextlib
import re

from vidgen_ray.analysis.retry import Failure
from vidgen_ray.errors import AnalysisError, AnalysisKeyError, DependencyError

DEFAULT_MODEL = "gemini-2.5-flash"
KEY_HELP = ("get a key at https://aistudio.google.com/apikey and set GEMINI_API_KEY "
            "(or GOOGLE_API_KEY), or analyse with --llm local")


def _transport_errors() -> tuple[type[BaseException], ...]:
    """Timeouts and connection errors of the HTTP library the SDK uses: httpx, or its fork
    httpx2 (google-genai 3.x takes whichever is installed)."""
    found: list[type[BaseException]] = [TimeoutError, ConnectionError]
    for module in ("httpx", "httpx2"):
        with contextlib.suppress(ImportError):
            found.append(__import__(module).TransportError)
    return tuple(found)


_TRANSPORT_ERRORS = _transport_errors()


class GeminiClient:
    name = "gemini"

    def __init__(self, api_key: str | None, model: str | None = None, *,
                 base_url: str | None = None, temperature: float = 0.3,
                 max_tokens: int = 8192, timeout: float = 120.0):
        if not api_key:
            raise AnalysisKeyError(f"--llm gemini needs an API key: {KEY_HELP}")
        try:
            from google import genai
            from google.genai import types
        except ImportError as exc:
            raise DependencyError("--llm gemini needs google-genai: pip install "
                                  "'vidgen-ray[gemini]'") from exc
        self.model = model or DEFAULT_MODEL
        self._types = types
        options = types.HttpOptions(
            base_url=base_url, timeout=int(timeout * 1000),  # the SDK counts milliseconds
            retry_options=types.HttpRetryOptions(attempts=1))
        self._client = genai.Client(api_key=api_key, http_options=options)
        self._config = types.GenerateContentConfig(
            temperature=temperature, max_output_tokens=max_tokens,
            response_mime_type="application/json")

    def complete(self, prompt: str, schema: dict) -> str:
        """The model's answer text for ``prompt``, shaped by ``schema``."""
        from google.genai import errors

        config = self._config.model_copy(update={"response_json_schema": schema})
        try:
            response = self._client.models.generate_content(
                model=self.model, contents=prompt, config=config)
        except errors.APIError as exc:
            raise _failure(exc) from exc
        except _TRANSPORT_ERRORS as exc:
            timeout = "Timeout" in type(exc).__name__
            raise Failure(f"Gemini did not answer in time ({type(exc).__name__})" if timeout
                          else f"cannot reach Gemini: {type(exc).__name__}: {exc}",
                          retryable=True) from exc
        reason = _finish_reason(response)
        if reason == "MAX_TOKENS":
            raise AnalysisError(cut_off_message("Gemini", self.model))
        text = response.text
        if not text:
            raise Failure(f"Gemini gave an empty answer (finish reason {reason})",
                          retryable=reason not in ("SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST"))
        return text


def cut_off_message(who: str, model: str) -> str:
    return (f"{who} model {model} stopped at the output token limit before the storyboard was "
            "complete: raise --llm-max-tokens (scripts are split into parts that fit it; "
            "thinking models spend part of it thinking)")


def _finish_reason(response) -> str:
    candidates = response.candidates or []
    reason = candidates[0].finish_reason if candidates else None
    return getattr(reason, "name", str(reason))


def _failure(exc) -> Exception:
    code, status, message = exc.code, exc.status or "", exc.message or str(exc)
    if code in (401, 403) or "API_KEY_INVALID" in str(exc.details) or (
            code == 400 and "api key" in message.lower()):
        return AnalysisKeyError(f"Gemini rejected the API key ({code} {status}: {message}): "
                                f"{KEY_HELP}")
    retry_after = _retry_after(exc)
    if code == 429 and _daily_quota(exc.details):
        return Failure(f"Gemini's daily quota is exhausted (429 {status}: {message})",
                       retryable=False, status=429, cause=exc)
    return Failure(f"Gemini answered {code} {status}: {message}",
                   retryable=code in (408, 429) or code >= 500, retry_after=retry_after,
                   status=code, cause=exc)


def _retry_after(exc) -> float | None:
    """Seconds from a Retry-After header or the body's RetryInfo ("retryDelay": "17s")."""
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    value = headers.get("retry-after")
    if value and value.strip().replace(".", "", 1).isdigit():
        return float(value)
    for detail in _details(exc.details):
        delay = detail.get("retryDelay")
        match = re.fullmatch(r"(\d+(?:\.\d+)?)s", str(delay or ""))
        if match:
            return float(match[1])
    return None


def _daily_quota(details) -> bool:
    """A per-day quota violation will not clear by waiting minutes."""
    return any("PerDay" in str(v.get("quotaId", "")) for d in _details(details)
               for v in d.get("violations", []) if isinstance(v, dict))


def _details(body) -> list[dict]:
    error = body.get("error", body) if isinstance(body, dict) else {}
    details = error.get("details", []) if isinstance(error, dict) else []
    return [d for d in details if isinstance(d, dict)]
