"""``vidgen render --llm gemini`` end to end against the local Gemini server (the real SDK,
cards, espeak-ng, FFmpeg, Ray), and the job service analysing with the server's key."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from vidgen_ray.testing.fake_llm_server import FakeLLMServer

SCRIPT = """# The keeper

## Night

Rain lashed the lighthouse.

MARA: The lamp is out.

ELIAS: Then we climb.
"""


@pytest.fixture()
def server():
    with FakeLLMServer(api_key="render-key") as running:
        yield running


def _vidgen(*args, env):
    return subprocess.run([sys.executable, "-m", "vidgen_ray", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=600)


def _ffprobe(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_streams",
                          "-show_format", str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


@pytest.mark.ray
@pytest.mark.ffmpeg
@pytest.mark.slow
def test_render_with_gemini_makes_a_checked_video_from_the_models_storyboard(server, tmp_path):
    script = tmp_path / "keeper.md"
    script.write_text(SCRIPT, encoding="utf-8")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GEMINI_API_KEY": "render-key"}
    out = tmp_path / "out"
    cache = tmp_path / "llm-cache"
    done = _vidgen("render", script, "-o", out, "--fps", "12", "--llm", "gemini",
                   "--llm-base-url", server.url, "--llm-cache-dir", cache, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(server.requests) == 1
    info = _ffprobe(out / "video.mp4")
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
    assert (video["codec_name"], video["r_frame_rate"]) == ("h264", "12/1")
    assert (audio["codec_name"], audio["sample_rate"]) == ("aac", "48000")
    storyboard = json.loads((out / "storyboard.json").read_text())
    assert storyboard["scenes"][0]["description"].startswith("Wide shot, soft evening light")
    assert [c["gender"] for c in storyboard["characters"]] == ["female", "male"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert float(info["format"]["duration"]) == pytest.approx(
        manifest["video"]["frames"] / 12, abs=0.1)
    assert manifest["settings"]["llm"] == "gemini"
    assert "render-key" not in (out / "manifest.json").read_text()
    # The model asked for a generated clip where rain falls; no video model: a camera move,
    # said in the manifest and by the command.
    assert storyboard["scenes"][0]["motion"] == "clip"
    note = ("scene 1 asks for a generated motion clip; no video model is set yet, so it "
            "gets a camera move")
    assert manifest["notes"] == [note] and note in " ".join(done.stderr.split())
    # The same script again: analysed from the cache, no request.
    again = _vidgen("analyze", script, "--llm", "gemini", "--llm-base-url", server.url,
                    "--llm-cache-dir", cache, env=env)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == storyboard and len(server.requests) == 1


def test_render_with_gemini_and_no_key_says_how_to_get_one(tmp_path):
    script = tmp_path / "keeper.md"
    script.write_text(SCRIPT, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("GEMINI_API_KEY", "GOOGLE_API_KEY")}
    done = _vidgen("render", script, "-o", tmp_path / "out", "--llm", "gemini", env=env)
    assert done.returncode == 1
    assert "needs an API key" in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr


def test_the_service_analyses_with_its_own_key_and_settings(server, tmp_path, monkeypatch):
    from vidgen_ray.service.requests import AnalyzeRequest, JobRequest, Limits, analyze, prepare

    monkeypatch.setenv("GEMINI_API_KEY", "render-key")
    monkeypatch.setenv("VIDGEN_LLM_BASE_URL", server.url)  # the operator's, never a job's
    monkeypatch.setenv("VIDGEN_LLM_CACHE_DIR", str(tmp_path))
    request = JobRequest(script=SCRIPT, filename="keeper.md",
                         settings={"llm": "gemini", "llm_temperature": 0.2})
    job = prepare(request, Limits())
    assert job.storyboard.character("ELIAS").age == "old"
    assert job.sent["llm"] == "gemini" and len(server.requests) == 1
    assert server.requests[0].body["generationConfig"]["temperature"] == 0.2
    # The web page's Analyze: the same analyser the job would use, not the local parser.
    board = analyze(AnalyzeRequest(script=SCRIPT, filename="keeper.md",
                                   settings={"llm": "gemini"}), Limits())
    assert board.character("ELIAS").age == "old" and len(server.requests) == 2
    for server_only in ("llm_base_url", "llm_requests_per_minute", "llm_cache_dir"):
        with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
            JobRequest(script=SCRIPT, settings={server_only: "http://elsewhere"})


def test_render_analyze_and_plan_list_the_llm_options():
    env = {**os.environ, "COLUMNS": "200"}
    for command in ("render", "analyze", "plan"):
        text = _vidgen(command, "--help", env=env).stdout
        for option in ("--llm ", "--llm-model", "--llm-base-url", "--llm-temperature",
                       "--llm-max-tokens", "--llm-requests-per-minute", "--llm-timeout",
                       "--llm-retries", "--llm-rewrite", "--rewrite", "--llm-cache-dir"):
            assert option in text, (command, option)


def test_analyze_with_a_local_openai_compatible_server(server, tmp_path):
    script = tmp_path / "keeper.md"
    script.write_text(SCRIPT, encoding="utf-8")
    done = _vidgen("analyze", script, "--llm", "openai", "--llm-base-url", server.url + "/v1",
                   "--llm-model", "llama3.1:8b", "--llm-cache-dir", tmp_path / "cache",
                   env={**os.environ, "OPENAI_API_KEY": ""})
    assert done.returncode == 0, done.stderr
    board = json.loads(done.stdout)
    assert [c["age"] for c in board["characters"]] == ["adult", "old"]
    assert server.requests[0].body["model"] == "llama3.1:8b"
    assert "Authorization" not in server.requests[0].headers  # no key: none sent


def test_analyze_with_openai_and_no_server_names_the_flag(tmp_path):
    script = tmp_path / "keeper.md"
    script.write_text(SCRIPT, encoding="utf-8")
    done = _vidgen("analyze", script, "--llm", "openai", "--llm-model", "m", env=os.environ)
    assert done.returncode == 2
    assert "needs the server's address: --llm-base-url" in " ".join(done.stderr.split())


def test_the_service_answers_model_failures_in_its_callers_terms():
    import asyncio

    from vidgen_ray.errors import AnalysisKeyError, AnalysisQuotaError
    from vidgen_ray.service import http_errors as api_errors

    quota = asyncio.run(api_errors.vidgen_error(None, AnalysisQuotaError("the quota is exhausted")))
    assert quota.status_code == 429 and quota.headers["Retry-After"] == "60"
    key = asyncio.run(api_errors.vidgen_error(None, AnalysisKeyError("set GEMINI_API_KEY")))
    message = json.loads(key.body)["error"]["message"]
    assert key.status_code == 422 and json.loads(key.body)["error"]["field"] == "settings.llm"
    assert message.startswith("this service's language-model key is missing or refused")
    assert "GEMINI_API_KEY" not in message  # the operator's variable: in the log only
