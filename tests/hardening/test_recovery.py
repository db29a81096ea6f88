"""Recovery: a done job whose outputs were cleaned is made again by a retry, and only what is
missing is made; a done job whose outputs exist is not (409).

Through the real job service (Ray, Serve, FFmpeg, espeak-ng; pictures from the slow fake
backend, which logs each picture it makes), plus the S3 side of the check against a local S3
server (moto, on loopback)."""

from __future__ import annotations

import shutil
import time
from functools import partial

import pytest

from vidgen_ray.testing.fake_backends import SlowImageBackend
from vidgen_ray.testing.http import request
from vidgen_ray.testing.service import job_service

KEY = "alice-key-0123456789"
SCRIPT = "# Harbour\n\nThe boats come home.\n\n# Night\n\nThe lamps go out."
SETTINGS = {"fps": 12, "chunk_seconds": 2.0, "x264_preset": "ultrafast"}


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """(host:port, home folder, picture log)."""
    root = tmp_path_factory.mktemp("recovery")
    home, log = root / "home", root / "pictures.log"
    env = dict(VIDGEN_API_KEYS=f"alice:{KEY}", VIDGEN_STORAGE=str(home))
    factories = {"image": partial(SlowImageBackend, latency_s=0.05, log_path=str(log))}
    with job_service(env, factories) as address:
        yield address, home, log


def call(service, method: str, path: str, body=None):
    """(status, parsed JSON or raw bytes) of one real HTTP request."""
    status, _, content = request(service[0], method, path, body, key=KEY)
    return status, content


def wait(service, job_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, job = call(service, "GET", f"/v1/jobs/{job_id}")
        assert status == 200, job
        if job["status"] in ("done", "failed", "cancelled"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish: {job}")


@pytest.mark.ray
@pytest.mark.ffmpeg
@pytest.mark.slow
def test_a_done_job_whose_outputs_were_cleaned_is_made_again_by_a_retry(service):
    _, home, log = service
    status, job = call(service, "POST", "/v1/jobs", {"script": SCRIPT, "settings": SETTINGS})
    assert status == 202, job
    done = wait(service, job["id"])
    assert done["status"] == "done", done["error"]
    status, first = call(service, "GET", f"/v1/jobs/{job['id']}/video")
    assert status == 200 and first[4:8] == b"ftyp"

    status, body = call(service, "POST", f"/v1/jobs/{job['id']}/retry")
    assert status == 409 and "outputs exist" in body["error"]["message"], body

    pictures = log.read_text(encoding="utf-8").splitlines()
    shutil.rmtree(home / "outputs" / job["id"])  # a cleanup took the results away
    status, body = call(service, "GET", f"/v1/jobs/{job['id']}/video")
    assert status == 404 and "retry the job" in body["error"]["message"], body

    status, again = call(service, "POST", f"/v1/jobs/{job['id']}/retry")
    assert status == 202 and again["status"] in ("queued", "running", "done"), again
    redone = wait(service, job["id"])
    assert redone["status"] == "done", redone["error"]
    assert redone["scenes"] == ["done", "done"] and redone["error"] is None
    status, video = call(service, "GET", f"/v1/jobs/{job['id']}/video")
    assert status == 200 and video == first  # the same parts, muxed again: the same file
    status, _ = call(service, "GET", f"/v1/jobs/{job['id']}/manifest")
    assert status == 200
    # Only what was missing was made: no picture twice.
    assert log.read_text(encoding="utf-8").splitlines() == pictures
    status, body = call(service, "POST", f"/v1/jobs/{job['id']}/retry")
    assert status == 409, body  # its outputs are back


@pytest.mark.s3
def test_with_s3_results_a_done_job_is_retried_only_when_an_object_is_gone(tmp_path,
                                                                          monkeypatch):
    import boto3
    from moto.server import ThreadedMotoServer

    from vidgen_ray.farm.home import output_key
    from vidgen_ray.farm.jobs import JobRecord, JobStatus
    from vidgen_ray.farm.journal import HomeJournal
    from vidgen_ray.pipeline.manifest import file_digest

    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        endpoint = "http://{}:{}".format(*server.get_host_and_port())
        s3 = boto3.client("s3", endpoint_url=endpoint)
        s3.create_bucket(Bucket="results")
        journal = HomeJournal(str(tmp_path / "home"), "s3://results/farm", endpoint)
        video = tmp_path / "video.mp4"
        video.write_bytes(b"a video")
        key = output_key("video", file_digest(video))
        journal.store.put_file(key, video)
        record = JobRecord(out_dir=str(tmp_path / "out"), status=JobStatus.done,
                           outputs={"video": key})
        assert not journal.outputs_missing(record)  # the bucket's copy is what the API serves
        (name,) = [o["Key"] for o in s3.list_objects_v2(Bucket="results")["Contents"]]
        s3.delete_object(Bucket="results", Key=name)
        assert journal.outputs_missing(record)
    finally:
        server.stop()
