"""What a client reads about a failed job: a message meant for it, never the server's.

Jobs fail in each stage through the real job service (Ray, Serve, FFmpeg, a Farm with a job home):
a picture model that crashes with a plain Python error naming a temporary file, a speech
model that does the same, a picture FFmpeg cannot read (its stderr names temporary files), and
a finished video that cannot be put in place (an OSError naming the storage root). Every
response about those jobs (the job, the list, its scenes and files, the error answers) must
name the stage and the scene that failed, and hold neither the storage root, nor the
temporary folder, nor a traceback, nor a Python exception's name. The message scrubber
itself is tested first, as a pure function."""

from __future__ import annotations

import builtins
import http.client
import json
import re
import tempfile
import time
from functools import partial

import pytest

from vidgen_ray.errors import RenderError, ToolError, client_message, scrub
from vidgen_ray.storyboard import Line, Scene, Storyboard
from vidgen_ray.testing.fake_backends import (
    CRASH,
    SMUDGE,
    STAMMER,
    FlakyImageBackend,
    FlakySpeechBackend,
)
from vidgen_ray.testing.service import job_service

KEY = "alice-key-0123456789"
SETTINGS = {"fps": 12, "chunk_seconds": 2.0, "x264_preset": "ultrafast"}
# Python's own exception names and the foreign ones a render meets.
EXCEPTION_NAMES = sorted(
    {name for name, value in vars(builtins).items()
     if isinstance(value, type) and issubclass(value, BaseException)}
    | {"CalledProcessError", "TimeoutExpired", "RayTaskError", "RayActorError",
       "ActorDiedError", "JSONDecodeError", "ValidationError", "UnpicklingError"})
LEAKS = re.compile(r"\b(?:" + "|".join(EXCEPTION_NAMES) + r")\b|Traceback")


# ---- the scrubber, pure ----------------------------------------------------------------------

def test_client_message_drops_program_output_tracebacks_class_names_and_private_folders():
    tool = ToolError("ffmpeg", ["-i", "/tmp/x/0.png"], 1, "/tmp/x/0.png: Invalid data\n")
    assert client_message(tool) == "ffmpeg failed (exit 1)"
    assert "Invalid data" in str(tool)  # the operator's message keeps it
    assert client_message(ToolError("ffmpeg", [], -1, "timed out")) == \
        "ffmpeg did not finish in time"
    foreign = RenderError("ModuleNotFoundError: No module named 'transformers'\nTraceback "
                          "(most recent call last):\n  File \"/srv/x.py\"")
    assert client_message(foreign) == "No module named 'transformers'"
    assert client_message(KeyError("scene")) == "'scene'"
    assert scrub("RayTaskError(ValueError): bad weights") == "bad weights"
    private = ["/srv/vidgen", "/tmp"]
    assert scrub("no video in /srv/vidgen/outputs/job-1/video.mp4 nor /srv/vidgen, see "
                 "/tmp/vidgen-mix-1/", private) == "no video in video.mp4 nor a server " \
        "folder, see vidgen-mix-1"
    assert scrub("/srv/vidgenother and /v1/jobs/x stay", private) == \
        "/srv/vidgenother and /v1/jobs/x stay"
    assert client_message(RenderError("")) == "an unexpected error stopped the job"


def test_a_rendering_error_keeps_a_public_message_across_processes():
    import pickle

    error = RenderError("ffmpeg failed: /tmp/x", stage="video", scene=2, public="ffmpeg failed")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.stage, copy.scene, copy.public, copy.message) == \
        ("video", 2, "ffmpeg failed", "ffmpeg failed: /tmp/x")


# ---- through the service ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """(host:port, home folder): one job at a time, pictures one by one."""
    home = tmp_path_factory.mktemp("hygiene") / "home"
    env = dict(VIDGEN_API_KEYS=f"alice:{KEY}", VIDGEN_STORAGE=str(home),
               VIDGEN_MAX_RUNNING_JOBS="1", VIDGEN_MAX_QUEUED_JOBS="8",
               VIDGEN_IMAGE_WORKERS="1", VIDGEN_IMAGE_BATCH_SIZE="1", VIDGEN_MAX_IN_FLIGHT="1")
    factories = {"image": partial(FlakyImageBackend, latency_s=0.3),
                 "speech": partial(FlakySpeechBackend, latency_s=0.0)}
    with job_service(env, factories) as address:
        yield address, home


def call(service, method: str, path: str, body=None):
    """(status, body text, parsed JSON or None) of one real HTTP request; the text of a
    body that is not JSON (a picture, a sound) is empty."""
    conn = http.client.HTTPConnection(service[0], timeout=60)
    conn.request(method, path, body=None if body is None else json.dumps(body).encode(),
                 headers={"Content-Type": "application/json", "Authorization": f"Bearer {KEY}"})
    answer = conn.getresponse()
    raw = answer.read()
    conn.close()
    if not answer.getheader("Content-Type", "").startswith("application/json"):
        return answer.status, "", None
    text = raw.decode("utf-8")
    return answer.status, text, json.loads(text)


def board(*titles: str, line: str = "The tide turns.") -> dict:
    return Storyboard(title="hygiene", scenes=[
        Scene(title=title, lines=[Line(text=f"{line} Part {i + 1}.")])
        for i, title in enumerate(titles)]).model_dump()


def wait(service, job_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, _, job = call(service, "GET", f"/v1/jobs/{job_id}")
        assert status == 200, job
        if job["status"] in ("done", "failed", "cancelled"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish: {job}")


@pytest.fixture(scope="module")
def failed(service):
    """stage -> the failed job's final view. The finishing job's video.mp4 is made a folder
    before it runs (it waits behind the first job), so putting the video in place fails."""
    storyboards = {
        "video": board("Harbour", f"{SMUDGE} on the lens", "Night"),
        "mux": board("Harbour", "Night"),
        "images": board("Harbour", f"The {CRASH}", "Night"),
        "speech": board("Harbour", "Night", "Dawn", line=f"They {STAMMER} here."),
    }
    ids = {}
    for stage, storyboard in storyboards.items():
        status, _, job = call(service, "POST", "/v1/jobs",
                              {"storyboard": storyboard, "settings": SETTINGS})
        assert status == 202, job
        ids[stage] = job["id"]
        if stage == "mux":
            blocker = service[1] / "outputs" / job["id"] / "video.mp4"
            blocker.mkdir(parents=True)
            (blocker / "keep").write_text("a folder where the video goes", encoding="utf-8")
    return {stage: wait(service, job_id) for stage, job_id in ids.items()}


@pytest.mark.ray
@pytest.mark.ffmpeg
@pytest.mark.slow
def test_each_failure_names_its_stage_and_the_scene_whose_part_failed(failed):
    expected = {"images": (1, "pictures: scene 2: "), "speech": (0, "speech: scene 1: "),
                "video": (1, "video: scene 2 (frames"), "mux": (None, "finishing: ")}
    for stage, (scene, words) in expected.items():
        job = failed[stage]
        assert job["status"] == "failed" and job["error"].startswith(words), (stage, job)
        assert job["failed_scene"] == scene, (stage, job)
        word = words.split(":")[0]  # the failed stage's own error; the stages it stopped
        assert job["stage_errors"][word] == job["error"], (stage, job["stage_errors"])
        where = f" at scene {scene + 1}" if scene is not None else ""
        assert all(note == f"stopped: {word} failed{where}" for name, note in
                   job["stage_errors"].items() if name != word), (stage, job["stage_errors"])
        others = [s for i, s in enumerate(job["scenes"]) if i != scene]
        if scene is not None:
            assert job["scenes"][scene] == "failed", (stage, job["scenes"])
        # The rest were stopped by the failure (or were done): none says "cancelled".
        assert set(others) <= {"stopped", "done"}, (stage, job["scenes"])
    assert "ffmpeg failed" in failed["video"]["error"]
    assert "unexpected error" in failed["mux"]["error"]


@pytest.mark.ray
@pytest.mark.ffmpeg
@pytest.mark.slow
def test_no_response_about_a_failed_job_shows_server_paths_or_python_internals(service,
                                                                              failed):
    home, temp = str(service[1]), tempfile.gettempdir()
    paths = ["/v1/jobs", "/v1/jobs?state=failed", "/v1/farm"]
    for job in failed.values():
        url = f"/v1/jobs/{job['id']}"
        paths += [url, f"{url}/scenes", f"{url}/files", f"{url}/video", f"{url}/manifest",
                  f"{url}/files/video.mp4", f"{url}/scenes/1/picture",
                  f"{url}/scenes/0/speech/0", f"{url}/scenes/9/picture"]
    answers = [(path, *call(service, "GET", path)[:2]) for path in paths]
    answers += [(f"DELETE {job['id']}", *call(service, "DELETE", f"/v1/jobs/{job['id']}")[:2])
                for job in failed.values()]
    assert {status for _, status, _ in answers} <= {200, 404, 409}, answers
    for what, _, text in answers:
        assert home not in text and temp not in text, (what, text[:400])
        assert not LEAKS.search(text), (what, LEAKS.search(text).group(0), text[:400])
