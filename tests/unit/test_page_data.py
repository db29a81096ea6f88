"""The web monitor's pure parts: queue re-prioritising, scene views, artifact names, the farm
view's throughput (service/page_data.py, farm/jobs.py)."""

from __future__ import annotations

import json

import pytest

from vidgen_ray.errors import NotFoundError, TooLargeError
from vidgen_ray.farm.home import artifact_names, artifact_path
from vidgen_ray.farm.jobs import JobQueue, JobRecord, SceneParts, load_record, save_record
from vidgen_ray.service import page_data as monitor
from vidgen_ray.storyboard import Character, Line, Scene, Storyboard

KEY = "image/" + "a" * 64
LINE_KEYS = ["speech/" + c * 64 for c in "bcd"]


def test_reprioritize_moves_a_queued_job_behind_those_already_at_its_priority():
    queue = JobQueue()
    for job, priority in (("job-a", 0), ("job-b", 0), ("job-c", 5), ("job-d", 0)):
        queue.push(job, priority)
    queue.reprioritize("job-d", 5)
    assert queue.ids() == ["job-c", "job-d", "job-a", "job-b"]
    queue.reprioritize("job-c", -1)
    assert queue.ids() == ["job-d", "job-a", "job-b", "job-c"]
    assert [queue.pop() for _ in range(4)] == ["job-d", "job-a", "job-b", "job-c"]
    with pytest.raises(ValueError, match="job-x is not queued"):
        queue.reprioritize("job-x", 1)


def _job() -> tuple[JobRecord, Storyboard]:
    board = Storyboard(characters=[Character(name="ANNA")], scenes=[
        Scene(title="Harbour", lines=[Line(text="The boats come home."),
                                      Line(speaker="ANNA", text="At last.")]),
        Scene(lines=[Line(text="The lamps go out.")])])
    record = JobRecord(out_dir="/tmp/x", scenes=["done", "failed"], status="running",
                       started=100.0)
    record.scene_parts = [
        SceneParts(image=KEY, speech=LINE_KEYS[:2], image_ready=101.5, speech_ready=100.25),
        SceneParts(image="image/" + "e" * 64, speech=LINE_KEYS[2:], speech_ready=100.5)]
    record.fail("the images stage failed: scene 2 failed in images: no image", scene=1)
    return record, board


def test_scene_views_link_only_stored_parts_and_give_the_failed_scene_its_error():
    record, board = _job()
    stored = {KEY, LINE_KEYS[0], LINE_KEYS[2]}  # line 2 of scene 1 is not stored (yet)
    views = monitor.scene_views(record, board, "http://h/v1/jobs/job-1", stored.__contains__)
    first, second = views
    assert first.title == "Harbour" and second.title == "Scene 2"
    assert first.lines == ["NARRATOR: The boats come home.", "ANNA: At last."]
    assert first.picture == "http://h/v1/jobs/job-1/scenes/0/picture"
    assert first.speech == ["http://h/v1/jobs/job-1/scenes/0/speech/0", None]
    assert first.timings == {"picture": 1.5, "speech": 0.25} and first.error is None
    assert second.status == "failed" and second.picture is None
    assert second.error.endswith("no image") and second.timings == {"speech": 0.5}


def test_scene_views_of_a_job_not_started_have_no_parts_yet():
    _, board = _job()
    record = JobRecord(out_dir="/tmp/x", scenes=["queued", "queued"])
    views = monitor.scene_views(record, board, "u", lambda key: True)
    assert [(v.status, v.picture, v.speech, v.timings) for v in views] == [
        ("queued", None, [None, None], {}), ("queued", None, [None], {})]


def test_part_key_names_what_is_missing():
    record, _ = _job()
    assert monitor.part_key(record, 0, "picture") == KEY
    assert monitor.part_key(record, 0, "speech", 1) == LINE_KEYS[1]
    with pytest.raises(NotFoundError, match="no line 2"):
        monitor.part_key(record, 0, "speech", 2)
    with pytest.raises(NotFoundError, match="no parts for scene 5"):
        monitor.part_key(record, 5, "picture")
    with pytest.raises(NotFoundError, match="no parts for scene -1"):
        monitor.part_key(record, -1, "picture")


def test_a_record_keeps_its_scene_parts_and_older_records_still_load(tmp_path):
    record, _ = _job()
    loaded = load_record(save_record(record, tmp_path))
    assert loaded.scene_parts == record.scene_parts
    older = json.loads(loaded.model_dump_json(exclude={"scene_parts"}))
    (tmp_path / f"{record.id}.json").write_text(json.dumps(older))
    assert load_record(tmp_path / f"{record.id}.json").scene_parts == []


def test_artifacts_are_the_files_a_job_writes_and_nothing_else(tmp_path):
    for name in ("video.mp4", "video-1080x1920.mp4", "subtitles.srt", "subtitles.vtt",
                 "manifest.json", "storyboard.json", "cast.json", "mix.flac",
                 "stems/speech.flac", "stems/music.flac", ".job-1.abcd.video.mp4",
                 "notes.txt", "stems/other.flac"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    assert artifact_names(tmp_path) == [
        "cast.json", "manifest.json", "mix.flac", "stems/music.flac", "stems/speech.flac",
        "storyboard.json", "subtitles.srt", "subtitles.vtt", "video-1080x1920.mp4",
        "video.mp4"]
    assert artifact_path(tmp_path, "stems/speech.flac") == tmp_path / "stems/speech.flac"
    for name in ("notes.txt", "../x/video.mp4", "stems/../cast.json", "/etc/passwd",
                 ".job-1.abcd.video.mp4", "stems/other.flac"):
        with pytest.raises(NotFoundError, match="no artifact"):
            artifact_path(tmp_path, name)
    with pytest.raises(NotFoundError, match="has no mix.wav"):
        artifact_path(tmp_path, "mix.wav")
    assert artifact_names(tmp_path / "missing") == []
    assert monitor.media_type("stems/music.flac") == "audio/flac"
    assert monitor.media_type("subtitles.vtt") == "text/vtt"


def test_farm_view_counts_recent_throughput_and_workers_per_node():
    def done(finished: float, started: float, scenes: int) -> JobRecord:
        return JobRecord(out_dir="/x", status="done", started=started, finished=finished,
                         scenes=["done"] * scenes)

    now = 10_000.0
    records = [done(now - 60, now - 100, 4), done(now - 600, now - 630, 2),
               done(now - 4000, now - 4100, 10),  # older than the hour: not recent
               JobRecord(out_dir="/x", scenes=["queued"])]
    stats = {"queued": 1, "running": 0, "max_queued": 16, "max_running": 2}
    workers = [{"pool": "image:cards", "node_id": "n1"}, {"pool": "speech:espeak",
                                                         "node_id": "n1"}]
    nodes = monitor.node_rows([
        {"NodeID": "n2", "NodeManagerAddress": "10.0.0.2", "Alive": False, "Resources": {}},
        {"NodeID": "n1", "NodeManagerAddress": "10.0.0.1", "Alive": True,
         "Resources": {"CPU": 8.0, "GPU": 1.0, "assembly": 4.0}}])
    view = monitor.farm_view(records, stats, workers, nodes, now=now)
    t = view.throughput
    assert (t.jobs_done, t.scenes_done, t.window_s) == (2, 6, 3600.0)
    assert t.jobs_per_hour == 2.0 and t.scenes_per_minute == 0.1
    assert t.seconds_per_scene == round((40 + 30) / 6, 3)
    assert view.jobs == {"queued": 1, "running": 0, "done": 3, "failed": 0, "cancelled": 0}
    assert view.queue_depth == 1 and view.max_running == 2
    assert [(n["node_id"], n["alive"], n["gpus"], n["workers"]) for n in view.nodes] == [
        ("n1", True, 1.0, 2), ("n2", False, 0.0, 0)]
    empty = monitor.farm_view([], stats, [], [], now=now)
    assert empty.throughput.seconds_per_scene is None and empty.throughput.jobs_done == 0


def test_analyze_keeps_the_service_limits_and_checks_the_settings():
    from vidgen_ray.errors import SettingsError
    from vidgen_ray.service import requests as service

    limits = service.Limits(max_script_bytes=1024, max_scenes=5)
    script = "# A\n\nOne.\n\n# B\n\nTwo."
    board = service.analyze(service.AnalyzeRequest(script=script), limits)
    assert [s.title for s in board.scenes] == ["A", "B"]
    with pytest.raises(TooLargeError, match="more than 1 scene,") as error:
        service.analyze(service.AnalyzeRequest(script=script), service.Limits(1024, 1))
    assert error.value.field == "scenes"
    with pytest.raises(TooLargeError, match="at most 16") as error:
        service.analyze(service.AnalyzeRequest(script="x" * 17), service.Limits(16, 5))
    assert error.value.field == "script"
    with pytest.raises(SettingsError):  # a job's settings, checked as a job's are
        service.analyze(service.AnalyzeRequest(script=script, settings={"llm": "openai"}),
                        limits)
