import json
import pickle

import pytest

from vidgen_ray.errors import (
    FarmSaturated,
    IllegalTransition,
    OutputError,
    RecordError,
    VidgenError,
)
from vidgen_ray.farm.jobs import (
    JOB_TRANSITIONS,
    SCENE_TRANSITIONS,
    JobQueue,
    JobRecord,
    JobStatus,
    SceneStatus,
    advance,
    check_capacity,
    load_record,
    load_records,
    new_job_id,
    save_record,
)

TABLES = [(JobStatus, JOB_TRANSITIONS), (SceneStatus, SCENE_TRANSITIONS)]
# Sorted: the tables hold sets, whose order differs between processes (pytest-xdist's
# workers must collect the same tests in the same order).
LEGAL = [(a, b) for _, table in TABLES for a, targets in table.items()
         for b in sorted(targets, key=lambda state: state.value)]
ILLEGAL = [(a, b) for kind, table in TABLES for a in kind for b in kind
           if b not in table[a]]


def record(**fields):
    return JobRecord(out_dir="/tmp/out", title="Lighthouse", **fields)


# ---- state machines ------------------------------------------------------------------------

def test_every_state_has_a_row_and_done_is_final_but_for_a_job_made_again():
    for kind, table in TABLES:
        assert set(table) == set(kind)
    # A done job goes back to the queue only to remake cleaned outputs; a done scene never moves.
    assert JOB_TRANSITIONS[JobStatus.done] == {JobStatus.queued}
    assert SCENE_TRANSITIONS[SceneStatus.done] == frozenset()
    assert len(LEGAL) == 9 + 12 and len(ILLEGAL) == 25 + 36 - len(LEGAL)


@pytest.mark.parametrize(("current", "new"), LEGAL, ids=lambda s: f"{type(s).__name__}.{s.value}")
def test_legal_transitions_advance(current, new):
    assert advance(current, new) is new
    assert advance(current, new.value) is new  # plain strings, as from JSON, work too


@pytest.mark.parametrize(("current", "new"), ILLEGAL, ids=lambda s: f"{type(s).__name__}.{s.value}")
def test_illegal_transitions_raise_naming_both_states(current, new):
    with pytest.raises(IllegalTransition) as caught:
        advance(current, new)
    error = caught.value
    assert f"from {current.value} to {new.value}" in str(error)
    assert (error.current, error.new) == (current.value, new.value)
    assert error.http_status == 409 and isinstance(error, VidgenError)


def test_illegal_transition_names_what_is_allowed():
    with pytest.raises(IllegalTransition, match="can only go to cancelled or running"):
        advance(JobStatus.queued, JobStatus.done)
    with pytest.raises(IllegalTransition, match="done is final"):
        advance(SceneStatus.done, SceneStatus.queued)


def test_an_unknown_status_is_refused():
    with pytest.raises(ValueError, match="paused"):
        advance(JobStatus.queued, "paused")


# ---- records -------------------------------------------------------------------------------

def test_job_ids_are_valid_and_bad_ids_are_refused():
    ids = {new_job_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(record(id=i).id == i for i in ids)
    for bad in ["Job-123456", "-abcdef", "abc", "job_123456", "a" * 65, "../etc/passwd"]:
        with pytest.raises(ValueError):
            record(id=bad)


def test_priority_is_bounded():
    assert record(priority=100).priority == 100
    for bad in (101, -101):
        with pytest.raises(ValueError):
            record(priority=bad)


def test_lifecycle_stamps_times_and_goes_through_the_table():
    job = record(scenes=[SceneStatus.queued] * 3)
    assert job.status is JobStatus.queued and job.started is None and job.unfinished
    job.start()
    job.set_scene(0, SceneStatus.running)
    job.set_scene(0, "done")
    job.set_scene(1, SceneStatus.done)  # already stored: done without running
    job.finish()
    assert job.status is JobStatus.done and not job.unfinished
    assert job.created <= job.started <= job.finished
    with pytest.raises(IllegalTransition, match="from done to running"):
        job.start()
    with pytest.raises(IllegalTransition, match="a scene cannot go from done to running"):
        job.set_scene(0, SceneStatus.running)


def test_fail_marks_the_scene_and_stops_the_rest_then_requeue_resets_them():
    job = record(scenes=[SceneStatus.done, SceneStatus.running, SceneStatus.running,
                         SceneStatus.queued])
    job.start()
    job.fail("ffmpeg failed", scene=1)
    assert job.status is JobStatus.failed and job.error == "ffmpeg failed"
    assert job.failed_scene == 1 and job.finished is not None
    assert job.scenes == [SceneStatus.done, SceneStatus.failed, SceneStatus.stopped,
                          SceneStatus.stopped]
    job.requeue()
    assert job.status is JobStatus.queued
    assert (job.error, job.failed_scene, job.started, job.finished) == (None, None, None, None)
    assert job.scenes == [SceneStatus.done] + [SceneStatus.queued] * 3


def test_cancel_and_resume():
    job = record(scenes=[SceneStatus.queued])
    job.cancel()
    assert job.status is JobStatus.cancelled and job.scenes == [SceneStatus.cancelled]
    with pytest.raises(IllegalTransition, match="from cancelled to cancelled"):
        job.cancel()
    job.requeue()
    assert job.status is JobStatus.queued and job.scenes == [SceneStatus.queued]


def test_a_restarted_farm_puts_a_running_job_back():
    job = record(scenes=[SceneStatus.running, SceneStatus.done])
    job.start()
    job.requeue()
    assert job.status is JobStatus.queued
    assert job.scenes == [SceneStatus.queued, SceneStatus.done]


def test_progress_is_reported_per_known_stage():
    job = record()
    assert set(job.progress) == {"speech", "images", "video", "mux"}
    job.report("video", 3, 10)
    assert (job.progress["video"].done, job.progress["video"].total) == (3, 10)
    with pytest.raises(ValueError, match="unknown stage 'render'"):
        job.report("render", 1, 1)
    with pytest.raises(ValueError, match="cannot exceed total"):
        job.report("speech", 5, 4)


def test_an_illegal_assignment_is_refused():
    job = record()
    with pytest.raises(ValueError):
        job.priority = 1000


def test_illegal_transition_and_saturation_survive_pickling():
    error = pickle.loads(pickle.dumps(IllegalTransition("no", "done", "running")))
    assert (error.current, error.new, error.message) == ("done", "running", "no")
    busy = pickle.loads(pickle.dumps(FarmSaturated("full", 30.0)))
    assert busy.retry_after == 30.0 and busy.http_status == 429


# ---- persistence ---------------------------------------------------------------------------

def test_record_round_trip(tmp_path):
    job = record(priority=5, scenes=[SceneStatus.queued] * 2, timings={"speech": 1.5})
    job.start()
    job.report("speech", 1, 2)
    path = save_record(job, tmp_path / "jobs")
    assert path == tmp_path / "jobs" / f"{job.id}.json"
    loaded = load_record(path)
    assert loaded == job
    assert json.loads(path.read_text())["status"] == "running"


def test_save_leaves_no_temporary_file_and_replaces_the_old_record(tmp_path):
    job = record()
    save_record(job, tmp_path)
    job.start()
    save_record(job, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [f"{job.id}.json"]
    assert load_record(tmp_path / f"{job.id}.json").status is JobStatus.running


def test_a_crash_mid_write_never_leaves_half_a_record_under_the_real_name(tmp_path):
    job = record()
    save_record(job, tmp_path)
    # What a writer killed before its rename leaves behind: half of the new record.
    half = job.model_copy(update={"status": JobStatus.running}).model_dump_json()
    (tmp_path / f".{job.id}.x1y2z3.tmp").write_text(half[: len(half) // 2])
    records = load_records(tmp_path)
    assert records == [job] and records[0].status is JobStatus.queued


def test_a_failed_rename_removes_its_temporary_file(tmp_path):
    job = record()
    (tmp_path / f"{job.id}.json").mkdir()  # a folder in the way: the rename fails
    with pytest.raises(OutputError, match=f"cannot write job record .*{job.id}.json"):
        save_record(job, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [f"{job.id}.json"]


def test_a_broken_record_is_named(tmp_path):
    good = record()
    save_record(good, tmp_path)
    (tmp_path / "job-broken1.json").write_text('{"id": "job-broken1", "status": "runn')
    with pytest.raises(RecordError, match="job-broken1.json is broken"):
        load_records(tmp_path)
    (tmp_path / "job-broken1.json").write_text('{"id": "job-broken1", "status": "paused", '
                                               '"out_dir": "x"}')
    with pytest.raises(RecordError, match=r"job-broken1.json is broken \(status"):
        load_records(tmp_path)


def test_a_record_under_another_name_is_refused(tmp_path):
    path = save_record(record(), tmp_path)
    path.rename(tmp_path / "job-elsewhere.json")
    with pytest.raises(RecordError, match="rename the file"):
        load_record(tmp_path / "job-elsewhere.json")


def test_records_load_oldest_first_and_a_missing_folder_is_empty(tmp_path):
    assert load_records(tmp_path / "none") == []
    newer, older = record(created=200.0), record(created=100.0)
    for job in (newer, older):
        save_record(job, tmp_path)
    assert [r.id for r in load_records(tmp_path)] == [older.id, newer.id]


# ---- queue and capacity --------------------------------------------------------------------

def test_queue_pops_highest_priority_first_and_ties_in_submission_order():
    queue = JobQueue()
    for job_id, priority in [("a", 0), ("b", 5), ("c", 0), ("d", 5), ("e", -3), ("f", 0)]:
        queue.push(job_id, priority)
    assert len(queue) == 6 and "c" in queue
    assert queue.ids() == ["b", "d", "a", "c", "f", "e"]
    assert [queue.pop() for _ in range(7)] == ["b", "d", "a", "c", "f", "e", None]
    assert len(queue) == 0


def test_queue_remove_and_push_again():
    queue = JobQueue()
    for job_id in "abc":
        queue.push(job_id)
    assert queue.remove("b") and not queue.remove("b") and not queue.remove("zz")
    assert len(queue) == 2 and "b" not in queue
    queue.push("b", 1)  # re-queued later with a higher priority: its old entry is stale
    assert [queue.pop(), queue.pop(), queue.pop(), queue.pop()] == ["b", "a", "c", None]
    with pytest.raises(ValueError, match="already queued"):
        queue.push("x")
        queue.push("x")


@pytest.mark.parametrize(("queued", "running", "accepted"), [
    (0, 0, True),
    (15, 4, True),   # room in the queue
    (16, 4, False),  # queue full, every slot busy
    (16, 3, True),   # queue full, but a slot is free: the head starts, this job waits
    (17, 3, False),  # one free slot does not make room for two
    (17, 2, True),
])
def test_capacity_counts_jobs_that_will_wait(queued, running, accepted):
    args = dict(queued=queued, running=running, max_queued=16, max_running=4, retry_after=30)
    if accepted:
        check_capacity(**args)
    else:
        with pytest.raises(FarmSaturated):
            check_capacity(**args)


def test_saturation_tells_the_client_when_and_the_operator_log_the_fix(caplog):
    with pytest.raises(FarmSaturated) as caught:
        check_capacity(queued=16, running=4, max_queued=16, max_running=4, retry_after=29.2)
    error = caught.value
    assert error.retry_after == 29.2 and error.http_status == 429 and error.retryable
    assert str(error) == ("the farm has 16 jobs queued and 4 running, its limits are 16 queued "
                          "and 4 running: retry in 30 s")
    assert "raise VIDGEN_MAX_QUEUED_JOBS" in caplog.text


def test_with_no_queue_only_jobs_that_can_start_are_accepted():
    check_capacity(queued=0, running=1, max_queued=0, max_running=2, retry_after=5)
    with pytest.raises(FarmSaturated):
        check_capacity(queued=0, running=2, max_queued=0, max_running=2, retry_after=5)


def test_capacity_refuses_nonsense_counts():
    with pytest.raises(ValueError):
        check_capacity(queued=-1, running=0, max_queued=1, max_running=1, retry_after=1)


def test_a_failure_outside_any_scene_stops_every_unfinished_scene_and_names_none():
    job = record(scenes=[SceneStatus.done, SceneStatus.running, SceneStatus.queued])
    job.start()
    job.fail("the mux stage failed", scene=7)  # an index out of range is not recorded
    assert job.failed_scene is None
    assert job.scenes == [SceneStatus.done, SceneStatus.stopped, SceneStatus.stopped]
