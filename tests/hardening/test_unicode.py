"""Unicode that cannot crash anything: property tests over every string field of a job
(script or storyboard), of settings and of the analyze request, against the running service.
Strings mix lone UTF-16 surrogates (valid JSON escapes, not text), NUL and other control
characters, bidi marks, emoji, combining marks and ordinary text. The service never answers
a 5xx; a refused string is a 4xx naming its field; an accepted job's saved request reads
back exactly (from the API and from the job's home)."""

from __future__ import annotations

import http.client
import json
import uuid
from functools import partial

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vidgen_ray.farm.home import JobHome
from vidgen_ray.storyboard import Storyboard
from vidgen_ray.testing.fake_backends import SlowImageBackend
from vidgen_ray.testing.service import job_service

pytestmark = [pytest.mark.ray, pytest.mark.ffmpeg]

ALICE, OPS = "alice-key-0123456789", "ops-key-0123456789abc"
# Text that is text: bidi marks, zero-width and joiners, emoji, combining marks, letters
# that change length with case, noncharacters, and what quoting and paths are made of.
NICE = ["\u202e", "\u200f", "\u2066", "\u200b", "\ufeff", "\ufffe", "\U0010ffff",
        "\U0001f600", "\U0001f469\u200d\U0001f469\u200d\U0001f467", "e\u0301", "\u0300",
        "\u2028", "\n", "\t", "\\", '"', "'", ":", ",", ";", "[", "]", "%", "{", "../",
        "\ufdfa", "ß", "İ", "ﬀ", " ", "Hello.", "ANNA"]
# What is not text (lone surrogates) or not for a title or a name (control characters).
BAD = ["\ud800", "\udfff", "\udbff", "\x00", "\x07", "\x1b", "\x7f", "\x85", "\x0c"]
printable = st.characters(codec="utf-8", exclude_categories=["Cc"])
clean = st.lists(st.one_of(st.sampled_from(NICE), printable, st.text(printable, max_size=4)),
                 min_size=1, max_size=8).map("".join)
bad_char = st.one_of(st.sampled_from(BAD), st.characters(categories=["Cs"]),
                     st.characters(categories=["Cc"]))
PROPERTY = settings(max_examples=50, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def strings(draw, names: tuple[str, ...]) -> tuple[dict[str, str], str | None]:
    """Clean text for each name; in about half the examples, one of them (the victim) gets
    a character that is not text, or a control character, somewhere."""
    values = {name: draw(clean) for name in names}
    victim = draw(st.one_of(st.none(), st.sampled_from(names)))
    if victim is not None:
        at = draw(st.integers(0, len(values[victim])))
        values[victim] = values[victim][:at] + draw(bad_char) + values[victim][at:]
    return values, victim


def has_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(c) <= 0xDFFF for c in text)


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    home = tmp_path_factory.mktemp("unicode") / "home"
    env = dict(VIDGEN_API_KEYS=f"alice:{ALICE},ops:{OPS}:admin", VIDGEN_STORAGE=str(home),
               VIDGEN_MAX_RUNNING_JOBS="1", VIDGEN_MAX_QUEUED_JOBS="1000",
               VIDGEN_MAX_QUEUED_PER_KEY="100000", VIDGEN_IMAGE_WORKERS="1")
    # Every picture takes ten minutes: the first job holds the one running place, so the
    # jobs the properties make only queue (and are cancelled) instead of rendering.
    factories = {"image": partial(SlowImageBackend, latency_s=600.0)}
    with job_service(env, factories) as address:
        status, _ = call(address, "POST", "/v1/jobs", {"script": "Hold the farm."}, key=OPS)
        assert status == 202
        yield address, JobHome(str(home))


def call(address, method, path, body=None, key=ALICE, raw: bytes | None = None):
    conn = http.client.HTTPConnection(address, timeout=60)
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    conn.request(method, path, body=data,
                 headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"})
    answer = conn.getresponse()
    content = answer.read()
    conn.close()
    if answer.getheader("Content-Type", "").startswith("application/json"):
        content = json.loads(content)  # strict UTF-8: a bad answer would fail here
    return answer.status, content


def checked(status: int, answer) -> bool:
    """True if accepted; a refusal must be a 4xx in the one error shape."""
    assert status < 500, answer
    if status in (200, 202):
        return True
    assert 400 <= status < 500 and set(answer["error"]) == {"type", "message", "field"}, answer
    return False


def read_back(service, job: dict, sent: dict) -> None:
    """The job's saved request is what was sent, and the API shows it; then cancel it."""
    address, home = service
    stored = home.load_request(job["id"])
    assert stored.settings == sent.get("settings", {})
    if "storyboard" in sent:
        expected = Storyboard.model_validate(sent["storyboard"])
        assert stored.storyboard == expected
        assert job["title"] == expected.title
        status, scenes = call(address, "GET", f"/v1/jobs/{job['id']}/scenes")
        assert status == 200
        assert [s["lines"] for s in scenes] == [
            [f"{line.speaker}: {line.text}" for line in scene.lines]
            for scene in expected.scenes]
    status, again = call(address, "GET", f"/v1/jobs/{job['id']}")
    assert status == 200 and again["title"] == stored.storyboard.title
    assert call(address, "DELETE", f"/v1/jobs/{job['id']}")[0] == 200


STORYBOARD_STRINGS = ("title", "scene_title", "description", "text", "speaker", "note",
                      "extension", "look", "meta_key", "meta_value")


@PROPERTY
@given(strings(STORYBOARD_STRINGS), st.sampled_from([None, "fr", "de"]),
       st.sampled_from([None, "en+m3", "fr+f2"]))
def test_storyboard_strings_never_crash_and_read_back(service, drawn, language, voice):
    v, victim = drawn
    line = {"text": v["text"], "speaker": v["speaker"], "parenthetical": v["note"],
            "extension": v["extension"], **({"language": language} if language else {})}
    body = {"storyboard": {"title": v["title"], "metadata": {v["meta_key"]: v["meta_value"]},
                           "characters": [{"name": v["speaker"], "description": v["look"],
                                           **({"voice": voice} if voice else {})}],
                           "scenes": [{"title": v["scene_title"],
                                       "description": v["description"], "lines": [line]}]},
            "settings": {"fps": 12}}
    status, answer = call(service[0], "POST", "/v1/jobs", body)
    accepted = checked(status, answer)
    assert not (accepted and victim and has_surrogate(v[victim])), answer
    if accepted:
        read_back(service, answer, body)


SCRIPT_STRINGS = ("script", "filename", "font", "negative", "cast_name")


@PROPERTY
@given(strings(SCRIPT_STRINGS), st.sampled_from([None, "en+m3", "fr", "xx\ud800"]),
       st.sampled_from([None, "nightly-1", "n\u00e9"]))
def test_script_and_settings_strings_never_crash_and_read_back(service, drawn, voice, key):
    v, victim = drawn
    settings_ = {"subtitle_font": v["font"], "image_negative_prompt": v["negative"],
                 "voices": {v["cast_name"]: "en+m7"}, **({"tts_voice": voice} if voice else {})}
    body = {"script": "The boats come home. " + v["script"], "filename": v["filename"],
            # unique: the same key again would answer the earlier job (with its settings)
            "settings": settings_, **({"idempotency_key": key + uuid.uuid4().hex} if key else {})}
    status, answer = call(service[0], "POST", "/v1/jobs", body)
    accepted = checked(status, answer)
    assert not (accepted and victim and has_surrogate(v[victim])), answer
    if accepted:
        read_back(service, answer, body)


@PROPERTY
@given(strings(("script", "filename")), st.sampled_from(["en", "fr", "zz", "e\ud800"]),
       st.sampled_from([None, "en+m3", "zz"]))
def test_analyze_strings_never_crash(service, drawn, language, voice):
    v, victim = drawn
    body = {"script": f"<!-- language: {language} -->\n\nThe boats. {v['script']}",
            "filename": v["filename"],
            "settings": {"tts_voice": voice} if voice is not None else {}}
    status, answer = call(service[0], "POST", "/v1/analyze", body)
    accepted = checked(status, answer)
    assert not (accepted and victim and has_surrogate(v[victim])), answer
    if accepted:
        assert Storyboard.model_validate(answer).scenes


@pytest.mark.parametrize("raw", [
    b'{"script": "\xed\xa0\x80 encoded surrogate"}', b'\xff\xfe{"script": "x"}',
    b'{"script": "a\\u0000b"}', b'{"storyboard": {"title": "\\ud800", "scenes": []}}',
    b'{"settings": {"\\udc00": 1}, "script": "x"}',
    b'{"script": "x", "settings": {"cast": {"\\ud800": 5}}}',
])
def test_raw_bodies_with_bad_text_are_4xx(service, raw):
    status, answer = call(service[0], "POST", "/v1/jobs", raw=raw)
    assert 400 <= status < 500, answer


def test_a_lone_surrogate_is_refused_naming_its_field(service):
    cases = [({"script": "Hi \ud800."}, "script"),
             ({"storyboard": {"title": "\ud800", "scenes": [{"lines": [{"text": "Hi."}]}]}},
              "storyboard.title"),
             ({"script": "Hi.", "settings": {"tts_voice": "en\udfff"}}, "settings.tts_voice"),
             ({"script": "Hi.", "settings": {"voices": {"ANNA": "\ud800"}}},
              "settings.voices.ANNA")]
    for body, field in cases:
        status, answer = call(service[0], "POST", "/v1/jobs", body)
        assert status == 422 and answer["error"]["field"] == field, answer
        assert "surrogate" in answer["error"]["message"]
