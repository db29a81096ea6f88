"""S3Store against a real S3 server on loopback (moto in server mode) through boto3."""

from __future__ import annotations

import hashlib
import os
import urllib.request

import pytest

from vidgen_ray.errors import OutputError, SettingsError
from vidgen_ray.storage import content_key, open_store
from vidgen_ray.storage.s3 import MIB, PART_SIZE, parse_s3_url

pytestmark = pytest.mark.s3

BUCKET = "vidgen-test"


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                             "AWS_DEFAULT_REGION", "AWS_PROFILE")}
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                      AWS_DEFAULT_REGION="us-east-1")
    os.environ.pop("AWS_PROFILE", None)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture
def store(s3_endpoint):
    urllib.request.urlopen(urllib.request.Request(f"{s3_endpoint}/moto-api/reset",
                                                  method="POST")).read()
    import boto3

    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=BUCKET)
    return open_store(f"s3://{BUCKET}/farm/parts", {"video": ".mp4"},
                      endpoint_url=s3_endpoint)


def test_s3_urls_are_parsed_and_bad_ones_refused():
    assert parse_s3_url("s3://my-bucket") == ("my-bucket", "")
    assert parse_s3_url("s3://my-bucket/a/b/") == ("my-bucket", "a/b/")
    for bad in ("http://x/y", "s3://Bad_Bucket/x", "s3://ok-bucket/a/../b", "s3://b"):
        with pytest.raises(SettingsError):
            parse_s3_url(bad)


def test_put_get_has_round_trip_under_the_prefix(store):
    key = content_key("video", n=1)
    assert not store.has(key)
    url = store.put(key, b"an mp4")
    assert url == f"s3://{BUCKET}/farm/parts/{key}.mp4"
    assert store.has(key) and store.get(key) == b"an mp4"
    objects = store.client.list_objects_v2(Bucket=BUCKET)["Contents"]
    assert [o["Key"] for o in objects] == [f"farm/parts/{key}.mp4"]


def test_missing_objects_and_odd_keys(store):
    with pytest.raises(FileNotFoundError):
        store.get(content_key("video", n=2))
    for bad in ("video/../../etc", "video", "../x/" + "a" * 64, "video/" + "g" * 64):
        with pytest.raises(ValueError):
            store.object_key(bad)


def test_large_files_go_up_in_parts(store, tmp_path):
    data = os.urandom(11 * MIB)  # two 8 MiB parts: 8 + 3
    big = tmp_path / "big.mp4"
    big.write_bytes(data)
    key = content_key("video", n=3)
    store.put_file(key, big)
    head = store.client.head_object(Bucket=BUCKET, Key=store.object_key(key))
    assert head["ContentLength"] == len(data)
    assert head["ETag"].strip('"').endswith("-2"), "expected a two-part multipart upload"
    assert hashlib.sha256(store.get(key)).digest() == hashlib.sha256(data).digest()
    assert store.client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    copy = store.download(key, tmp_path / "copy" / "big.mp4")
    assert copy.read_bytes() == data and not list(copy.parent.glob(".tmp-*"))


def test_one_part_goes_up_in_one_request(store):
    key = content_key("video", n=7)
    store.put(key, b"x" * PART_SIZE)
    head = store.client.head_object(Bucket=BUCKET, Key=store.object_key(key))
    assert head["ContentLength"] == PART_SIZE and "-" not in head["ETag"]


@pytest.mark.parametrize("good_reads", [1, 3])  # fails with the first part, or after two
def test_a_failed_multipart_upload_is_aborted(store, good_reads):
    key = content_key("video", n=4)

    class Broken:
        def __init__(self):
            self.reads = 0

        def read(self, size):
            self.reads += 1
            if self.reads > good_reads:
                raise OSError("disk went away")
            return b"x" * size

    with pytest.raises(OSError, match="disk went away"):
        store.put_stream(key, Broken(), 40 * MIB)
    assert store.client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    assert not store.has(key)


def test_presigned_link_downloads_over_http(store):
    key = content_key("video", n=5)
    store.put(key, b"the video bytes")
    link = store.presigned_url(key, expires=60, filename="video.mp4")
    assert "X-Amz-Signature" in link or "Signature" in link
    with urllib.request.urlopen(link) as answer:
        assert answer.read() == b"the video bytes"
        assert 'filename="video.mp4"' in answer.headers.get("Content-Disposition", "")


def test_a_missing_bucket_is_a_clear_error(s3_endpoint):
    store = open_store("s3://no-such-bucket/x", endpoint_url=s3_endpoint)
    with pytest.raises(OutputError, match="does not exist"):
        store.put(content_key("video", n=6), b"x")
