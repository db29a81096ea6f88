"""The job service on a local Ray: the Serve app on a free loopback port, real HTTP calls.

Pictures come from a slow fake backend that logs every picture it makes to a file (so a test
can count work done twice); speech (espeak-ng), FFmpeg, Ray and Serve are real."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import time
from functools import partial
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from vidgen_ray.storyboard import Line, Scene, Storyboard
from vidgen_ray.testing.fake_backends import SlowImageBackend
from vidgen_ray.testing.service import job_service

pytestmark = [pytest.mark.ray, pytest.mark.ffmpeg, pytest.mark.slow]

ALICE, BOB, OPS = "alice-key-0123456789", "bob-key-0123456789ab", "ops-key-0123456789abc"
SCRIPT = "# Harbour\n\nThe boats come home.\n\n# Night\n\nThe lamps go out."
SETTINGS = {"fps": 12, "chunk_seconds": 2.0}
MAX_SCRIPT, MAX_SCENES, MAX_MEDIA = 4096, 8, 200_000



@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """(base URL, home folder, picture log): one Ray, one Serve app, one Farm with a job home."""
    root = tmp_path_factory.mktemp("service")
    home, log = root / "home", root / "pictures.log"
    env = dict(
        VIDGEN_API_KEYS=f"alice:{ALICE},bob:{BOB},ops:{OPS}:admin", VIDGEN_STORAGE=str(home),
        VIDGEN_MAX_RUNNING_JOBS="1", VIDGEN_MAX_QUEUED_JOBS="2", VIDGEN_RETRY_AFTER="7",
        VIDGEN_MAX_SCRIPT_BYTES=str(MAX_SCRIPT), VIDGEN_MAX_SCENES=str(MAX_SCENES),
        VIDGEN_PAGE_SIZE="2", VIDGEN_MAX_MEDIA_BYTES=str(MAX_MEDIA),
        # One picture at a time (0.3 s each): the kill test stops the farm between two.
        VIDGEN_IMAGE_WORKERS="1", VIDGEN_IMAGE_BATCH_SIZE="1", VIDGEN_MAX_IN_FLIGHT="1")
    factories = {"image": partial(SlowImageBackend, latency_s=0.3, log_path=str(log))}
    with job_service(env, factories) as address:
        yield address, home, log


def call(service, method: str, path: str, body=None, key: str | None = ALICE,
         raw: bytes | None = None):
    """(status, headers, parsed JSON or bytes) of one real HTTP request."""
    conn = http.client.HTTPConnection(service[0], timeout=60)
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    conn.request(method, path, body=data, headers=headers)
    answer = conn.getresponse()
    content = answer.read()
    conn.close()
    if answer.getheader("Content-Type", "").startswith("application/json"):
        content = json.loads(content)
    return answer.status, answer.headers, content  # case-insensitive names


def submit(service, key=ALICE, **fields):
    body = {"script": SCRIPT, "settings": SETTINGS, **fields}
    status, headers, job = call(service, "POST", "/v1/jobs", body, key)
    assert status in (200, 202), job
    return job


def wait(service, job_id: str, final=("done", "failed", "cancelled"), key=ALICE,
         timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, _, job = call(service, "GET", f"/v1/jobs/{job_id}", key=key)
        if status == 200 and job["status"] in final:
            return job
        assert status in (200, 503), job  # 503: the farm is restarting
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} did not reach {final}: {job}")


def cancel_all(service) -> None:
    _, _, page = call(service, "GET", "/v1/jobs?limit=1000", key=OPS)
    for job in page["jobs"]:
        if job["status"] in ("queued", "running"):
            call(service, "DELETE", f"/v1/jobs/{job['id']}", key=OPS)


def error_of(content) -> dict:
    assert set(content) == {"error"} and {"type", "message"} <= set(content["error"]), content
    return content["error"]


def test_submit_poll_download_and_check_the_video(service, tmp_path):
    status, headers, job = call(service, "POST", "/v1/jobs",
                                {"script": SCRIPT, "settings": SETTINGS})
    assert status == 202 and headers["Location"].endswith(f"/v1/jobs/{job['id']}"), job
    assert job["status"] in ("queued", "running") and job["owner"] == "alice"
    done = wait(service, job["id"])
    assert done["status"] == "done", done["error"]
    assert done["scenes"] == ["done", "done"] and done["timings"]["video"] > 0
    assert done["progress"]["images"] == {"done": 2, "total": 2}
    assert set(done["links"]) == {"video", "subtitles.srt", "subtitles.vtt", "storyboard",
                                  "manifest"}
    status, headers, video = call(service, "GET", f"/v1/jobs/{job['id']}/video")
    assert status == 200 and headers["Content-Type"] == "video/mp4"
    path = tmp_path / "video.mp4"
    path.write_bytes(video)
    probe = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
        capture_output=True, text=True, check=True).stdout)
    kinds = {s["codec_type"]: s for s in probe["streams"]}
    assert kinds["video"]["codec_name"] == "h264" and kinds["video"]["height"] == 720
    assert kinds["audio"]["codec_name"] == "aac" and float(probe["format"]["duration"]) > 1
    _, _, srt = call(service, "GET", f"/v1/jobs/{job['id']}/subtitles.srt")
    _, headers, vtt = call(service, "GET", f"/v1/jobs/{job['id']}/subtitles.vtt")
    assert b"The boats come home." in srt and vtt.startswith(b"WEBVTT")
    _, _, board = call(service, "GET", f"/v1/jobs/{job['id']}/storyboard")
    _, _, manifest = call(service, "GET", f"/v1/jobs/{job['id']}/manifest")
    assert [s["title"] for s in board["scenes"]] == ["Harbour", "Night"]
    assert manifest["job"] == job["id"]
    assert call(service, "GET", "/healthz", key=None)[0] == 200
    status, _, ready = call(service, "GET", "/readyz", key=None)
    assert status == 200 and ready["workers"]
    _, headers, metrics = call(service, "GET", "/metrics", key=None)
    samples = {(s.name, tuple(s.labels.items())): s.value
               for family in text_string_to_metric_families(metrics.decode())
               for s in family.samples}
    assert ("vidgen_jobs", (("state", "done"),)) in samples
    assert samples[("vidgen_queue_depth", ())] == 0
    assert ("vidgen_scene_seconds_count", ()) in samples
    assert ("vidgen_workers", (("pool", "image:cards"),)) in samples


def test_openapi_lists_every_route_with_error_answers(service):
    status, _, doc = call(service, "GET", "/openapi.json", key=None)
    assert status == 200
    paths = doc["paths"]
    assert {"/v1/jobs", "/v1/jobs/{job_id}", "/v1/jobs/{job_id}/retry",
            "/v1/jobs/{job_id}/{output}", "/healthz", "/readyz", "/metrics"} <= set(paths)
    post = paths["/v1/jobs"]["post"]
    assert {"202", "413", "422", "429", "401"} <= set(post["responses"])
    assert post["summary"] and "fps" in doc["components"]["schemas"]["JobSettings"]["properties"]
    assert "HTTPBearer" in doc["components"]["securitySchemes"]


def test_same_idempotency_key_returns_the_same_job(service):
    first = submit(service, idempotency_key="nightly-42")
    status, _, again = call(service, "POST", "/v1/jobs", {"script": SCRIPT, "settings": SETTINGS,
                                                           "idempotency_key": "nightly-42"})
    assert status == 200 and again["id"] == first["id"]
    bobs = submit(service, key=BOB, idempotency_key="nightly-42")  # keys are per caller
    assert bobs["id"] != first["id"]
    cancel_all(service)


def test_auth_401_without_a_key_403_for_another_callers_job(service):
    status, headers, body = call(service, "GET", "/v1/jobs", key=None)
    assert status == 401 and error_of(body)["type"] == "AuthError"
    assert headers["WWW-Authenticate"] == "Bearer"
    status, _, body = call(service, "GET", "/v1/jobs", key="not-a-key-0123456789")
    assert status == 401 and "not known" in error_of(body)["message"]
    job = submit(service, key=ALICE)
    for method, path in (("GET", ""), ("GET", "/video"), ("DELETE", ""), ("POST", "/retry")):
        status, _, body = call(service, method, f"/v1/jobs/{job['id']}{path}", key=BOB)
        assert status == 403 and error_of(body)["type"] == "ForbiddenError", (method, path)
    _, _, bobs = call(service, "GET", "/v1/jobs?limit=1000", key=BOB)
    assert job["id"] not in [j["id"] for j in bobs["jobs"]]
    status, _, seen = call(service, "GET", f"/v1/jobs/{job['id']}", key=OPS)  # admin
    assert status == 200 and seen["owner"] == "alice"
    cancel_all(service)


def test_limits_answer_clear_4xx_naming_the_field(service):
    cases = [
        ({"script": "x" * (MAX_SCRIPT + 1)}, 413, "script"),
        ({"storyboard": Storyboard(scenes=[Scene(lines=[Line(text="Hi.")])] * (MAX_SCENES + 1)
                                   ).model_dump()}, 413, "scenes"),
        ({"script": SCRIPT, "settings": {"fps": 5}}, 422, "settings.fps"),
        ({"script": SCRIPT, "settings": {"resolution": "8k"}}, 422, "settings.resolution"),
        ({"script": SCRIPT, "settings": {"image_workers": 64}}, 422, "settings.image_workers"),
        ({"script": SCRIPT, "priority": 1000}, 422, "priority"),
        ({"script": SCRIPT, "storyboard": {"scenes": []}}, 422, None),
        ({"script": "   "}, 400, None),
    ]
    for body, code, field in cases:
        status, _, answer = call(service, "POST", "/v1/jobs", body)
        assert status == code, (body.keys(), answer)
        assert error_of(answer)["field"] == field, answer
    huge = json.dumps({"script": "x" * (2 * MAX_SCRIPT + 4 * MAX_MEDIA // 3 + 1024 * 1024)}
                      ).encode()
    status, _, answer = call(service, "POST", "/v1/jobs", raw=huge)
    assert status == 413 and error_of(answer)["field"] == "body"
    status, _, answer = call(service, "POST", "/v1/jobs", raw=b"{not json")
    assert status == 422 and error_of(answer)["type"] == "ValidationError"
    _, _, page = call(service, "GET", "/v1/jobs?limit=1000", key=OPS)
    assert all(j["status"] != "queued" for j in page["jobs"])  # nothing refused was queued


def test_own_media_are_uploaded_with_the_job_and_no_server_path_is_read(service, tmp_path):
    import base64
    import io

    from PIL import Image

    picture = io.BytesIO()
    Image.new("RGB", (64, 48), (220, 30, 30)).save(picture, format="PNG")
    script = "# Harbour\n\n![the quay](quay.png)\n\nThe boats come home."
    # A path on the server (this file exists there) is refused, uploaded or not.
    server_file = tmp_path / "quay.png"
    server_file.write_bytes(picture.getvalue())
    for body in ({"script": script.replace("quay.png", str(server_file))},
                 {"script": script, "media": {"other.png": ""}},
                 {"script": SCRIPT, "settings": {**SETTINGS, "music": str(server_file)}}):
        status, _, answer = call(service, "POST", "/v1/jobs", {"settings": SETTINGS, **body})
        assert status == 422 and "not a file uploaded" in error_of(answer)["message"], answer
    too_much = base64.b64encode(b"x" * (MAX_MEDIA + 1000)).decode()
    status, _, answer = call(service, "POST", "/v1/jobs",
                             {"script": script, "media": {"quay.png": too_much}})
    assert status == 413, answer
    # The CLI's client finds the picture beside the script and uploads it under its name.
    from vidgen_ray.service.client import ServiceClient

    folder = tmp_path / "film"
    (folder / "pictures").mkdir(parents=True)
    (folder / "pictures" / "quay.png").write_bytes(picture.getvalue())
    (folder / "film.md").write_text(script.replace("quay.png", "pictures/quay.png"),
                                    encoding="utf-8")
    client = ServiceClient(f"http://{service[0]}", ALICE)
    job = client.submit(folder / "film.md", SETTINGS)
    done = wait(service, job["id"])
    assert done["status"] == "done", done["error"]
    _, _, video = call(service, "GET", f"/v1/jobs/{job['id']}/video")
    (tmp_path / "video.mp4").write_bytes(video)
    frame = subprocess.run(["ffmpeg", "-v", "error", "-ss", "0.8", "-i",
                            str(tmp_path / "video.mp4"), "-frames:v", "1", "-s", "16x9",
                            "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                           capture_output=True, check=True).stdout
    reds, greens = frame[0::3], frame[1::3]
    assert sum(reds) / len(reds) > 180 and sum(greens) / len(greens) < 80  # the upload
    # Its storyboard and manifest name the upload without the service's folder, and the
    # storyboard's relative path leads to it from the job's own outputs folder.
    root = str(service[1].resolve())
    for name in ("storyboard", "manifest"):
        _, _, text = call(service, "GET", f"/v1/jobs/{job['id']}/{name}")
        assert root not in json.dumps(text), name
    _, _, board = call(service, "GET", f"/v1/jobs/{job['id']}/storyboard")
    shown = board["scenes"][0]["media"]["path"]
    assert not shown.startswith("/")
    assert (service[1] / "outputs" / job["id"] / shown).read_bytes() == picture.getvalue()


def test_a_saturated_farm_answers_429_with_retry_after(service):
    home = service[1]
    accepted = [submit(service) for _ in range(3)]  # 1 running + 2 queued fill the farm
    files = sorted(home.glob("requests/*")) + sorted(home.glob("outputs/*"))
    status, headers, body = call(service, "POST", "/v1/jobs", {"script": SCRIPT})
    assert status == 429 and headers["Retry-After"] == "7"
    assert error_of(body)["type"] == "FarmSaturated"
    assert sorted(home.glob("requests/*")) + sorted(home.glob("outputs/*")) == files
    assert len({j["id"] for j in accepted}) == 3
    cancel_all(service)


def test_cancel_retry_list_and_filters(service):
    job = submit(service, key=BOB)
    status, _, cancelled = call(service, "DELETE", f"/v1/jobs/{job['id']}", key=BOB)
    assert status == 200 and cancelled["status"] == "cancelled"
    status, _, body = call(service, "GET", f"/v1/jobs/{job['id']}/video", key=BOB)
    assert status == 404 and "cancelled" in error_of(body)["message"]
    status, _, again = call(service, "POST", f"/v1/jobs/{job['id']}/retry", key=BOB)
    assert status == 202 and again["status"] in ("queued", "running")
    final = wait(service, job["id"], key=BOB)
    assert final["status"] == "done", final.get("error")
    status, _, body = call(service, "POST", f"/v1/jobs/{job['id']}/retry", key=BOB)
    assert status == 409 and error_of(body)["type"] == "IllegalTransition"
    _, _, done = call(service, "GET", "/v1/jobs?state=done", key=BOB)
    assert [j["id"] for j in done["jobs"]] == [job["id"]] and done["total"] == 1
    _, _, first = call(service, "GET", "/v1/jobs?state=cancelled", key=OPS)  # page size 2
    assert len(first["jobs"]) == 2 and first["next_offset"] == 2 and first["total"] > 2
    _, _, second = call(service, "GET", "/v1/jobs?state=cancelled&offset=2", key=OPS)
    assert not {j["id"] for j in first["jobs"]} & {j["id"] for j in second["jobs"]}
    status, _, body = call(service, "GET", "/v1/jobs?state=lost", key=OPS)
    assert status == 422 and error_of(body)["field"] == "state"


def test_unknown_ids_and_path_traversal_answer_404_and_touch_nothing(service):
    home = service[1]
    outside = home.parent / "secret.txt"
    outside.write_text("not for you")
    before = sorted(p.name for p in home.parent.iterdir())
    stamp = outside.stat().st_mtime_ns
    paths = ["/v1/jobs/job-000000000000", "/v1/jobs/job-000000000000/video",
             "/v1/jobs/..%2Fsecret.txt", "/v1/jobs/..%2F..%2Fsecret.txt/video",
             "/v1/jobs/%2e%2e/video", "/v1/jobs/../../secret.txt", "/v1/jobs/.%00./video",
             "/v1/jobs/job-000000000000/..%2F..%2F..%2Fsecret.txt",
             f"/v1/jobs/{'a' * 300}/video", "/v1/nothing"]
    for path in paths:
        for method in ("GET", "DELETE"):
            status, _, body = call(service, method, path)
            assert status in (404, 405), (method, path, body)
            assert b"not for you" not in json.dumps(body).encode()
            if status == 404:
                assert error_of(body)["type"] == "NotFoundError", (path, body)
    assert sorted(p.name for p in home.parent.iterdir()) == before
    assert outside.stat().st_mtime_ns == stamp


def test_farm_killed_mid_job_resumes_without_redoing_finished_scenes(service):
    import ray

    from vidgen_ray.farm.connect import FARM_NAME, FARM_NAMESPACE

    _, home, log = service
    images = home / "parts" / "image"
    earlier = len(list(images.glob("*.png")))  # other tests' pictures
    board = Storyboard(scenes=[Scene(title=f"S{i}", lines=[Line(text=f"Line {i}.")])
                               for i in range(6)])
    status, _, job = call(service, "POST", "/v1/jobs", {
        "storyboard": board.model_dump(), "settings": {**SETTINGS, "seed": 77}})
    assert status == 202
    deadline = time.monotonic() + 60
    while len(list(images.glob("*.png"))) - earlier < 2:
        assert time.monotonic() < deadline, "no pictures made"
        time.sleep(0.05)
    farm = ray.get_actor(FARM_NAME, namespace=FARM_NAMESPACE)
    ray.kill(farm, no_restart=False)  # Ray restarts it (max_restarts=-1)
    time.sleep(2)  # the farm and the workers it owned are gone; it recovers on its first call
    stored = len(list(images.glob("*.png"))) - earlier
    logged = len(log.read_text().splitlines())
    assert 2 <= stored < 6, stored
    done = wait(service, job["id"])
    assert done["status"] == "done", done["error"]
    made_after = log.read_text().splitlines()[logged:]
    assert len(made_after) == 6 - stored  # only the missing pictures were made again
    assert len(list(images.glob("*.png"))) - earlier == 6
    scenes_after = [line.split()[0] for line in made_after]
    assert len(set(scenes_after)) == len(scenes_after)  # and none of them twice


def vidgen(*args, key=ALICE, url=None):
    """The CLI as a user runs it, with VIDGEN_URL and VIDGEN_API_KEY from the environment."""
    import sys

    env = {**os.environ, "VIDGEN_API_KEY": key, "COLUMNS": "160"}
    if url:
        env["VIDGEN_URL"] = url
    return subprocess.run([sys.executable, "-m", "vidgen_ray", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=180)


def test_cli_client_submits_waits_fetches_lists_and_cancels(service, tmp_path):
    url = f"http://{service[0]}"
    script = tmp_path / "harbour.md"
    script.write_text(SCRIPT)
    video = tmp_path / "out" / "harbour.mp4"
    done = vidgen("submit", script, "--url", url, "--fps", "12", "--wait", "-o", video)
    assert done.returncode == 0, done.stderr
    job_id = done.stdout.strip()
    assert "images" in done.stderr and "2/2" in done.stderr  # the progress bars
    assert subprocess.run(["ffmpeg", "-v", "error", "-xerror", "-i", str(video), "-f", "null",
                           "-"], capture_output=True, text=True).stderr == ""
    status = vidgen("status", job_id, "--json", url=url)
    assert status.returncode == 0 and json.loads(status.stdout)["status"] == "done"
    readable = vidgen("status", job_id, url=url).stdout  # text for people (cli_jobs.py)
    assert readable.startswith(f"job {job_id}: done\n") and "scenes    2/2 done" in readable
    again = vidgen("cancel", job_id, url=url)  # an ended job: nothing to cancel, exit 1
    assert again.returncode == 1 and again.stdout == ""
    assert "had already ended (done): nothing was cancelled" in " ".join(again.stderr.split())
    srt = tmp_path / "subs.srt"
    fetched = vidgen("fetch", job_id, "-o", srt, "--output", "subtitles.srt", url=url)
    assert fetched.returncode == 0 and "The lamps go out." in srt.read_text()
    queued = json.loads(vidgen("submit", script, "--url", url).stdout)
    cancelled = vidgen("cancel", queued["id"], "--json", url=url)
    assert json.loads(cancelled.stdout)["status"] == "cancelled"
    listing = vidgen("jobs", "--state", "cancelled", "--limit", "1000", url=url)
    assert listing.returncode == 0 and queued["id"] in listing.stdout
    refused = vidgen("status", job_id, key=BOB, url=url)
    assert refused.returncode == 1 and "another API key" in refused.stderr
    missing = vidgen("fetch", queued["id"], "-o", tmp_path / "x.mp4", url=url)
    assert missing.returncode == 1 and "cancelled" in missing.stderr
    assert not (tmp_path / "x.mp4").exists()


def test_serve_config_is_valid_and_names_the_app():
    import importlib.util

    import yaml
    from ray.serve import Application
    from ray.serve.schema import ServeDeploySchema

    root = Path(__file__).resolve().parents[2]
    config = ServeDeploySchema(**yaml.safe_load((root / "serve_config.yaml").read_text()))
    (application,) = config.applications
    module, _, name = application.import_path.partition(":")
    spec = importlib.util.spec_from_file_location(module, root / f"{module}.py")
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    assert isinstance(getattr(loaded, name), Application)
    assert config.http_options.host == "127.0.0.1"
    assert application.deployments[0].name == "vidgen"
