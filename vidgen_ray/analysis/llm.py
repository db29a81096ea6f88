"""Script analysis by a language model (``--llm gemini`` or ``--llm openai``).

The local parser runs first; its storyboard is the reference. It is cut into parts that fit
one answer, each part is sent (rate-limited, retried) with the cast settled so far, every
answer is validated by the Storyboard model and checked line by line against the reference
(unless rewriting is allowed); a rejected answer is asked for once more with the problem in
the prompt. The joined storyboard is cached by a hash of the script and the settings.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from pathlib import Path
from typing import Protocol

from pydantic import ValidationError

from vidgen_ray.analysis import analyze_script
from vidgen_ray.analysis import llm_prompt as prompts
from vidgen_ray.analysis.faithful import Unfaithful, check_faithful
from vidgen_ray.analysis.llm_cache import AnalysisCache, cache_key
from vidgen_ray.analysis.ratelimit import FileRateLimiter, RateLimiter
from vidgen_ray.analysis.retry import Failure, RetryPolicy, call_with_retries
from vidgen_ray.config import RenderSettings, llm_api_key, user_cache_dir
from vidgen_ray.errors import AnalysisError, AnalysisQuotaError
from vidgen_ray.storyboard import Character, Storyboard

log = logging.getLogger(__name__)


class ChatClient(Protocol):
    name: str
    model: str

    def complete(self, prompt: str, schema: dict) -> str: ...


def create_client(settings: RenderSettings) -> ChatClient:
    """The backend settings.llm names, with its key from the environment."""
    common = {"temperature": settings.llm_temperature, "max_tokens": settings.llm_max_tokens,
              "timeout": settings.llm_timeout}
    if settings.llm == "gemini":
        from vidgen_ray.analysis.gemini import GeminiClient

        return GeminiClient(llm_api_key("gemini"), settings.llm_model,
                            base_url=settings.llm_base_url, **common)
    if settings.llm == "openai":
        from vidgen_ray.analysis.openai_compat import OpenAICompatClient

        return OpenAICompatClient(settings.llm_base_url, settings.llm_model,
                                  llm_api_key("openai"), **common)
    raise ValueError(f"no language model behind llm={settings.llm!r}")


class LLMAnalyzer:
    """Analyses scripts with one client, one rate limiter, one cache and one retry policy."""

    def __init__(self, client: ChatClient, settings: RenderSettings, *,
                 limiter: RateLimiter | None = None, cache: AnalysisCache | None = None,
                 policy: RetryPolicy | None = None):
        folder = Path(settings.llm_cache_dir or Path(user_cache_dir()) / "llm")
        self.client, self.settings = client, settings
        self.limiter = limiter or FileRateLimiter(
            folder / f"ratelimit-{client.name}.json", settings.llm_requests_per_minute)
        self.cache = cache or AnalysisCache(folder)
        self.policy = policy or RetryPolicy(retries=settings.llm_retries)
        self.schema = prompts.response_schema()
        self.requests = 0  # sent to the model by this analyser, retries included
        self.backoffs: list[float] = []  # seconds waited before each retry, in order

    def analyze(self, text: str, filename: str | None = None) -> Storyboard:
        reference = analyze_script(text, filename)
        key = cache_key(text, filename, self._shaping())
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        parts = prompts.split_parts(reference, prompts.part_budget(self.settings.llm_max_tokens))
        answers: list[Storyboard] = []
        for index, part in enumerate(parts):
            cast = prompts.settled_cast(answers)
            answers.append(self._analyze_part(part, index, len(parts), cast))
        storyboard = prompts.merge_parts(reference, answers)
        if not self.settings.llm_rewrite:
            check_faithful(reference, storyboard)  # each part passed, so the whole does
        self.cache.put(key, storyboard)
        return storyboard

    def _shaping(self) -> dict:
        s = self.settings
        schema = hashlib.sha256(json.dumps(self.schema, sort_keys=True).encode()).hexdigest()
        return {"backend": self.client.name, "model": self.client.model,
                "temperature": s.llm_temperature, "max_tokens": s.llm_max_tokens,
                "rewrite": s.llm_rewrite, "base_url": s.llm_base_url,
                "prompt": prompts.PROMPT_VERSION, "schema": schema}

    def _analyze_part(self, part: Storyboard, index: int, parts: int,
                      cast: list[Character]) -> Storyboard:
        problem = None
        for _ in range(2):  # the answer, then one repair with the problem in the prompt
            prompt = prompts.build_prompt(part, index=index, parts=parts, cast=cast,
                                          rewrite=self.settings.llm_rewrite, problem=problem)
            try:
                answer = parse_answer(self._request(prompt))
                if not self.settings.llm_rewrite:
                    check_faithful(part, answer)
                return answer
            except (ValueError, ValidationError) as exc:  # Unfaithful is a ValueError
                problem = describe_problem(exc)
                log.warning("%s answer for part %d/%d rejected: %s", self.client.name,
                            index + 1, parts, problem)
        where = f" (part {index + 1} of {parts})" if parts > 1 else ""
        raise AnalysisError(
            f"{self.client.name} model {self.client.model} gave no usable storyboard{where}, "
            f"even when told what was wrong: {problem}. Try again, try another --llm-model, "
            "allow reworded lines with --llm-rewrite, or analyse with --llm local")

    def _request(self, prompt: str) -> str:
        return self.request(prompt, self.schema)

    def request(self, prompt: str, schema: dict) -> str:
        """One answer to ``prompt`` shaped by ``schema``, rate-limited and retried (also
        used by the script writer, analysis/writer.py)."""
        def once() -> str:
            self.limiter.acquire()
            self.requests += 1
            return self.client.complete(prompt, schema)

        def note(failure: Failure, delay: float) -> None:
            self.backoffs.append(delay)
            log.warning("%s: %s; retrying in %.1f s", self.client.name, failure, delay)

        try:
            return call_with_retries(once, self.policy, on_retry=note)
        except Failure as failure:
            if failure.status == 429:
                raise AnalysisQuotaError(
                    f"{failure}: the rate limit or quota is exhausted; wait and render again, "
                    "lower --llm-requests-per-minute, or check the plan and billing of the "
                    "key") from None
            tries = f" (after {self.policy.retries} retries)" if failure.retryable else ""
            raise AnalysisError(f"{failure}{tries}: check --llm-model and --llm-base-url, try "
                                "again later, or analyse with --llm local") from None


def parse_answer(text: str) -> Storyboard:
    """The answer as a Storyboard: JSON (a ```json fence tolerated), voices and seeds
    dropped, validated by the Storyboard model."""
    text = re.sub(r"^\s*```(?:json)?\s*|\s*```\s*$", "", text)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the answer is not valid JSON ({exc.msg} at line {exc.lineno} "
                         f"column {exc.colno}: {text[max(0, exc.pos - 40):exc.pos + 40]!r})"
                         ) from None
    if not isinstance(data, dict):
        raise ValueError(f"the answer is JSON but not an object: {text[:80]!r}")
    return Storyboard.model_validate(prompts.clean_answer(data))


def describe_problem(exc: Exception) -> str:
    """A short quote of what was wrong with an answer, for the error and the repair prompt."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the top level"
        value = json.dumps(first.get("input"), ensure_ascii=False, default=str)[:120]
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        return f"the storyboard does not validate at {where}: {first['msg']}, got {value}{more}"
    if isinstance(exc, Unfaithful):
        return f"the spoken lines must come back verbatim and in order, but {exc}"
    return str(exc)


def analyze_with_llm(text: str, filename: str | None, settings: RenderSettings,
                     limiter: RateLimiter | None = None) -> Storyboard:
    """The storyboard of ``text`` by the model settings.llm names (cached). ``limiter``:
    the cluster's shared one; without it, the one shared by this machine's processes."""
    return LLMAnalyzer(create_client(settings), settings, limiter=limiter).analyze(
        text, filename)
