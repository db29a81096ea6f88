"""What would fail later is refused at submit (before the 202): unknown espeak-ng voices and
languages wherever a job names them, a backend whose packages are not installed, paths
that do not exist, and encoder nvenc where NVENC does not work. Through the running
service, and the CLI where it is cheap.

"Not installed" is real: the service's processes start with a sitecustomize that blocks the
import of diffusers (``sys.modules[name] = None``, Python's own way to make a module
unimportable), so find_spec finds nothing, as on a machine without the models extra."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from vidgen_ray.pipeline.encoders import nvenc_problem
from vidgen_ray.testing.http import request
from vidgen_ray.testing.service import job_service

pytestmark = [pytest.mark.ray, pytest.mark.ffmpeg]

ALICE, OPS = "alice-key-0123456789", "ops-key-0123456789abc"
SCRIPT = "# Harbour\n\nThe boats come home."
BLOCK = ("import os, sys\n"
         "for name in os.environ.get('HIDDEN_MODULES', '').split(','):\n"
         "    if name:\n"
         "        sys.modules[name] = None\n")


def hidden_env(folder, modules: str) -> dict[str, str]:
    (folder / "sitecustomize.py").write_text(BLOCK)
    path = os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")]))
    return {"PYTHONPATH": path, "HIDDEN_MODULES": modules}


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    root = tmp_path_factory.mktemp("checks")
    env = dict(VIDGEN_API_KEYS=f"alice:{ALICE},ops:{OPS}:admin",
               VIDGEN_STORAGE=str(root / "home"), VIDGEN_MAX_RUNNING_JOBS="1",
               **hidden_env(root, "diffusers"))
    with job_service(env) as address:
        yield address, root


def call(address, method, path, body=None, key=ALICE):
    status, _, content = request(address, method, path, body, key=key)
    return status, content


def board(language="en", voice=None, line_language=None) -> dict:
    return {"language": language,
            "characters": [{"name": "ANNA", **({"voice": voice} if voice else {})}],
            "scenes": [{"lines": [{"speaker": "ANNA", "text": "The boats come home.",
                                   **({"language": line_language} if line_language else {})}]}]}


REFUSED = [  # (body, key, field, words the message must hold)
    ({"script": SCRIPT, "settings": {"tts_voice": "en+nobody"}}, ALICE, "settings.tts_voice",
     "no variant 'nobody'"),
    ({"script": SCRIPT, "settings": {"tts_voice": "zz"}}, ALICE, "settings.tts_voice",
     "no language 'zz'"),
    ({"script": SCRIPT, "settings": {"voices": {"NARRATOR": "en+nobody"}}}, ALICE,
     "settings.voices.NARRATOR", "nobody"),
    ({"script": "<!-- language: zz -->\n\nThe boats come home."}, ALICE, "script",
     "no language 'zz'"),
    ({"storyboard": board(language="zz")}, ALICE, "storyboard.language", "'zz'"),
    ({"storyboard": board(voice="en+nobody")}, ALICE, "storyboard.characters.0.voice",
     "nobody"),
    ({"storyboard": board(line_language="qq")}, ALICE,
     "storyboard.scenes.0.lines.0.language", "'qq'"),
    ({"script": SCRIPT, "settings": {"image_model": "sdxl"}}, ALICE, "settings.image_model",
     "not installed"),
    ({"script": SCRIPT, "settings": {"burn_subtitles": True,
                                     "subtitle_fonts_dir": "/nonexistent/fonts"}}, OPS,
     "settings.subtitle_fonts_dir", "not a folder"),
    ({"script": SCRIPT, "settings": {"tts_model": "bark", "bark_model": "/nonexistent/bark"}},
     OPS, "settings.bark_model", "does not exist"),
]
if nvenc_problem() is not None:  # this machine has no working NVENC (nor has an H100)
    REFUSED.append(({"script": SCRIPT, "settings": {"encoder": "nvenc"}}, ALICE,
                    "settings.encoder", "cannot encode this job's chunks with NVENC"))


@pytest.mark.parametrize("body, key, field, words", REFUSED)
def test_what_cannot_run_is_refused_before_the_202(service, body, key, field, words):
    status, answer = call(service[0], "POST", "/v1/jobs", body, key=key)
    assert status == 422, answer
    error = answer["error"]
    assert error["field"] == field and words in error["message"], error
    assert "pip install" not in error["message"]  # the operator's fix goes to the log
    _, page = call(service[0], "GET", "/v1/jobs", key=OPS)
    assert page["total"] == 0


def test_known_voices_and_languages_are_accepted(service):
    body = {"storyboard": board(language="fr", voice="fr+f2", line_language="de"),
            "settings": {"tts_voice": "en+m3", "cast": {"NARRATOR": "en+m1"}, "fps": 12}}
    status, job = call(service[0], "POST", "/v1/jobs", body)
    assert status == 202, job
    assert call(service[0], "DELETE", f"/v1/jobs/{job['id']}")[0] == 200


def vidgen(*args, env=None):
    return subprocess.run([sys.executable, "-m", "vidgen_ray", *map(str, args)],
                          capture_output=True, text=True, env={**os.environ, **(env or {})},
                          timeout=180)


def test_the_cli_is_told_at_once(service, tmp_path):
    script = tmp_path / "harbour.md"
    script.write_text(SCRIPT)
    url = f"http://{service[0]}"
    refused = vidgen("submit", script, "--url", url, "--voice", "en+nobody",
                     env={"VIDGEN_API_KEY": ALICE})
    assert refused.returncode == 1 and "nobody" in refused.stderr, refused.stderr
    # A local render without the models extra: the install hint, before Ray starts.
    local = vidgen("render", script, "--images", "sdxl", "-o", tmp_path / "out",
                   env={**hidden_env(tmp_path, "diffusers"), "COLUMNS": "300"})
    assert local.returncode == 1, local.stderr
    assert "diffusers" in local.stderr and "pip install 'vidgen-ray[models]'" in local.stderr
    assert not (tmp_path / "out").exists()
