"""Analysis by Gemini (the real google-genai SDK) and by an OpenAI-compatible server, both
against a local server speaking their protocols: validation and repair, faithfulness,
retries and backoff, the shared rate limit, key errors, caching, long scripts."""

import json
import multiprocessing

import pytest

from vidgen_ray.analysis.gemini import GeminiClient
from vidgen_ray.analysis.llm import LLMAnalyzer, create_client
from vidgen_ray.analysis.openai_compat import OpenAICompatClient
from vidgen_ray.analysis.ratelimit import FileRateLimiter
from vidgen_ray.analysis.retry import RetryPolicy
from vidgen_ray.config import load_settings
from vidgen_ray.errors import AnalysisError, AnalysisKeyError, AnalysisQuotaError
from vidgen_ray.storyboard import Storyboard
from vidgen_ray.testing.fake_llm_server import (
    SCRIPT,
    FakeLLMServer,
    answer,
    enrich,
    error,
    parsed_script,
    storyteller,
)

LINES = ["Waves broke on the harbour wall.", "The boats are late tonight.", "They will come.",
         "Rain hammered the windows.", "Light the lamp."]
FAST = RetryPolicy(retries=4, base=0.05, cap=0.4)


@pytest.fixture(scope="module")
def running_server():
    with FakeLLMServer(api_key="test-key") as running:
        yield running


@pytest.fixture()
def server(running_server):
    """The module's server, with no scripted replies, no requests and the default model."""
    running_server.replies.clear()
    running_server.requests.clear()
    running_server.default = storyteller
    return running_server


_GEMINI_CLIENTS: dict[tuple, GeminiClient] = {}  # ~0.4 s each to build (its SSL context)


def analyzer(server, tmp_path, backend="gemini", policy=FAST, timeout=30.0, **overrides):
    settings = load_settings(llm=backend, llm_cache_dir=str(tmp_path / "cache"),
                             llm_model=None if backend == "gemini" else "llama3.1:8b",
                             **overrides)
    if backend == "gemini":
        key = (server.url, settings.llm_temperature, settings.llm_max_tokens, timeout)
        if key not in _GEMINI_CLIENTS:
            _GEMINI_CLIENTS[key] = GeminiClient(
                "test-key", settings.llm_model, base_url=server.url,
                temperature=settings.llm_temperature, max_tokens=settings.llm_max_tokens,
                timeout=timeout)
        client = _GEMINI_CLIENTS[key]
    else:
        client = OpenAICompatClient(server.url + "/v1", settings.llm_model, "local-key",
                                    temperature=settings.llm_temperature,
                                    max_tokens=settings.llm_max_tokens, timeout=timeout)
    return LLMAnalyzer(client, settings, policy=policy)


def spoken(board: Storyboard) -> list[str]:
    return [line.text for scene in board.scenes for line in scene.lines]


def answer_with(prompt_request, change) -> dict:
    data = enrich(parsed_script(prompt_request.prompt))
    change(data)
    return data


# ---- a realistic answer ---------------------------------------------------------------------

@pytest.mark.parametrize("backend", ["gemini", "openai"])
def test_a_realistic_answer_becomes_an_enriched_faithful_storyboard(server, tmp_path, backend):
    board = analyzer(server, tmp_path, backend).analyze(SCRIPT, "harbour.md")
    assert spoken(board) == LINES
    mara = board.character("MARA")
    assert (mara.gender, mara.age) == ("female", "adult") and "grey wool coat" in mara.description
    assert board.scenes[0].description.startswith("Wide shot, soft evening light")
    assert board.scenes[0].sfx[0].name == "bell" and board.title == "Harbour"
    # The model's motion comes through: a generated clip where the rain falls, none elsewhere.
    assert [(s.motion, s.motion_prompt) for s in board.scenes] == [
        (None, ""), ("clip", "Slow dolly in, rain streaks the window.")]
    assert len(server.requests) == 1


def test_gemini_requests_carry_the_key_the_schema_and_the_settings(server, tmp_path):
    analyzer(server, tmp_path, llm_temperature=0.25, llm_max_tokens=4096).analyze(SCRIPT)
    request = server.requests[0]
    assert request.path.endswith("/models/gemini-2.5-flash:generateContent")
    assert request.headers["x-goog-api-key"] == "test-key"
    config = request.body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["responseJsonSchema"] == Storyboard.model_json_schema()
    assert (config["temperature"], config["maxOutputTokens"]) == (0.25, 4096)
    assert "The boats are late tonight." in request.prompt


def test_openai_requests_carry_a_json_schema_response_format(server, tmp_path):
    analyzer(server, tmp_path, "openai").analyze(SCRIPT)
    request = server.requests[0]
    assert request.path == "/v1/chat/completions"
    assert request.headers["Authorization"] == "Bearer local-key"
    body = request.body
    assert body["model"] == "llama3.1:8b" and body["temperature"] == 0.3
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"] == Storyboard.model_json_schema()


# ---- validation, repair, faithfulness -------------------------------------------------------

@pytest.mark.parametrize("backend", ["gemini", "openai"])
def test_malformed_json_is_repaired_once_with_the_problem_quoted(server, tmp_path, backend):
    server.push(answer('{"title": "Harbour", "scenes": [{"lines": ['))
    board = analyzer(server, tmp_path, backend).analyze(SCRIPT)
    assert spoken(board) == LINES
    first, repair = server.requests
    assert "rejected" not in first.prompt
    assert "Your previous answer was rejected: the answer is not valid JSON" in repair.prompt


def test_an_answer_that_fails_validation_twice_fails_with_the_quote(server, tmp_path):
    bad = {"title": "Harbour", "scenes": [{"mood": "grumpy",
                                           "lines": [{"speaker": "NARRATOR", "text": "x"}]}]}
    server.push(answer(bad), answer(bad), answer(bad))
    with pytest.raises(AnalysisError) as caught:
        analyzer(server, tmp_path).analyze(SCRIPT)
    message = str(caught.value)
    assert 'does not validate at scenes.0.mood' in message and '"grumpy"' in message
    assert "--llm local" in message
    assert len(server.requests) == 2  # the answer and one repair, no more
    assert "scenes.0.mood" in server.requests[1].prompt


def test_a_dropped_line_is_asked_for_again_then_refused(server, tmp_path):
    def drop_second(request):
        return answer(answer_with(request, lambda d: d["scenes"][0]["lines"].pop(1)))

    server.default = drop_second
    with pytest.raises(AnalysisError) as caught:
        analyzer(server, tmp_path).analyze(SCRIPT)
    assert "line 2 was dropped: 'The boats are late tonight.'" in str(caught.value)
    assert "line 2 was dropped" in server.requests[1].prompt


def test_a_reworded_line_is_repaired(server, tmp_path):
    def reword(data):
        data["scenes"][1]["lines"][1]["text"] = "Light the lamp, please."

    server.push(answer(answer_with(_prompt_of(SCRIPT), reword)))
    board = analyzer(server, tmp_path).analyze(SCRIPT)
    assert spoken(board) == LINES
    assert "line 5 was reworded: 'Light the lamp.' came back as 'Light the lamp, please.'" in (
        server.requests[1].prompt)


def test_rewrite_allows_reworded_lines(server, tmp_path):
    def reword(request):
        return answer(answer_with(request, lambda d: d["scenes"][1]["lines"][1].update(
            text="Please, light the lamp.")))

    server.default = reword
    board = analyzer(server, tmp_path, llm_rewrite=True).analyze(SCRIPT)
    assert spoken(board)[-1] == "Please, light the lamp." and len(server.requests) == 1
    assert "reword lines lightly" in server.requests[0].prompt


@pytest.mark.parametrize("backend", ["gemini", "openai"])
def test_an_answer_cut_at_the_token_limit_says_to_raise_it(server, tmp_path, backend):
    server.push(answer('{"title": "Harbour", "scenes": [{"lines": [{"spea', finish="MAX_TOKENS"))
    with pytest.raises(AnalysisError, match="stopped at the output token limit.*--llm-max-tokens"):
        analyzer(server, tmp_path, backend).analyze(SCRIPT)
    assert len(server.requests) == 1  # the same request would be cut again


def _prompt_of(script):
    from vidgen_ray.analysis import analyze_script
    from vidgen_ray.analysis.llm_prompt import build_prompt
    from vidgen_ray.testing.fake_llm_server import Recorded

    prompt = build_prompt(analyze_script(script))
    return Recorded(0.0, "", {}, {"messages": [{"content": prompt}]})


# ---- retries and backoff --------------------------------------------------------------------

@pytest.mark.parametrize("backend", ["gemini", "openai"])
def test_429_and_5xx_are_retried_with_backoff_honouring_retry_after(server, tmp_path, backend):
    server.push(error(429, "Resource has been exhausted", retry_after=0.6), error(500),
                error(503), error(500))
    llm = analyzer(server, tmp_path, backend)
    board = llm.analyze(SCRIPT)
    assert spoken(board) == LINES and len(server.requests) == 5
    waits = llm.backoffs
    assert waits[0] >= 0.6  # the Retry-After, not the 0.05 s backoff
    for attempt, wait in enumerate(waits[1:], start=1):  # full jitter, doubling ceiling
        assert 0 <= wait <= min(FAST.cap, FAST.base * 2 ** attempt)
    times = [r.time for r in server.requests]
    for wait, earlier, later in zip(waits, times[:-1], times[1:], strict=True):
        assert later - earlier >= wait  # the server saw each retry only after its wait


def test_gemini_retry_info_in_the_body_is_honoured(server, tmp_path):
    server.push(error(429, "Quota exceeded", details=[
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1s"}]))
    analyzer(server, tmp_path).analyze(SCRIPT)
    first, second = server.requests
    assert second.time - first.time >= 1.0


def test_a_timeout_is_retried(server, tmp_path):
    server.push(answer("{}", delay=1.5))  # answers after the client has given up
    board = analyzer(server, tmp_path, timeout=0.4).analyze(SCRIPT)
    assert spoken(board) == LINES and len(server.requests) == 2


def test_429_to_the_end_is_a_quota_error(server, tmp_path):
    server.push(*[error(429, "Resource has been exhausted (e.g. check quota).")] * 5)
    with pytest.raises(AnalysisQuotaError) as caught:
        analyzer(server, tmp_path).analyze(SCRIPT)
    assert "rate limit or quota is exhausted" in str(caught.value)
    assert "Resource has been exhausted" in str(caught.value)
    assert len(server.requests) == 5  # the first try and FAST's 4 retries
    assert caught.value.http_status == 429


def test_a_spent_daily_quota_is_not_retried(server, tmp_path):
    server.push(error(429, "You exceeded your current quota", details=[{
        "@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{
            "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_"
                           "requests", "quotaId": "GenerateRequestsPerDayPerProjectPerModel"}]}]))
    with pytest.raises(AnalysisQuotaError, match="daily quota is exhausted"):
        analyzer(server, tmp_path).analyze(SCRIPT)
    assert len(server.requests) == 1


def test_a_400_is_not_retried(server, tmp_path):
    server.push(error(400, "Invalid JSON payload received."))
    with pytest.raises(AnalysisError, match="400 INVALID_ARGUMENT: Invalid JSON payload"):
        analyzer(server, tmp_path).analyze(SCRIPT)
    assert len(server.requests) == 1


def test_a_redirect_is_refused_and_the_key_never_leaves_for_another_host():
    import http.server
    import threading

    from vidgen_ray.errors import Failure

    seen: list[str | None] = []

    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            seen.append(self.headers.get("Authorization"))
            self.send_response(302)
            self.send_header("Location", f"http://localhost:{self.server.server_port}/x")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect) as httpd:
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        client = OpenAICompatClient(f"http://127.0.0.1:{httpd.server_port}/v1", "m",
                                    api_key="secret", timeout=5)
        try:
            with pytest.raises(Failure, match="302: .*give --llm-base-url the final address"):
                client.complete("prompt", {"type": "object"})
        finally:
            httpd.shutdown()
    assert seen == ["Bearer secret"]  # asked once, and not followed to the other host


# ---- keys -----------------------------------------------------------------------------------

def test_a_missing_gemini_key_is_named_before_any_request(server, tmp_path, monkeypatch):
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    settings = load_settings(llm="gemini", llm_base_url=server.url)
    with pytest.raises(AnalysisKeyError, match="needs an API key: get a key at .*GEMINI_API_KEY"):
        create_client(settings)
    monkeypatch.setenv("GOOGLE_API_KEY", "test-key")  # the SDK's other name works too
    assert create_client(settings).model == "gemini-2.5-flash"
    assert server.requests == []


def test_a_rejected_gemini_key_is_named(server, tmp_path):
    client = GeminiClient("wrong-key", base_url=server.url)
    settings = load_settings(llm="gemini", llm_cache_dir=str(tmp_path))
    with pytest.raises(AnalysisKeyError, match="Gemini rejected the API key .*API key not valid"):
        LLMAnalyzer(client, settings, policy=FAST).analyze(SCRIPT)
    assert len(server.requests) == 1  # never retried


@pytest.mark.parametrize(("backend", "code"), [("gemini", 403), ("openai", 401)])
def test_401_and_403_are_key_errors(server, tmp_path, backend, code):
    server.push(error(code, "Permission denied"))
    with pytest.raises(AnalysisKeyError, match=f"rejected the API key \\({code}"):
        analyzer(server, tmp_path, backend).analyze(SCRIPT)
    assert len(server.requests) == 1


def test_openai_needs_a_base_url_and_a_model():
    from vidgen_ray.errors import SettingsError

    with pytest.raises(SettingsError, match="--llm-base-url"):
        create_client(load_settings(llm="openai", llm_model="m"))
    with pytest.raises(SettingsError, match="--llm-model"):
        create_client(load_settings(llm="openai", llm_base_url="http://127.0.0.1:1/v1"))


# ---- caching --------------------------------------------------------------------------------

def test_an_unchanged_script_is_not_sent_again(server, tmp_path):
    first = analyzer(server, tmp_path).analyze(SCRIPT, "harbour.md")
    again = analyzer(server, tmp_path).analyze(SCRIPT, "harbour.md")  # a new process's view
    assert again == first and len(server.requests) == 1
    analyzer(server, tmp_path, llm_temperature=0.5).analyze(SCRIPT, "harbour.md")
    analyzer(server, tmp_path).analyze(SCRIPT + "\nMARA: One more.\n", "harbour.md")
    assert len(server.requests) == 3


# ---- long scripts ---------------------------------------------------------------------------

def test_a_long_script_is_split_analysed_and_merged_with_one_cast(server, tmp_path):
    script = "# Tides\n\n" + "\n\n".join(
        f"## Scene {n}\n\nThe tide turned again, grey and slow, for the {n}th time that "
        f"year.\n\n{'MARA' if n % 3 else 'ELIAS'}: Line {n}, said plainly into the wind."
        for n in range(12))
    board = analyzer(server, tmp_path, llm_max_tokens=1024).analyze(script, "tides.md")
    parts = len(server.requests)
    assert parts >= 3
    assert [f"part {i + 1} of {parts}" in r.prompt for i, r in enumerate(server.requests)] == [
        True] * parts
    assert len(board.scenes) == 12 and len(spoken(board)) == 24
    assert spoken(board)[1] == "Line 0, said plainly into the wind."
    # Later parts are told the cast; the merged cast keeps the first part's descriptions.
    assert '"name": "ELIAS"' in server.requests[1].prompt.split("The parsed script:")[0]
    assert [c.name for c in board.characters] == ["ELIAS", "MARA"]
    assert all(c.description.endswith("(part 1)") for c in board.characters)


# ---- the rate limit, shared by processes ----------------------------------------------------

class _RecordingLimiter(FileRateLimiter):
    """The shared file limiter, noting each admission time (the clock it decided by)."""

    def __init__(self, log_path: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.log_path = log_path

    def acquire(self) -> float:
        admitted = super().acquire()
        with open(self.log_path, "a", encoding="utf-8") as log:
            log.write(f"{admitted!r}\n")
        return admitted


def _analyse_in_a_process(url: str, folder: str, index: int) -> None:
    settings = load_settings(llm="openai", llm_cache_dir=folder, llm_model="m")
    limiter = _RecordingLimiter(f"{folder}/admitted-{index}.txt",
                                f"{folder}/shared-limit.json", limit=3, window=1.0)
    client = OpenAICompatClient(url + "/v1", "m")
    for round_ in range(3):  # different scripts: no cache hits
        text = f"Process {index} tells story {round_}.\n\nThe end of it."
        LLMAnalyzer(client, settings, limiter=limiter, policy=FAST).analyze(text)


def test_the_rate_limit_holds_across_parallel_processes(server, tmp_path):
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_analyse_in_a_process,
                               args=(server.url, str(tmp_path), i)) for i in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    assert len(server.requests) == 9
    admitted = sorted(float(line) for i in range(3)
                      for line in (tmp_path / f"admitted-{i}.txt").read_text().split())
    per_process = [len((tmp_path / f"admitted-{i}.txt").read_text().split()) for i in range(3)]
    assert per_process == [3, 3, 3]
    # At most 3 admissions in any 1-second window: the 4th after any one is a second later.
    assert all(later - first >= 1.0 for first, later in zip(admitted, admitted[3:],
                                                             strict=False))
    assert admitted[-1] - admitted[0] >= 2.0  # 9 requests at 3 per second
    assert len(json.loads((tmp_path / "shared-limit.json").read_text())) <= 3


def test_the_limiter_blocks_callers_for_the_rest_of_the_window(tmp_path):
    clock = [100.0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        clock[0] += seconds

    limiter = FileRateLimiter(tmp_path / "limit.json", limit=2, window=0.5,
                              clock=lambda: clock[0], sleep=sleep)
    admitted = [limiter.acquire() for _ in range(5)]
    assert admitted == [100.0, 100.0, 100.5, 100.5, 101.0]
    assert slept == [0.5, 0.5]
