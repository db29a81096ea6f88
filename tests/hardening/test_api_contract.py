"""A strict API contract: JSON types are taken as the document names them (no true for an
integer, no "12" for a number), a body that is not JSON gets a readable message, and the
OpenAPI document states the one-of rule, the error answers and their headers. This service
also runs with VIDGEN_PROBES_NEED_KEY: /readyz and /metrics then ask for a key."""

from __future__ import annotations

import pytest

from vidgen_ray.testing.http import request
from vidgen_ray.testing.service import job_service

pytestmark = [pytest.mark.ray, pytest.mark.slow]

KEY = "contract-key-0123456789ab"
SCRIPT = "# Harbour\n\nThe boats come home."


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    home = tmp_path_factory.mktemp("contract") / "home"
    env = dict(VIDGEN_API_KEYS=f"c:{KEY}", VIDGEN_STORAGE=str(home),
               VIDGEN_PROBES_NEED_KEY="true")
    with job_service(env) as address:
        yield address


def call(address: str, method: str, path: str, body=None, key: str | None = KEY,
         raw: bytes | None = None):
    return request(address, method, path, body, key=key, raw=raw)


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/v1/jobs", {"script": SCRIPT, "priority": True}, "priority"),
    ("/v1/jobs", {"script": SCRIPT, "settings": {"fps": "12"}}, "settings.fps"),
    ("/v1/jobs", {"script": SCRIPT, "settings": {"chunk_seconds": "2"}},
     "settings.chunk_seconds"),
    ("/v1/jobs", {"script": SCRIPT, "settings": {"burn_subtitles": 1}},
     "settings.burn_subtitles"),
    ("/v1/jobs", {"script": 12}, "script"),
    ("/v1/jobs", {"script": None, "storyboard": {"scenes": []}}, "script"),
    ("/v1/analyze", {"script": SCRIPT, "settings": {"fps": 12.5}}, "settings.fps"),
    ("/v1/analyze", {"script": SCRIPT, "settings": {"loudness": True}}, "settings.loudness"),
    ("/v1/jobs/job-0123456789ab/priority", {"priority": "3"}, "priority"),
    ("/v1/jobs/job-0123456789ab/priority", {"priority": False}, "priority"),
])
def test_json_types_are_strict(service, path, body, field):
    status, _, answer = call(service, "POST", path, body)
    assert status == 422 and answer["error"]["field"] == field, answer


def test_loudness_takes_a_number_or_a_preset(service):
    for loudness in (-16, -14.5, "web"):
        body = {"script": SCRIPT, "settings": {"loudness": loudness}}
        status, _, board = call(service, "POST", "/v1/analyze", body)
        assert status == 200 and board["scenes"], (loudness, board)


def test_a_body_that_is_not_json_gets_a_readable_message(service):
    status, _, answer = call(service, "POST", "/v1/jobs", raw=b'{"script": "x",\n  oops}')
    assert status == 422, answer
    assert answer["error"] == {
        "type": "ValidationError", "field": None,
        "message": "the request body is not valid JSON: Expecting property name enclosed in "
                   "double quotes at line 2 column 3"}
    status, _, answer = call(service, "POST", "/v1/jobs", raw=b"\xff\xfe\x00garbage")
    assert status in (400, 422) and answer["error"]["field"] is None, answer
    assert "JSON" in answer["error"]["message"]


def test_a_wrong_method_names_the_methods_allowed(service):
    status, headers, answer = call(service, "PUT", "/v1/jobs")
    assert status == 405 and headers["Allow"] == "GET, POST", answer
    assert "GET or POST" in answer["error"]["message"]


def test_probes_ask_for_a_key_when_the_operator_says_so(service):
    for path in ("/readyz", "/metrics"):
        assert call(service, "GET", path, key=None)[0] == 401, path
        assert call(service, "GET", path)[0] == 200, path
    assert call(service, "GET", "/healthz", key=None)[0] == 200


def test_the_document_states_what_the_server_does(service):
    status, _, doc = call(service, "GET", "/openapi.json", key=None)
    assert status == 200
    schemas, paths = doc["components"]["schemas"], doc["paths"]
    assert schemas["JobRequest"]["oneOf"] == [{"required": ["script"]},
                                              {"required": ["storyboard"]}]
    submit = paths["/v1/jobs"]["post"]["responses"]
    assert {"200", "202", "400", "401", "403", "413", "422", "429"} <= set(submit)
    assert "Location" in submit["202"]["headers"]
    assert "Retry-After" in submit["429"]["headers"]
    assert "Retry-After" in paths["/v1/jobs/{job_id}/retry"]["post"]["responses"]["429"][
        "headers"]
    assert "WWW-Authenticate" in submit["401"]["headers"]
    assert {"400", "413", "422", "429"} <= set(paths["/v1/analyze"]["post"]["responses"])
    assert "400" in paths["/v1/jobs/{job_id}/priority"]["post"]["responses"]
    assert {} in paths["/readyz"]["get"]["security"]  # a key is optional there by default
    assert "/docs" not in paths
