"""The pure parts of language-model analysis: faithfulness, backoff, the sliding window,
splitting and merging, the prompt, parsing answers, cache keys, settings."""

import json
import random

import pytest
from pydantic import ValidationError

from vidgen_ray.analysis import analyze_script
from vidgen_ray.analysis import llm_prompt as prompts
from vidgen_ray.analysis.faithful import check_faithful
from vidgen_ray.analysis.llm import describe_problem, parse_answer
from vidgen_ray.analysis.llm_cache import cache_key
from vidgen_ray.analysis.ratelimit import admit
from vidgen_ray.analysis.retry import RetryPolicy, backoff, call_with_retries
from vidgen_ray.config import RenderSettings, llm_api_key, load_settings
from vidgen_ray.errors import Failure, SettingsError, Unfaithful
from vidgen_ray.storyboard import NARRATOR, Character, Line, Scene, Storyboard
from vidgen_ray.testing.fake_llm_server import SCRIPT


def board(*texts: str, speaker: str = "NARRATOR") -> Storyboard:
    cast = [] if speaker == "NARRATOR" else [Character(name=speaker)]
    return Storyboard(characters=cast, scenes=[Scene(lines=[
        Line(speaker=speaker, text=t) for t in texts])])


# ---- faithfulness ---------------------------------------------------------------------------

def test_the_same_lines_regrouped_and_rewrapped_are_faithful():
    reference = board("One two.", "Three four.")
    regrouped = Storyboard(characters=[Character(name="MARA")], scenes=[
        Scene(lines=[Line(speaker="MARA", text="One\n  two.")]),
        Scene(lines=[Line(text="Three four.")])])
    check_faithful(reference, regrouped)  # speakers may change, whitespace may re-wrap


@pytest.mark.parametrize(("answer", "message"), [
    (board("One.", "Three."), "line 2 was dropped: 'Two.'"),
    (board("One.", "Two.", "Extra!", "Three."), "a line was added after line 2: 'Extra!'"),
    (board("One.", "Too.", "Three."), "line 2 was reworded: 'Two.' came back as 'Too.'"),
    (board("One.", "Three.", "Two."), "line 3 came back out of order, after line 1: 'Three.'"),
    (board("One.", "Two.", "Two.", "Three."), "line 2 was repeated after line 2: 'Two.'"),
])
def test_the_first_unfaithful_line_is_quoted(answer, message):
    with pytest.raises(Unfaithful) as caught:
        check_faithful(board("One.", "Two.", "Three."), answer)
    assert str(caught.value) == message


def test_a_characters_line_given_to_someone_else_is_unfaithful():
    reference = Storyboard(characters=[Character(name="MARA"), Character(name="ELIAS")],
                           scenes=[Scene(lines=[Line(speaker="MARA", text="Late."),
                                                Line(speaker="ELIAS", text="They come.")])])
    swapped = reference.model_copy(deep=True)
    swapped.scenes[0].lines[1].speaker = NARRATOR
    with pytest.raises(Unfaithful, match="line 2 changed speaker from ELIAS to NARRATOR: "
                                         "'They come.'"):
        check_faithful(reference, swapped)


# ---- retries --------------------------------------------------------------------------------

def test_backoff_grows_exponentially_within_its_cap_and_honours_retry_after():
    policy = RetryPolicy(base=1.0, cap=8.0)
    rng = random.Random(1)
    for attempt in range(6):
        delays = [backoff(attempt, policy, rng) for _ in range(200)]
        ceiling = min(8.0, 2.0 ** attempt)
        assert min(delays) >= 0 and max(delays) <= ceiling
        assert max(delays) > 0.8 * ceiling  # full jitter uses the whole range
    assert backoff(0, policy, rng, retry_after=7.5) == 7.5  # the server's wait is a floor


def test_retries_stop_after_the_policy_and_raise_the_last_failure():
    calls, slept = [], []

    def flaky():
        calls.append(1)
        raise Failure(f"500 number {len(calls)}", retryable=True, status=500)

    with pytest.raises(Failure, match="500 number 4"):
        call_with_retries(flaky, RetryPolicy(retries=3, base=0.5), rng=random.Random(0),
                          sleep=slept.append)
    assert len(calls) == 4 and len(slept) == 3
    assert all(0 <= s <= 0.5 * 2 ** i for i, s in enumerate(slept))


def test_a_retry_after_is_slept_and_a_success_is_returned():
    replies = iter([Failure("429", True, retry_after=3.0, status=429), "ok"])
    slept = []

    def call():
        reply = next(replies)
        if isinstance(reply, Failure):
            raise reply
        return reply

    assert call_with_retries(call, RetryPolicy(base=0.1), sleep=slept.append) == "ok"
    assert slept == [3.0]


@pytest.mark.parametrize("failure", [
    Failure("400 bad request", retryable=False, status=400),
    Failure("429 come back tomorrow", retryable=True, retry_after=3600.0, status=429),
])
def test_fatal_failures_and_long_waits_are_not_retried(failure):
    calls = []

    def call():
        calls.append(1)
        raise failure

    with pytest.raises(Failure):
        call_with_retries(call, RetryPolicy(retries=5), sleep=lambda s: None)
    assert len(calls) == 1


# ---- the sliding window ---------------------------------------------------------------------

def test_admit_counts_requests_in_the_sliding_window():
    wait, stamps = admit([], 100.0, limit=2, window=60.0)
    assert wait == 0 and stamps == [100.0]
    wait, stamps = admit(stamps, 110.0, 2, 60.0)
    assert wait == 0 and stamps == [100.0, 110.0]
    wait, kept = admit(stamps, 120.0, 2, 60.0)
    assert wait == pytest.approx(40.0) and kept == [100.0, 110.0]  # the oldest leaves at 160
    wait, stamps = admit(stamps, 160.5, 2, 60.0)
    assert wait == 0 and stamps == [110.0, 160.5]  # 100 left the window


# ---- splitting and merging ------------------------------------------------------------------

def long_reference(scenes: int = 9) -> Storyboard:
    text = "\n\n".join(f"## Scene {n}\n\nThe tide turned for the {n}th time.\n\n"
                       f"{'MARA' if n % 2 else 'ELIAS'}: Line {n}, spoken plainly and slowly."
                       for n in range(scenes))
    return analyze_script("# Tides\n\n" + text, "tides.md")


def test_parts_cut_at_scene_boundaries_within_the_budget_and_in_order():
    reference = long_reference()
    budget = 700
    parts = prompts.split_parts(reference, budget)
    assert len(parts) > 2
    assert [s for p in parts for s in p.scenes] == reference.scenes
    for part in parts:
        assert sum(len(s.model_dump_json(exclude_defaults=True)) for s in part.scenes) <= budget
        speakers = {line.speaker for s in part.scenes for line in s.lines} - {"NARRATOR"}
        assert {c.name for c in part.characters} == speakers
    assert prompts.split_parts(reference, 10**6) == [reference]


def test_a_scene_larger_than_the_budget_is_a_part_of_its_own():
    reference = long_reference(3)
    assert [len(p.scenes) for p in prompts.split_parts(reference, 1)] == [1, 1, 1]


def test_the_budget_follows_the_output_tokens():
    assert prompts.part_budget(8192) == 2 * prompts.part_budget(4096) > 10_000


def test_merge_keeps_the_first_description_of_a_character():
    reference = long_reference(2)
    first = Storyboard(characters=[Character(name="MARA", description="red coat", age="old")],
                       scenes=[reference.scenes[1]])
    second = Storyboard(characters=[Character(name="MARA", description="blue coat"),
                                    Character(name="ELIAS", description="beard")],
                        scenes=[Scene(lines=[Line(speaker="ELIAS", text="x")])])
    merged = prompts.merge_parts(reference, [first, second])
    assert [(c.name, c.description) for c in merged.characters] == [("MARA", "red coat"),
                                                                      ("ELIAS", "beard")]
    assert merged.title == "Tides" and merged.source_format == "markdown"
    assert len(merged.scenes) == 2


# ---- the prompt and the answer --------------------------------------------------------------

def test_the_prompt_carries_the_lines_the_rules_the_cast_and_the_problem():
    reference = analyze_script(SCRIPT, "harbour.md")
    cast = [Character(name="MARA", description="red coat", gender="female")]
    text = prompts.build_prompt(reference, index=1, parts=3, cast=cast,
                                problem="line 2 was dropped: 'x'")
    parsed = json.loads(text.split("The parsed script:\n", 1)[1].split("\n\nYour previous")[0])
    assert [line["text"] for s in parsed["scenes"] for line in s["lines"]] == [
        line.text for s in reference.scenes for line in s.lines]
    assert "verbatim and in the same order" in text
    assert "part 2 of 3" in text and '"description": "red coat"' in text
    assert "Your previous answer was rejected: line 2 was dropped: 'x'" in text
    assert "reword lines lightly" in prompts.build_prompt(reference, rewrite=True)
    assert prompts.response_schema() == Storyboard.model_json_schema()


def test_an_answer_is_parsed_cleaned_and_validated():
    data = {"title": "T", "characters": [{"name": "MARA", "voice": "deep", "seed": 5,
                                          "gender": "female", "age": "young"},
                                         {"name": "NARRATOR", "description": "a voice"}],
            "scenes": [{"seed": 9, "mood": "tense", "lines": [{"speaker": "MARA",
                                                               "text": "Hi."}]}],
            "metadata": {"x": "y"}}
    parsed = parse_answer("```json\n" + json.dumps(data) + "\n```")
    [mara] = parsed.characters
    assert (mara.voice, mara.gender, mara.age) == (None, "female", "young")
    assert mara.seed != 5 and parsed.scenes[0].seed is None and parsed.metadata == {}


@pytest.mark.parametrize(("text", "quoted"), [
    ('{"title": "T", "scenes": [', "the answer is not valid JSON"),
    ('["a list"]', "not an object"),
    ('{"scenes": [{"lines": [{"speaker": "BOB", "text": "hi"}]}]}',
     "speaker 'BOB' is not in the character list"),
    ('{"scenes": [{"mood": "grumpy"}]}', "at scenes.0.mood: Input should be 'neutral'"),
])
def test_a_bad_answer_is_described_with_a_quote(text, quoted):
    with pytest.raises((ValueError, ValidationError)) as caught:
        parse_answer(text)
    assert quoted in describe_problem(caught.value)


def test_the_cache_key_changes_with_script_and_settings_only():
    shaping = {"backend": "gemini", "model": "m", "temperature": 0.3}
    key = cache_key("text", "a.md", shaping)
    assert key == cache_key("text", "a.md", dict(shaping))
    assert key != cache_key("text!", "a.md", shaping)
    assert key != cache_key("text", "a.md", {**shaping, "temperature": 0.4})
    assert key != cache_key("text", "a.md", {**shaping, "model": "n"})


# ---- settings -------------------------------------------------------------------------------

def test_llm_settings_defaults_bounds_and_design_names(monkeypatch):
    settings = RenderSettings()
    assert (settings.llm, settings.llm_temperature, settings.llm_max_tokens,
            settings.llm_requests_per_minute) == ("local", 0.3, 8192, 60)
    for field, value in (("llm", "claude"), ("llm_temperature", 3.0), ("llm_max_tokens", 10),
                         ("llm_requests_per_minute", 0), ("llm_base_url", "localhost:11434"),
                         ("llm_base_url", "https://user:token@proxy/v1"),
                         ("llm_base_url", "https://proxy/v1?key=secret"),
                         ("llm_model", "../../files/x"), ("llm_model", "a model"),
                         ("llm_timeout", 0.1)):
        with pytest.raises(SettingsError, match=field):
            load_settings(**{field: value})
    monkeypatch.setenv("VIDGEN_GEMINI_MODEL", "gemini-2.5-pro")
    monkeypatch.setenv("VIDGEN_GEMINI_TEMPERATURE", "0.1")
    settings = RenderSettings()
    assert (settings.llm_model, settings.llm_temperature) == ("gemini-2.5-pro", 0.1)


def test_keys_come_from_the_sdk_variables_and_never_into_dumps(monkeypatch):
    for name in ("GEMINI_API_KEY", "GOOGLE_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    assert llm_api_key("gemini") is None
    monkeypatch.setenv("GOOGLE_API_KEY", "g-secret")
    assert llm_api_key("gemini") == "g-secret"
    monkeypatch.setenv("GEMINI_API_KEY", "secret-1")
    monkeypatch.setenv("OPENAI_API_KEY", "secret-2")
    assert (llm_api_key("gemini"), llm_api_key("openai")) == ("secret-1", "secret-2")
    dumped = json.dumps(load_settings(llm="gemini", llm_base_url="http://models.internal:8080",
                                      llm_model="models/gemini-2.5-flash").for_manifest())
    assert "secret" not in dumped and '"llm": "gemini"' in dumped
    assert "models.internal" not in dumped  # the operator's server stays off the manifest
