"""Any OpenAI-compatible chat server (Ollama, vLLM, LM Studio, llama.cpp, OpenAI itself),
over plain HTTP with the standard library: ``POST {base_url}/chat/completions`` with
``response_format={"type": "json_schema", ...}``. Failures become ``retry.Failure`` or
``AnalysisKeyError``, as for Gemini.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from vidgen_ray.analysis.retry import Failure
from vidgen_ray.errors import AnalysisError, AnalysisKeyError, SettingsError

SYSTEM = "You write storyboards as JSON that matches the given schema exactly."



class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an error: urllib would resend the Authorization header to any host."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise urllib.error.HTTPError(req.full_url, code, f"redirected to {newurl}: give "
                                     "--llm-base-url the final address", headers, fp)


_OPENER = urllib.request.build_opener(_NoRedirect)


class OpenAICompatClient:
    name = "openai"

    def __init__(self, base_url: str | None, model: str | None, api_key: str | None = None,
                 *, temperature: float = 0.3, max_tokens: int = 8192, timeout: float = 120.0):
        if not base_url:
            raise SettingsError("--llm openai needs the server's address: --llm-base-url, "
                                "e.g. http://localhost:11434/v1 (Ollama)", field="llm_base_url")
        if not model:
            raise SettingsError("--llm openai needs a model name: --llm-model, e.g. "
                                "llama3.1:8b (Ollama) or the model vLLM serves",
                                field="llm_model")
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model, self.api_key = model, api_key
        self.temperature, self.max_tokens, self.timeout = temperature, max_tokens, timeout

    def complete(self, prompt: str, schema: dict) -> str:
        body = {
            "model": self.model, "temperature": self.temperature, "max_tokens": self.max_tokens,
            "messages": [{"role": "system", "content": SYSTEM},
                         {"role": "user", "content": prompt}],
            "response_format": {"type": "json_schema", "json_schema": {
                "name": "storyboard", "schema": schema, "strict": False}},
        }
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(self.url, data=json.dumps(body).encode("utf-8"),
                                         headers=headers, method="POST")
        try:
            with _OPENER.open(request, timeout=self.timeout) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise _failure(exc) from exc
        except TimeoutError as exc:
            raise Failure(f"{self.url} did not answer in {self.timeout:g} s",
                          retryable=True) from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise Failure(f"{self.url} did not answer in {self.timeout:g} s",
                              retryable=True) from exc
            raise Failure(f"cannot reach {self.url}: {exc.reason}: is the server running?",
                          retryable=True) from exc
        except json.JSONDecodeError as exc:
            raise Failure(f"{self.url} answered with something that is not JSON: {exc}",
                          retryable=True) from exc
        try:
            choice = answer["choices"][0]
            text = choice["message"]["content"] or ""
        except (KeyError, IndexError, TypeError) as exc:
            raise AnalysisError(f"{self.url} answered without choices[0].message.content: "
                                "is it an OpenAI-compatible chat endpoint?") from exc
        if choice.get("finish_reason") == "length":
            raise AnalysisError(
                f"{self.model} at {self.url} stopped at the output token limit before the "
                "storyboard was complete: raise --llm-max-tokens (scripts are split into "
                "parts that fit it; thinking models spend part of it thinking)")
        return text


def _failure(exc: urllib.error.HTTPError) -> Exception:
    text = exc.read().decode("utf-8", "replace")[:500]
    try:
        error = json.loads(text).get("error", {})
        message = error.get("message", text) if isinstance(error, dict) else str(error)
    except (json.JSONDecodeError, AttributeError):
        message = text
    message = message.strip() or str(exc.reason)  # an empty body: the status line says it
    if exc.code in (401, 403):
        return AnalysisKeyError(f"the server rejected the API key ({exc.code}: {message}): set "
                                "OPENAI_API_KEY to a key it accepts")
    after = (exc.headers.get("Retry-After") or "").strip()
    retry_after = float(after) if after.replace(".", "", 1).isdigit() else None
    return Failure(f"{exc.url} answered {exc.code}: {message}",
                   retryable=exc.code in (408, 429) or exc.code >= 500,
                   retry_after=retry_after, status=exc.code, cause=exc)
