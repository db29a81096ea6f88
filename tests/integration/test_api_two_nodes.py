"""The job service and its farm on two nodes: the Serve replica reads no disk of the farm's.

A two-node ``ray.cluster_utils.Cluster`` on loopback: the farm is pinned to the head (custom
resource ``farm_node``), the replica to the other node (``api_node``), and the replica's own
VIDGEN_STORAGE names an empty folder, so every scene, part and file it serves must come from
the farm. The farm's home holds one finished job, taken up by the farm when it starts; a job
sent with its own picture and music renders there, from the uploads the farm keeps."""

from __future__ import annotations

import base64
import http.client
import io
import json
import math
import os
import struct
import subprocess
import time
import wave
from pathlib import Path

import pytest

from vidgen_ray.farm.home import JobHome, StoredRequest
from vidgen_ray.farm.jobs import JobRecord, JobStatus, SceneParts, save_record
from vidgen_ray.pipeline.flow import PART_SUFFIXES
from vidgen_ray.storage import LocalStore
from vidgen_ray.storyboard import Line, Scene, Storyboard
from vidgen_ray.testing.net import free_port

pytestmark = [pytest.mark.ray, pytest.mark.cluster]

JOB = "job-twonodes0001"
PICTURE, SPEECH = "image/" + "a" * 64, "speech/" + "b" * 64
FILES = {"video.mp4": b"not really a video", "subtitles.srt": b"1\n00:00:00,000 --> x\n",
         "subtitles.vtt": b"WEBVTT\n", "storyboard.json": b"{}", "manifest.json": b"{}",
         "stems/speech.flac": b"fLaC"}


def seed_finished_job(home) -> None:
    """A done job as the farm's journal keeps one: its request, record, parts and files."""
    board = Storyboard(scenes=[Scene(title="Harbour", lines=[Line(text="Boats come home.")])])
    JobHome(home).save_request(StoredRequest(id=JOB, storyboard=board))
    out = home / "outputs" / JOB
    for name, data in FILES.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)
    parts = LocalStore(home / "parts", PART_SUFFIXES)
    parts.put(PICTURE, b"\x89PNG picture")
    parts.put(SPEECH, b"RIFF speech")
    record = JobRecord(id=JOB, out_dir=str(out), status=JobStatus.done, scenes=["done"],
                       started=time.time() - 5, finished=time.time(),
                       scene_parts=[SceneParts(image=PICTURE, speech=[SPEECH])])
    save_record(record, home / "parts" / "jobs")


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory):
    """(address of the HTTP proxy, node id of the farm, node id of the replica)."""
    import ray
    from ray import serve
    from ray.cluster_utils import Cluster

    from vidgen_ray.farm.connect import FARM_NAME, FARM_NAMESPACE, farm_actor
    from vidgen_ray.farm.journal import HomeJournal
    from vidgen_ray.service.api import JobService

    root = tmp_path_factory.mktemp("two-nodes")
    home, elsewhere = root / "farm-home", root / "replica-home"
    seed_finished_job(home)
    saved = dict(os.environ)
    os.environ.update(VIDGEN_API_OPEN="1", VIDGEN_STORAGE=str(elsewhere))  # nodes inherit it
    if ray.is_initialized():
        ray.shutdown()
    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "resources": {"farm_node": 1}, "include_dashboard": False})
    cluster.add_node(num_cpus=1, resources={"api_node": 1})
    cluster.wait_for_nodes()
    try:
        ray.init(address=cluster.address, namespace=FARM_NAMESPACE)
        farm = farm_actor(HomeJournal(home), resources={"farm_node": 0.01})
        port = free_port()
        serve.start(proxy_location="HeadOnly",
                    http_options={"host": "127.0.0.1", "port": port})
        replica = JobService.options(ray_actor_options={
            "num_cpus": 0, "resources": {"api_node": 0.01}})
        serve.run(replica.bind(), name="vidgen", route_prefix="/")
        nodes = {info["ActorClassName"]: info["Address"]["NodeID"]  # the GCS's actor table
                 for info in ray._private.state.actors().values() if info["State"] == "ALIVE"}
        yield f"127.0.0.1:{port}", nodes["Farm"], next(
            node for name, node in nodes.items() if name.startswith("ServeReplica:vidgen")
        ), home, elsewhere
        serve.shutdown()
        ray.kill(ray.get_actor(FARM_NAME, namespace=FARM_NAMESPACE), no_restart=True)
        del farm
    finally:
        ray.shutdown()
        cluster.shutdown()
        os.environ.clear()
        os.environ.update(saved)


def get(address: str, path: str, body: dict | None = None) -> tuple[int, dict, bytes]:
    """One real HTTP request: a GET, or a POST of ``body`` as JSON."""
    conn = http.client.HTTPConnection(address, timeout=60)
    if body is None:
        conn.request("GET", path)
    else:
        conn.request("POST", path, body=json.dumps(body).encode(),
                     headers={"Content-Type": "application/json"})
    answer = conn.getresponse()
    body = answer.read()
    conn.close()
    return answer.status, answer.headers, body


def test_the_replica_serves_what_the_farm_on_another_node_holds(two_nodes):
    address, farm_node, replica_node, _, _ = two_nodes
    assert farm_node != replica_node
    status, _, body = get(address, f"/v1/jobs/{JOB}")
    assert status == 200 and json.loads(body)["status"] == "done"

    status, _, body = get(address, f"/v1/jobs/{JOB}/scenes")
    assert status == 200, body
    (scene,) = json.loads(body)
    assert scene["title"] == "Harbour" and scene["lines"] == ["NARRATOR: Boats come home."]
    assert scene["picture"].endswith(f"/v1/jobs/{JOB}/scenes/0/picture")
    status, headers, body = get(address, f"/v1/jobs/{JOB}/scenes/0/picture")
    assert (status, headers["Content-Type"], body) == (200, "image/png", b"\x89PNG picture")
    status, _, body = get(address, f"/v1/jobs/{JOB}/scenes/0/speech/0")
    assert (status, body) == (200, b"RIFF speech")

    status, _, body = get(address, f"/v1/jobs/{JOB}/files")
    assert status == 200 and sorted(json.loads(body)) == sorted(FILES)
    status, headers, body = get(address, f"/v1/jobs/{JOB}/files/stems/speech.flac")
    assert (status, body) == (200, b"fLaC")
    assert headers["Content-Disposition"] == f'attachment; filename="{JOB}-stems-speech.flac"'
    status, headers, body = get(address, f"/v1/jobs/{JOB}/video")
    assert (status, headers["Content-Type"], body) == (200, "video/mp4", FILES["video.mp4"])
    assert get(address, f"/v1/jobs/{JOB}/files/qc.json")[0] == 404


def red_png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 36), (220, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def tone_wav(seconds: float = 1.5, rate: int = 8000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(rate)
        sound.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(i / rate * 2000)))
                                   for i in range(int(seconds * rate))))
    return out.getvalue()


@pytest.mark.ffmpeg
@pytest.mark.slow
def test_a_job_with_its_own_media_renders_on_the_farms_node(two_nodes, tmp_path):
    """The replica checks the uploads and keeps none; the farm, on the other node, keeps
    them in its home and renders from there (its stored request names them there)."""
    address, _, _, home, elsewhere = two_nodes
    picture, tune = red_png(), tone_wav()
    status, _, body = get(address, "/v1/jobs", {
        "script": "# Harbour\n\n![the quay](pics/quay.png)\n\nThe boats come home.",
        "settings": {"resolution": "360p", "fps": 12, "chunk_seconds": 2.0,
                     "music": "tune.wav"},
        "media": {"pics/quay.png": base64.b64encode(picture).decode(),
                  "tune.wav": base64.b64encode(tune).decode()}})
    assert status == 202, body
    job = json.loads(body)
    deadline = time.monotonic() + 180
    while job["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.5)
        job = json.loads(get(address, f"/v1/jobs/{job['id']}")[2])
    assert job["status"] == "done", job["error"]

    kept = sorted(p.read_bytes() for p in (home / "parts" / "media").iterdir())
    assert kept == sorted([picture, tune])
    assert not (elsewhere / "parts" / "media").exists()  # the replica kept nothing
    stored = json.loads((home / "requests" / f"{job['id']}.json").read_text())
    shown = Path(stored["storyboard"]["scenes"][0]["media"]["path"])
    assert shown.parent == (home / "parts" / "media").resolve()
    assert shown.read_bytes() == picture
    assert Path(stored["settings"]["music"]).read_bytes() == tune

    status, _, video = get(address, f"/v1/jobs/{job['id']}/video")
    assert status == 200
    (tmp_path / "video.mp4").write_bytes(video)
    frame = subprocess.run(["ffmpeg", "-v", "error", "-ss", "0.8", "-i",
                            str(tmp_path / "video.mp4"), "-frames:v", "1", "-s", "16x9",
                            "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                           capture_output=True, check=True).stdout
    assert sum(frame[0::3]) / len(frame[0::3]) > 180  # the uploaded picture
    for name in ("storyboard", "manifest"):  # no path of the server's is shown
        text = get(address, f"/v1/jobs/{job['id']}/{name}")[2].decode()
        assert str(home.resolve()) not in text and str(elsewhere) not in text, name
