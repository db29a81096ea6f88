"""Work limits per job, counted while the script is read (the rest of a script past a limit
is never analysed), per-key quotas of unfinished jobs and the priority cap of non-admin keys,
in the analyser and through the running service."""

from __future__ import annotations

from functools import partial

import pytest

from vidgen_ray.analysis import Budget, analyze_script
from vidgen_ray.analysis.budget import WORDS_PER_MINUTE, charge_storyboard
from vidgen_ray.errors import TooLargeError
from vidgen_ray.storyboard import Line, Scene, Storyboard
from vidgen_ray.testing.fake_backends import SlowImageBackend
from vidgen_ray.testing.http import request
from vidgen_ray.testing.service import job_service

ALICE, BOB, OPS = "alice-key-0123456789", "bob-key-0123456789ab", "ops-key-0123456789abc"
# Minutes are tested in the analyser: through the service the words limit comes first.
MAX_SCENES, MAX_LINES, MAX_WORDS, MAX_MINUTES = 10, 20, 400, 10.0


def markdown(scenes: int, words: int = 3) -> str:
    return "\n\n".join(f"# Scene {i}\n\n" + " ".join(["word"] * (words - 1)) + " end."
                       for i in range(scenes))


def three_lines_each(scenes: int) -> str:
    return "\n\n".join(f"# Scene {i}\n\nOne.\n\nTwo.\n\nThree." for i in range(scenes))


def fountain(scenes: int) -> str:
    return "\n\n".join(f"INT. ROOM {i} - DAY\n\nANNA\nLine {i} is spoken."
                       for i in range(scenes))


@pytest.mark.parametrize("text, budget, limit, stopped_in", [
    (markdown(5000), Budget(max_scenes=10), "max_scenes", 11),
    (fountain(5000), Budget(max_lines=25), "max_lines", 26),
    (markdown(5000, words=10), Budget(max_words=95), "max_words", 10),
    (markdown(5000, words=15), Budget(max_minutes=1.0), "max_minutes", 11),
])
def test_a_script_past_a_limit_stops_there_without_reading_the_rest(text, budget, limit,
                                                                     stopped_in):
    with pytest.raises(TooLargeError) as info:
        analyze_script(text, budget=budget)
    error = info.value
    assert error.limit == limit and error.http_status == 413 and error.field in ("script",
                                                                                "scenes")
    # The count where it stopped: one past the limit, of 5000 scenes in the script.
    assert error.scenes == budget.scenes == stopped_in
    assert "split it into several jobs" in error.message
    assert budget.minutes == budget.words / WORDS_PER_MINUTE


def test_a_script_within_its_budget_is_read_whole_and_counted():
    budget = Budget(max_scenes=10, max_lines=10, max_words=100, max_minutes=1.0)
    board = analyze_script(markdown(10, words=4), budget=budget)
    assert len(board.scenes) == budget.scenes == 10 and budget.lines == 10
    assert budget.words == 40


def test_a_storyboard_is_counted_scene_by_scene():
    board = Storyboard(scenes=[Scene(lines=[Line(text="One two three.")] * 2)] * 100)
    budget = Budget(max_lines=7, source="storyboard")
    with pytest.raises(TooLargeError) as info:
        charge_storyboard(board, budget)
    assert (info.value.field, info.value.limit, budget.scenes) == ("storyboard", "max_lines", 4)


# ---- through the running service -------------------------------------------------------------

@pytest.fixture(scope="module")
def service(tmp_path_factory):
    home = tmp_path_factory.mktemp("limits") / "home"
    env = dict(VIDGEN_API_KEYS=f"alice:{ALICE},bob:{BOB},ops:{OPS}:admin",
               VIDGEN_STORAGE=str(home), VIDGEN_MAX_RUNNING_JOBS="1",
               VIDGEN_MAX_QUEUED_JOBS="20", VIDGEN_RETRY_AFTER="9",
               VIDGEN_MAX_SCENES=str(MAX_SCENES), VIDGEN_MAX_LINES=str(MAX_LINES),
               VIDGEN_MAX_WORDS=str(MAX_WORDS), VIDGEN_MAX_MINUTES=str(MAX_MINUTES),
               VIDGEN_MAX_QUEUED_PER_KEY="2", VIDGEN_MAX_TENANT_PRIORITY="5",
               VIDGEN_IMAGE_WORKERS="1")
    # Pictures take a minute each: jobs stay queued or running until cancelled.
    factories = {"image": partial(SlowImageBackend, latency_s=60.0)}
    with job_service(env, factories) as address:
        yield address


def call(address, method, path, body=None, key=ALICE):
    return request(address, method, path, body, key=key)


def cancel_all(address) -> None:
    _, _, page = call(address, "GET", "/v1/jobs?limit=1000", key=OPS)
    for job in page["jobs"]:
        if job["status"] in ("queued", "running"):
            call(address, "DELETE", f"/v1/jobs/{job['id']}", key=OPS)


@pytest.mark.ray
@pytest.mark.ffmpeg
def test_scripts_and_storyboards_past_a_limit_answer_413_where_reading_stopped(service):
    cases = [  # (body, field, the limit, where the reading stopped), of 5000 scenes
        ({"script": three_lines_each(5000)}, "script", "20 spoken lines", "in scene 7)"),
        ({"script": markdown(2000, words=50)}, "script", "400 spoken words", "in scene 9)"),
        ({"storyboard": Storyboard(scenes=[Scene(lines=[Line(text="Hi.")])] * 5000
                                   ).model_dump()}, "scenes", "10 scenes",
         f"in scene {MAX_SCENES + 1})"),
        ({"storyboard": Storyboard(scenes=[Scene(lines=[Line(text="Hi.")] * 3)] * 5000
                                   ).model_dump()}, "storyboard", "20 spoken lines",
         "in scene 7)"),
    ]
    for body, field, limit, where in cases:
        status, _, answer = call(service, "POST", "/v1/jobs", body)
        assert status == 413, answer
        message = answer["error"]["message"]
        assert answer["error"]["field"] == field and where in message, answer
        assert f"more than {limit}" in message
        status, _, answer = call(service, "POST", "/v1/analyze", body) if "script" in body \
            else (413, None, answer)
        assert status == 413, answer
    _, _, page = call(service, "GET", "/v1/jobs", key=OPS)
    assert page["total"] == 0


@pytest.mark.ray
@pytest.mark.ffmpeg
def test_a_key_has_a_quota_of_unfinished_jobs_and_admins_none(service):
    body = {"script": markdown(1), "settings": {"fps": 12}}
    first = [call(service, "POST", "/v1/jobs", body)[2] for _ in range(2)]
    assert all(job["status"] in ("queued", "running") for job in first), first
    status, headers, answer = call(service, "POST", "/v1/jobs", body)
    assert status == 429 and headers["Retry-After"] == "9", answer
    assert "2 jobs queued or running" in answer["error"]["message"]
    assert call(service, "POST", "/v1/jobs", body, key=BOB)[0] == 202  # per key
    assert call(service, "POST", "/v1/jobs", body, key=OPS)[0] == 202
    assert call(service, "POST", "/v1/jobs", body, key=OPS)[0] == 202  # admin: no quota
    call(service, "DELETE", f"/v1/jobs/{first[0]['id']}")
    assert call(service, "POST", "/v1/jobs", body)[0] == 202  # a place again
    # A retry takes a place like a submit: the cancelled job cannot come back past the quota.
    status, headers, answer = call(service, "POST", f"/v1/jobs/{first[0]['id']}/retry")
    assert status == 429 and headers["Retry-After"] == "9", answer
    assert "2 jobs queued or running" in answer["error"]["message"]
    cancel_all(service)


@pytest.mark.ray
@pytest.mark.ffmpeg
def test_a_tenant_priority_is_capped_and_an_admin_is_not(service):
    body = {"script": markdown(1), "settings": {"fps": 12}}
    status, _, answer = call(service, "POST", "/v1/jobs", {**body, "priority": 6})
    assert status == 422 and answer["error"]["field"] == "priority", answer
    status, _, job = call(service, "POST", "/v1/jobs", {**body, "priority": 5})
    assert status == 202, job
    status, _, answer = call(service, "POST", f"/v1/jobs/{job['id']}/priority",
                             {"priority": 50})
    assert status == 422 and answer["error"]["field"] == "priority", answer
    status, _, admins = call(service, "POST", "/v1/jobs", {**body, "priority": 50}, key=OPS)
    assert status == 202 and admins["priority"] == 50
    cancel_all(service)
