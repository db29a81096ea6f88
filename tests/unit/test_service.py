"""The job service's pure parts: keys and callers, request checks, paging, and the job
home's recovery rules (files only, no Ray, no HTTP)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from vidgen_ray.config import RenderSettings, ServiceSettings
from vidgen_ray.errors import (
    AuthError,
    ForbiddenError,
    NotFoundError,
    ScriptError,
    SettingsError,
    TooLargeError,
)
from vidgen_ray.farm.home import JobHome, StoredRequest, check_job_id
from vidgen_ray.farm.jobs import JobRecord, JobStatus, save_record
from vidgen_ray.service.requests import (
    Caller,
    JobRequest,
    Limits,
    authenticate,
    check_access,
    load_keys,
    page,
    parse_api_keys,
    prepare,
    storage_locations,
)
from vidgen_ray.storyboard import Line, Scene, Storyboard

KEYS = parse_api_keys("alice:a-secret-of-16-chars,ops:an-admin-secret-16:admin")
BOARD = Storyboard(scenes=[Scene(title=f"S{i}", lines=[Line(text=f"Line {i}.")])
                           for i in range(3)])


def test_keys_are_parsed_and_bad_entries_refused():
    assert [(k.name, k.admin) for k in KEYS] == [("alice", False), ("ops", True)]
    for bad in ("alice", "alice:short", ":a-secret-of-16-chars", "a:a-secret-of-16-chars:root",
                "a:a-secret-of-16-chars,a:another-secret-16c"):
        with pytest.raises(SettingsError) as info:
            parse_api_keys(bad)
        assert info.value.field == "api_keys"


def test_no_keys_refuses_to_start_unless_explicitly_open():
    with pytest.raises(SettingsError, match="VIDGEN_API_KEYS"):
        load_keys(ServiceSettings(api_keys=""))
    assert load_keys(ServiceSettings(api_keys="", api_open=True)) == []
    assert authenticate(None, []) == Caller("anonymous", admin=True)


def test_bearer_keys_name_the_caller():
    assert authenticate("Bearer a-secret-of-16-chars", KEYS) == Caller("alice")
    assert authenticate("bearer an-admin-secret-16", KEYS) == Caller("ops", admin=True)
    for header in (None, "", "Bearer ", "Basic a-secret-of-16-chars", "Bearer a-secret-of-16",
                   "Bearer a-secret-of-16-charsX"):
        with pytest.raises(AuthError):
            authenticate(header, KEYS)


def test_only_the_owner_or_an_admin_sees_a_job():
    record = JobRecord(out_dir="/x", owner="alice")
    check_access(Caller("alice"), record)
    check_access(Caller("ops", admin=True), record)
    with pytest.raises(ForbiddenError) as info:
        check_access(Caller("bob"), record)
    assert info.value.http_status == 403


def test_requests_take_one_source_and_only_per_job_settings():
    with pytest.raises(ValidationError):
        JobRequest()
    with pytest.raises(ValidationError):
        JobRequest(script="x", storyboard=BOARD)
    for settings in ({"fps": 5}, {"image_workers": 4}, {"ray_address": "ray://x"},
                     {"resolution": "8k"}):
        with pytest.raises(ValidationError) as info:
            JobRequest(script="x", settings=settings)
        assert info.value.errors()[0]["loc"][:2] == ("settings", next(iter(settings)))
    assert RenderSettings().fps == 30  # building the request model left the real one alone


def test_requests_take_the_settings_of_every_backend_and_loudness_presets():
    job = prepare(JobRequest(script="Hello.", settings={
        "loudness": "broadcast", "tts_model": "bark", "image_model": "sdxl",
        "transition": "wipe_left", "stems": "flac", "renditions": ["1080x1920"]}), Limits())
    assert job.sent["loudness"] == "broadcast" and job.settings.loudness == -23.0  # parsed
    with pytest.raises(SettingsError, match="loudness"):
        prepare(JobRequest(script="Hello.", settings={"loudness": "loud"}), Limits())


def test_prepare_checks_limits_and_analyses_the_script():
    job = prepare(JobRequest(script="# A\n\nHello.\n\n# B\n\nBye.", settings={"fps": 12}),
                  Limits())
    assert [s.title for s in job.storyboard.scenes] == ["A", "B"]
    assert job.sent == {"fps": 12}  # stored as sent: the saved request reads back
    assert isinstance(job.settings, RenderSettings) and job.settings.fps == 12  # parsed once
    assert job.media == {}
    job = prepare(JobRequest(script="Hello.", settings={"card_text": "narration"}), Limits())
    assert job.sent == {"card_text": "narration"}
    with pytest.raises(TooLargeError) as info:
        prepare(JobRequest(script="x" * 2049), Limits(max_script_bytes=2048))
    assert (info.value.http_status, info.value.field) == (413, "script")
    with pytest.raises(TooLargeError) as info:
        prepare(JobRequest(storyboard=BOARD), Limits(max_scenes=2))
    assert info.value.field == "scenes" and "more than 2 scenes" in str(info.value)
    with pytest.raises(ScriptError):
        prepare(JobRequest(storyboard=Storyboard(scenes=[Scene(title="silent")])), Limits())


def test_pages_are_the_callers_newest_first():
    records = [JobRecord(out_dir="/x", owner=owner, created=float(t), status=status)
               for t, (owner, status) in enumerate([("alice", "done"), ("bob", "done"),
                                                    ("alice", "queued"), ("alice", "done")])]
    chosen, total, after = page(records, Caller("alice"), None, 0, 2)
    assert [r.created for r in chosen] == [3.0, 2.0] and total == 3 and after == 2
    chosen, total, after = page(records, Caller("alice"), None, 2, 2)
    assert [r.created for r in chosen] == [0.0] and after is None
    chosen, total, _ = page(records, Caller("alice"), JobStatus.done, 0, 10)
    assert [r.created for r in chosen] == [3.0, 0.0] and total == 2
    assert page(records, Caller("ops", admin=True), None, 0, 10)[1] == 4


def test_storage_is_a_folder_or_s3_with_a_local_workdir():
    assert storage_locations(ServiceSettings(), "/data") == ("/data", None)
    assert storage_locations(ServiceSettings(storage="/srv/v"), "/data") == ("/srv/v", None)
    assert storage_locations(ServiceSettings(storage="s3://b/p", workdir="/w"), "/data") == \
        ("/w", "s3://b/p")


def test_job_ids_that_are_not_ids_never_become_paths(tmp_path):
    home = JobHome(tmp_path)
    assert check_job_id("job-0123456789ab") == "job-0123456789ab"
    for bad in ("../etc", "job-01234/../../x", "%2e%2e", "/abs", "", "JOB-UPPER", "a" * 65):
        with pytest.raises(NotFoundError):
            home.out_dir(bad)
    with pytest.raises(NotFoundError):
        home.output_path("job-0123456789ab", "../../secret")
    assert home.output_path("job-0123456789ab", "video") == \
        tmp_path.resolve() / "outputs" / "job-0123456789ab" / "video.mp4"


def test_recovery_requeues_unfinished_jobs_keeping_done_scenes(tmp_path):
    home = JobHome(tmp_path)
    requests = {name: StoredRequest(id=f"job-{name * 12}", storyboard=BOARD, owner="alice",
                                    idempotency_key=f"key-{name}", created=float(i))
                for i, name in enumerate("abcde")}
    for request in requests.values():
        home.save_request(request)
    running = JobRecord(id=requests["a"].id, out_dir="/x", scenes=["queued"] * 3)
    running.start()
    running.set_scene(0, "running")
    running.set_scene(0, "done")
    running.set_scene(1, "running")
    done = JobRecord(id=requests["b"].id, out_dir="/x", status="done", scenes=["done"] * 3)
    cancelled = JobRecord(id=requests["c"].id, out_dir="/x", status="cancelled")
    for record in (running, done, cancelled):
        save_record(record, home.records)
    (home.records / f"{requests['e'].id}.json").write_text("{broken")
    (home.root / "requests" / "job-ffffffffffff.json").write_text("not json")  # skipped
    found = {r.request.id: r for r in home.recover()}
    assert list(found) == [requests[n].id for n in "abcde"]  # oldest first
    a = found[requests["a"].id]
    assert a.resumed and a.record.status == JobStatus.queued
    assert a.record.scenes == ["done", "queued", "queued"]  # the done scene stays done
    assert not found[requests["b"].id].resumed
    assert found[requests["c"].id].record.status == JobStatus.cancelled
    d = found[requests["d"].id]  # its record was never written: rebuilt from the request
    assert d.resumed and d.record.owner == "alice" and len(d.record.scenes) == 3
    e = found[requests["e"].id]
    assert e.record.status == JobStatus.failed and "broken" in e.record.error


def test_submit_sets_any_setting_as_name_equals_value():
    from vidgen_ray.cli.app import parse_assignments
    from vidgen_ray.errors import InputError

    assert parse_assignments(["stems=flac", "crf=18", "burn_subtitles=true",
                              'renditions=["1080x1920", "1280x720"]', "tts_voice=en+m3"]) == {
        "stems": "flac", "crf": 18, "burn_subtitles": True,
        "renditions": ["1080x1920", "1280x720"], "tts_voice": "en+m3"}
    for bad in ("stems", "=flac"):
        with pytest.raises(InputError, match="NAME=VALUE"):
            parse_assignments([bad])
