"""Headers and small exposure: a relative Location, the page's security headers and a CSP
it fits, /docs off by default (and pinned, hash-checked assets when on), keys read from
VIDGEN_API_KEYS_FILE, probes open by default, and client messages with no server detail
(an unexpected error carries an id that is in the log, a cleaned output names no path)."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import shutil
import time
from functools import partial
from pathlib import Path

import pytest

from vidgen_ray.config import ServiceSettings
from vidgen_ray.errors import SettingsError
from vidgen_ray.service.guard import PAGE_CSP, docs_page, internal_error
from vidgen_ray.service.requests import load_keys
from vidgen_ray.testing.fake_backends import SlowImageBackend
from vidgen_ray.testing.http import request
from vidgen_ray.testing.service import job_service

KEY = "file-key-0123456789abcdef"
WEB = Path(__file__).parents[2] / "vidgen_ray" / "service" / "web"


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """The service with its keys in a file (no VIDGEN_API_KEYS in its environment)."""
    root = tmp_path_factory.mktemp("headers")
    keys = root / "keys"
    keys.write_text(f"# the service's keys\nfile:{KEY}\n\nops:ops-key-0123456789abcd:admin\n")
    env = dict(VIDGEN_API_KEYS_FILE=str(keys), VIDGEN_STORAGE=str(root / "home"))
    factories = {"image": partial(SlowImageBackend, latency_s=0.0)}
    with job_service(env, factories, unset=("VIDGEN_API_KEYS",)) as address:
        yield address, root / "home"


def call(address: str, method: str, path: str, body=None, key: str | None = KEY,
         headers: dict | None = None):
    return request(address, method, path, body, key=key, headers=headers)


# ---- over HTTP -------------------------------------------------------------------------------

@pytest.mark.ray
@pytest.mark.ffmpeg
@pytest.mark.slow
def test_location_is_a_path_and_cleaned_outputs_name_no_folder(service):
    address, home = service
    body = {"script": "# One\n\nThe door opens.", "settings": {"fps": 12, "chunk_seconds": 2}}
    status, headers, job = call(address, "POST", "/v1/jobs", body,
                                headers={"Host": "evil.example:666"})
    assert status == 202, job
    assert headers["Location"] == f"/v1/jobs/{job['id']}"
    deadline = time.monotonic() + 180
    while job["status"] not in ("done", "failed", "cancelled") and time.monotonic() < deadline:
        time.sleep(0.3)
        job = call(address, "GET", f"/v1/jobs/{job['id']}")[2]
    assert job["status"] == "done", job
    shutil.rmtree(home / "outputs" / job["id"])
    status, _, answer = call(address, "GET", f"/v1/jobs/{job['id']}/video")
    assert status == 404 and "retry the job" in answer["error"]["message"], answer
    assert str(home) not in json.dumps(answer) and "/tmp" not in json.dumps(answer)


@pytest.mark.ray
@pytest.mark.slow
def test_the_page_sends_security_headers(service):
    address, _ = service
    for path in ("/", "/web/app.js", "/web/style.css"):
        status, headers, _ = call(address, "GET", path, key=None)
        assert status == 200, path
        assert headers["X-Frame-Options"] == "DENY", path
        assert headers["Content-Security-Policy"] == PAGE_CSP, path
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] == "no-referrer", path
    status, headers, _ = call(address, "GET", "/v1/jobs")
    assert status == 200 and headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.ray
@pytest.mark.slow
def test_docs_are_off_by_default_and_the_document_stays(service):
    address, _ = service
    status, _, answer = call(address, "GET", "/docs", key=None)
    assert status == 404 and "/openapi.json" in answer["error"]["message"]
    assert call(address, "GET", "/redoc", key=None)[0] == 404
    assert call(address, "GET", "/openapi.json", key=None)[0] == 200


@pytest.mark.ray
@pytest.mark.slow
def test_keys_come_from_the_file_and_probes_answer_without_one(service):
    address, _ = service
    assert call(address, "GET", "/v1/jobs")[0] == 200
    assert call(address, "GET", "/v1/jobs", key="ops-key-0123456789abcd")[0] == 200
    assert call(address, "GET", "/v1/jobs", key=None)[0] == 401
    assert call(address, "GET", "/readyz", key=None)[0] == 200  # VIDGEN_PROBES_NEED_KEY off
    assert call(address, "GET", "/metrics", key=None)[0] == 200


# ---- without a service -----------------------------------------------------------------------

def test_the_page_has_nothing_inline_for_its_csp_to_block():
    html = (WEB / "index.html").read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script"
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"
    script = (WEB / "app.js").read_text()
    assert "eval(" not in script and "new Function" not in script
    assert "innerHTML" not in script


def test_docs_when_on_load_a_pinned_version_checked_by_hash():
    html, headers = docs_page()
    srcs = re.findall(r'(?:src|href)="(https://[^"]+)"', html)
    assert srcs and all("swagger-ui-dist@5.32.0/" in src for src in srcs)
    assert html.count('integrity="sha384-') == 2 and 'crossorigin="anonymous"' in html
    inline = re.search(r"<script>(.*?)</script>", html).group(1)
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"


def test_an_unreadable_keys_file_is_a_clear_error(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(SettingsError) as info:
        load_keys(ServiceSettings(api_keys_file=str(missing)))
    assert "VIDGEN_API_KEYS_FILE" in info.value.message and str(missing) in info.value.message
    both = tmp_path / "keys"
    both.write_text("b:b-key-0123456789abcdef\n")
    keys = load_keys(ServiceSettings(api_keys="a:a-key-0123456789abcdef",
                                     api_keys_file=str(both)))
    assert [k.name for k in keys] == ["a", "b"]


def test_an_unexpected_error_answers_an_id_that_is_in_the_log(caplog):
    try:
        raise RuntimeError("disk /srv/vidgen/secret is full")
    except RuntimeError as exc:
        with caplog.at_level(logging.ERROR, logger="vidgen.api"):
            message = internal_error("GET", "/v1/jobs", exc)
    error_id = re.search(r"id ([0-9a-f]{32})", message).group(1)
    assert "RuntimeError" not in message and "/srv" not in message
    record = caplog.records[-1]
    assert error_id in record.getMessage() and record.exc_info[0] is RuntimeError
