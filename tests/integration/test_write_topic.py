"""``vidgen write`` against the local fake LLM servers (the real google-genai SDK for Gemini,
plain HTTP for the OpenAI-compatible one): the script is checked by the local analyser, a
wrong length is corrected once, a second miss is a clear error; the checks themselves."""

import json
import os
import subprocess
import sys
import time

import pytest

from vidgen_ray.analysis import analyze_script
from vidgen_ray.analysis.writer import WriteRequest, build_write_prompt, check_script
from vidgen_ray.errors import InputError, SettingsError
from vidgen_ray.testing.fake_llm_server import FakeLLMServer, answer, written_script


@pytest.fixture(scope="module")
def server():
    with FakeLLMServer(api_key="write-key") as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh(server):
    server.replies.clear()
    server.requests.clear()


def _vidgen(*args, backend="gemini", server=None, tmp_path=None):
    env = {**os.environ, "GEMINI_API_KEY": "write-key", "OPENAI_API_KEY": "local-key"}
    llm = ["--llm", backend, "--llm-cache-dir", str(tmp_path / "cache"), "--llm-retries", "0"]
    if backend == "gemini":
        llm += ["--llm-base-url", server.url]
    elif backend == "openai":
        llm += ["--llm-base-url", server.url + "/v1", "--llm-model", "llama3.1:8b"]
    return subprocess.run([sys.executable, "-m", "vidgen_ray", "write", *map(str, args), *llm],
                          capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("backend", ["gemini", "openai"])
def test_write_makes_a_script_the_analyser_reads_with_the_scenes_and_length_asked(
        server, tmp_path, backend):
    out = tmp_path / "lighthouse.md"
    done = _vidgen("how lighthouses work", "--scenes", 4, "--minutes", 1, "--style",
                   "documentary", "-o", out, backend=backend, server=server, tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    board = analyze_script(out.read_text(encoding="utf-8"), out.name)
    assert board.title == "How Lighthouses Work"
    assert [s.title for s in board.scenes] == ["Part 1", "Part 2", "Part 3", "Part 4"]
    assert {c.name for c in board.characters} == {"ANNA", "BEN"}
    assert len(server.requests) == 1
    prompt = server.requests[0].prompt
    assert "Scenes: 4" in prompt and "about 150 spoken words" in prompt
    assert "Style: documentary" in prompt and "Topic: how lighthouses work" in prompt
    path = server.requests[0].path
    assert path.endswith(":generateContent") if backend == "gemini" else "chat/completions" in path


def test_write_prints_the_script_on_stdout_without_o(server, tmp_path):
    done = _vidgen("tides", "--scenes", 2, "--minutes", 0.5, server=server, tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# Tides\n") and done.stdout.count("\n## ") == 2


def test_a_script_of_the_wrong_length_is_asked_for_again_with_the_problem(server, tmp_path):
    first = WriteRequest("tides", scenes=3, minutes=2)
    server.push(answer({"script": written_script(build_write_prompt(first), words=60)}))
    done = _vidgen("tides", "--scenes", 3, "--minutes", 2, server=server, tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(server.requests) == 2
    correction = server.requests[1].prompt
    assert "Your previous script was rejected" in correction
    assert "about 2 minutes (300 words) were asked for" in correction


def test_two_unusable_scripts_are_a_clear_error(server, tmp_path):
    server.push(answer({"script": "# Tides\n\n## One\n\nThe sea.\n"}),
                answer("not json at all"))
    done = _vidgen("tides", "--scenes", 3, server=server, tmp_path=tmp_path)
    assert done.returncode == 1
    said = " ".join(done.stderr.split())  # rich wraps long lines
    assert "wrote no usable script, even when told what was wrong" in said
    assert "not valid JSON" in said
    assert "Traceback" not in done.stderr


def test_write_without_a_model_says_which_to_use(server, tmp_path):
    done = _vidgen("tides", backend="local", server=server, tmp_path=tmp_path)
    assert done.returncode == 2
    assert "needs a language model: --llm gemini" in " ".join(done.stderr.split())
    assert server.requests == []


def test_the_checks_name_what_is_wrong():
    request = WriteRequest("tides", scenes=2, minutes=0.5)
    good = written_script(build_write_prompt(request))
    assert len(check_script(good, request).scenes) == 2
    with pytest.raises(ValueError, match="makes 3 scenes but 2 were asked for"):
        check_script(written_script(build_write_prompt(request), scenes=3), request)
    with pytest.raises(ValueError, match="no character speaks"):
        check_script("# T\n\n## A\n\n" + "word " * 40 + "\n\n## B\n\n" + "word " * 35, request)
    with pytest.raises(ValueError, match='start with a "# " title'):
        check_script("## A\n\nNo title.\n", request)
    with pytest.raises(SettingsError, match="scenes=0"):
        WriteRequest("tides", scenes=0)
    with pytest.raises(InputError, match="the topic is empty"):
        WriteRequest("  ")
    with pytest.raises(SettingsError, match="not a language code"):
        WriteRequest("tides", language="../fr")
    intro = good.replace("\n## Part 1", "\nAn opening paragraph.\n\n## Part 1", 1)
    with pytest.raises(ValueError, match="no text between the '# ' title"):
        check_script(intro, request)


@pytest.mark.ray
@pytest.mark.ffmpeg
@pytest.mark.slow
def test_render_topic_writes_the_script_beside_the_video_and_reuses_it(server, tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "GEMINI_API_KEY": "write-key", "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "vidgen_ray", "render", "--topic", "tides", "--scenes", "2",
               "--minutes", "0.25", "-o", str(out), "--preview", "--llm", "gemini",
               "--llm-base-url", server.url, "--llm-cache-dir", str(tmp_path / "cache")]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == str(out / "video.mp4")
    script = (out / "script.md").read_text(encoding="utf-8")
    assert script.startswith("# Tides\n") and script.count("\n## ") == 2
    board = json.loads((out / "storyboard.json").read_text())
    assert [s["title"] for s in board["scenes"]] == ["Part 1", "Part 2"]
    writes = [r for r in server.requests if "Write the script" in r.prompt]
    assert len(writes) == 1
    again = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "using the script written before" in " ".join(again.stderr.split())
    assert len([r for r in server.requests if "Write the script" in r.prompt]) == 1
    neither = subprocess.run([sys.executable, "-m", "vidgen_ray", "render"], capture_output=True,
                             text=True, env=env, timeout=120)
    assert neither.returncode == 2 and "give a SCRIPT file or --topic" in neither.stderr


# ---- through the job service: POST /v1/write, and the page's "Write from a topic" ----------

KEY = "alice-key-0123456789"


@pytest.fixture(scope="module")
def service(server, tmp_path_factory):
    """host:port of a JobService whose operator's model is the fake Gemini server."""
    from vidgen_ray.testing.service import job_service

    root = tmp_path_factory.mktemp("write-service")
    env = dict(VIDGEN_API_KEYS=f"alice:{KEY}", VIDGEN_STORAGE=str(root / "home"),
               GEMINI_API_KEY="write-key", VIDGEN_LLM_BASE_URL=server.url,
               VIDGEN_LLM_CACHE_DIR=str(root / "cache"), VIDGEN_LLM_RETRIES="0")
    with job_service(env) as address:
        yield address


def post(service, path, body, key=KEY):
    import http.client

    conn = http.client.HTTPConnection(service, timeout=120)
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    conn.request("POST", path, body=json.dumps(body).encode(), headers=headers)
    answer = conn.getresponse()
    content = json.loads(answer.read())
    conn.close()
    return answer.status, content


@pytest.mark.ray
@pytest.mark.slow
def test_the_service_writes_a_checked_script_behind_the_key(server, service):
    body = {"topic": "how lighthouses work", "scenes": 3, "minutes": 1,
            "style": "documentary", "settings": {"llm": "gemini"}}
    assert post(service, "/v1/write", body, key=None)[0] == 401
    status, written = post(service, "/v1/write", body)
    assert status == 200, written
    assert (written["title"], written["scenes"]) == ("How Lighthouses Work", 3)
    assert written["minutes"] == pytest.approx(1, abs=0.35)
    assert len(analyze_script(written["script"], "script.md").scenes) == 3
    assert "Style: documentary" in server.requests[-1].prompt
    status, refused = post(service, "/v1/write", {**body, "settings": {}})
    assert status == 422 and "settings.llm to gemini or openai" in refused["error"]["message"]
    server.push(answer({"script": "# T\n\n## One\n\nThe sea.\n"}), answer("not json"))
    status, failed = post(service, "/v1/write", body)
    assert status == 502, failed
    message = failed["error"]["message"]
    assert "wrote no usable script" in message and "not valid JSON" in message
    assert server.url not in message and "Traceback" not in message
    status, invalid = post(service, "/v1/write", {**body, "scenes": 0})
    assert status == 422 and invalid["error"]["field"] == "scenes"


def wait_until(page, expression: str, timeout: float = 30.0) -> None:
    """Poll a JS expression (page.wait_for_function evaluates a string, which the page's CSP
    refuses)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"still false after {timeout} s: {expression}"
        page.wait_for_timeout(100)


@pytest.mark.ray
@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.skipif(not __import__("shutil").which("chromium"), reason="no chromium on PATH: "
                    "install Debian's chromium package (make test does)")
def test_the_page_writes_a_script_into_the_script_box(server, service):
    import shutil

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=shutil.which("chromium"),
                                              headless=True)
        page = chromium.new_page()
        page.set_default_timeout(60_000)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"http://{service}/#/submit")
        page.click("#write-panel summary")
        page.fill("#topic", "tides of the north sea")
        page.fill("#write-scenes", "2")
        page.fill("#write-minutes", "0.5")
        page.select_option("#write-llm", "gemini")
        page.click("#write")
        page.wait_for_selector("#key-dialog[open]")
        page.fill("#key-input", KEY)
        page.click("#key-save")
        wait_until(page, "document.getElementById('script').value.startsWith('# ')")
        script = page.input_value("#script")
        assert script.startswith("# Tides Of The North Sea\n") and script.count("\n## ") == 2
        assert "Script written" in page.inner_text("#notice")
        assert not errors, errors
        chromium.close()
