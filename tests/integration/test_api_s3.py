"""The job service with an S3 store: a local S3 server (moto, server mode, on loopback),
real boto3 calls, and downloads answered with 307s to presigned links fetched over HTTP."""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
import urllib.request
from functools import partial

import pytest
from test_api import SCRIPT, SETTINGS, call, wait  # same folder: on sys.path

from vidgen_ray.testing.fake_backends import SlowImageBackend
from vidgen_ray.testing.service import job_service

pytestmark = [pytest.mark.ray, pytest.mark.ffmpeg, pytest.mark.s3, pytest.mark.slow]

KEY = "s3-user-key-0123456789"
BUCKET = "vidgen-results"


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    endpoint = "http://{}:{}".format(*server.get_host_and_port())
    work = tmp_path_factory.mktemp("s3-service")
    env = dict(  # credentials before Ray starts: its workers inherit them
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1", VIDGEN_API_KEYS=f"user:{KEY}",
        VIDGEN_STORAGE=f"s3://{BUCKET}/farm", VIDGEN_S3_ENDPOINT_URL=endpoint,
        VIDGEN_WORKDIR=str(work))
    factories = {"image": partial(SlowImageBackend, latency_s=0.05)}
    try:
        with job_service(env, factories, unset=("AWS_PROFILE",)) as address:
            s3 = boto3.client("s3", endpoint_url=endpoint)
            s3.create_bucket(Bucket=BUCKET)  # the farm reads the bucket at its first call
            yield address, work, s3
    finally:
        server.stop()


def test_results_go_to_s3_content_addressed_and_download_by_presigned_link(service, tmp_path):
    _, work, s3 = service
    status, _, job = call(service, "POST", "/v1/jobs", {"script": SCRIPT, "settings": SETTINGS},
                          key=KEY)
    assert status == 202, job
    done = wait(service, job["id"], key=KEY)
    assert done["status"] == "done", done["error"]
    objects = {o["Key"]: o["Size"] for o in
               s3.list_objects_v2(Bucket=BUCKET, Prefix="farm/")["Contents"]}
    results = {k for k in objects if not k.startswith(("farm/jobs/", "farm/requests/"))}
    assert len(results) == 5 and all(k.startswith("farm/") for k in objects)
    # The request and the record are kept in the bucket too (a new cluster resumes from it).
    assert {f"farm/jobs/{job['id']}.json", f"farm/requests/{job['id']}.json"} <= set(objects)
    status, headers, _ = call(service, "GET", f"/v1/jobs/{job['id']}/video", key=KEY)
    assert status == 307
    link = headers["Location"]
    assert link.startswith("http://127.0.0.1:") and "Signature" in link
    with urllib.request.urlopen(link, timeout=30) as answer:  # no API key: the link is enough
        video = answer.read()
        disposition = answer.headers["Content-Disposition"]
    assert job["id"] in disposition
    digest = hashlib.sha256(video).hexdigest()
    assert f"farm/video/{digest}.mp4" in objects  # the key is the content's own sha256
    path = tmp_path / "video.mp4"
    path.write_bytes(video)
    probe = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(path)],
        capture_output=True, text=True, check=True).stdout)
    assert {s["codec_name"] for s in probe["streams"]} == {"h264", "aac"}
    status, headers, _ = call(service, "GET", f"/v1/jobs/{job['id']}/subtitles.vtt", key=KEY)
    with urllib.request.urlopen(headers["Location"], timeout=30) as answer:
        assert answer.read().startswith(b"WEBVTT")
    # The job's record stays in the farm node's working folder (see README).
    record = json.loads((work / "parts" / "jobs" / f"{job['id']}.json").read_text())
    assert record["outputs"]["video"] == f"video/{digest}"
    assert time.time() - record["finished"] < 300


def test_a_new_farm_on_an_empty_folder_takes_the_jobs_up_from_the_bucket(service, tmp_path):
    from vidgen_ray.farm.home import JobHome, StoredRequest
    from vidgen_ray.farm.jobs import JobRecord, JobStatus
    from vidgen_ray.storage import open_store
    from vidgen_ray.storyboard import Line, Scene, Storyboard

    _, _, s3 = service
    endpoint = s3.meta.endpoint_url
    store = open_store(f"s3://{BUCKET}/farm", endpoint_url=endpoint)
    _, _, page = call(service, "GET", "/v1/jobs?state=done", key=KEY)
    finished = page["jobs"][0]["id"]
    # A job that was running when its cluster went away, written through another home.
    board = Storyboard(scenes=[Scene(lines=[Line(text="Still here.")])])
    request = StoredRequest(id="job-aaaaaaaaaaaa", storyboard=board, owner="user")
    JobHome(tmp_path / "old", mirror=store).save_request(request)
    running = JobRecord(id=request.id, out_dir="/gone", scenes=["queued"])
    running.start()
    JobHome(tmp_path / "old", mirror=store).mirror_record(running)
    for hostile in ("farm/jobs/../../escape.json", "farm/requests/x/../../../escape.json"):
        s3.put_object(Bucket=BUCKET, Key=hostile, Body=b"{}")

    fresh = JobHome(tmp_path / "new", mirror=store)
    found = {r.request.id: r for r in fresh.recover()}
    assert found[finished].record.status == JobStatus.done
    assert found[finished].record.outputs["video"].startswith("video/")
    resumed = found[request.id]
    assert resumed.resumed and resumed.record.status == JobStatus.queued
    assert not list(tmp_path.rglob("escape.json"))  # keys that are not job ids are ignored


def test_a_priority_change_reaches_the_bucket(service, tmp_path):
    from vidgen_ray.farm.jobs import JobRecord
    from vidgen_ray.farm.journal import HomeJournal

    _, _, s3 = service
    journal = HomeJournal(str(tmp_path / "home"), f"s3://{BUCKET}/prio",
                          endpoint_url=s3.meta.endpoint_url)
    parts = journal.home.parts

    def in_bucket(job_id: str) -> dict:
        body = s3.get_object(Bucket=BUCKET, Key=f"prio/jobs/{job_id}.json")["Body"].read()
        return json.loads(body)

    record = JobRecord(id="job-bbbbbbbbbbbb", out_dir=str(tmp_path), scenes=["queued"],
                       priority=1)
    journal.save(record, parts)  # what every change of a job's record goes through
    assert in_bucket(record.id)["priority"] == 1
    record.priority = 7  # Farm.set_priority on a queued job: same state, new order
    journal.save(record, parts)
    assert in_bucket(record.id)["priority"] == 7  # a farm resuming from the bucket keeps it
