"""S3Store: artifacts as objects under ``s3://bucket/prefix``, on AWS or any S3-compatible
store (MinIO, Ceph, R2...) through ``endpoint_url``.

Same keys and same answers as LocalStore (has/get/put), plus what a remote store needs:
multipart upload for large files through boto3's managed transfer (parts go up a few at a
time; a part fails alone and is retried by botocore, not the whole file; a failed upload is
aborted, leaving no parts to bill for) and presigned links, so an HTTP client downloads a
video straight from the bucket instead of through the farm.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import BinaryIO

from vidgen_ray.errors import DependencyError, OutputError, SettingsError
from vidgen_ray.storage.keys import split_key

MIB = 1024 * 1024
PART_SIZE = 8 * MIB  # S3's minimum part is 5 MiB (except the last); 8 is boto3's default
# Parts in flight at once: a render node's uplink is the limit, and a stream that cannot seek
# holds each part in memory while it goes up (4 x 8 MiB).
CONCURRENCY = 4
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


def parse_s3_url(url: str) -> tuple[str, str]:
    """(bucket, prefix) of ``s3://bucket/some/prefix``; the prefix ends with ``/`` or is
    empty (pure)."""
    if not url.startswith("s3://"):
        raise SettingsError(f"not an S3 location: {url!r}: write s3://bucket/prefix",
                            field="storage")
    bucket, _, prefix = url[len("s3://"):].partition("/")
    if not _BUCKET.fullmatch(bucket):
        raise SettingsError(f"{bucket!r} is not a valid S3 bucket name (3-63 lower-case "
                            "letters, digits, dots and hyphens)", field="storage")
    prefix = prefix.strip("/")
    if any(part in ("", ".", "..") for part in prefix.split("/")) and prefix:
        raise SettingsError(f"the prefix {prefix!r} has an empty, '.' or '..' part",
                            field="storage")
    return bucket, f"{prefix}/" if prefix else ""


class S3Store:
    def __init__(self, url: str, suffixes: dict[str, str] | None = None,
                 endpoint_url: str | None = None, part_size: int = PART_SIZE, client=None,
                 concurrency: int = CONCURRENCY):
        self.url = url.rstrip("/")
        self.bucket, self.prefix = parse_s3_url(url)
        self.suffixes = suffixes or {}
        if part_size < 5 * MIB:
            raise SettingsError("S3 parts must be at least 5 MiB", field="part_size")
        self.part_size, self.concurrency = part_size, concurrency
        self.client = client or _client(endpoint_url)

    def object_key(self, key: str) -> str:
        kind, digest = split_key(key)
        return f"{self.prefix}{kind}/{digest}{self.suffixes.get(kind, '')}"

    def has(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except self._errors.ClientError as exc:
            if _status(exc) == 404:
                return False
            raise self._failure("look up", key, exc) from exc
        return True

    def get(self, key: str) -> bytes:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.object_key(key))
            return answer["Body"].read()
        except self._errors.ClientError as exc:
            if _status(exc) == 404:
                raise FileNotFoundError(f"{self.url}/{self.object_key(key)}") from exc
            raise self._failure("read", key, exc) from exc

    def put(self, key: str, data: bytes) -> str:
        """Store ``data``; above one part it goes up in parts. Returns the object's URL.
        S3 makes an object visible only once complete, so readers never see half of it."""
        import io

        return self.put_stream(key, io.BytesIO(data), len(data))

    def put_file(self, key: str, path: Path) -> str:
        """Store a file without reading it into memory at once (each part is read from the
        file by the thread that sends it)."""
        path = Path(path)
        return self._upload(key, str(path), path.stat().st_size)

    def put_stream(self, key: str, stream: BinaryIO, size: int) -> str:
        """Store ``size`` bytes read from ``stream``."""
        return self._upload(key, stream, size)

    def _upload(self, key: str, source: str | BinaryIO, size: int) -> str:
        """One request up to one part, else a multipart upload, aborted if anything fails
        (the error is raised as it came)."""
        target = self.object_key(key)
        try:
            with _transfer_manager(self.client, self.part_size, self.concurrency) as manager:
                manager.upload(source, self.bucket, target,
                               subscribers=[_known_size(size)]).result()
        except self._errors.ClientError as exc:
            raise self._failure("write", key, exc) from exc
        return f"s3://{self.bucket}/{target}"

    def presigned_url(self, key: str, expires: int = 3600, filename: str | None = None) -> str:
        """A link that anyone holding it can GET for ``expires`` seconds."""
        params = {"Bucket": self.bucket, "Key": self.object_key(key)}
        if filename:
            params["ResponseContentDisposition"] = f'attachment; filename="{filename}"'
        return self.client.generate_presigned_url("get_object", Params=params,
                                                  ExpiresIn=expires)

    def download(self, key: str, path: Path) -> Path:
        """Copy an object to a local file (FFmpeg reads files), written atomically."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".tmp-{path.name}")
        try:
            self.client.download_file(self.bucket, self.object_key(key), str(partial))
        except self._errors.ClientError as exc:
            partial.unlink(missing_ok=True)
            raise self._failure("download", key, exc) from exc
        partial.replace(path)
        return path

    @property
    def _errors(self):
        import botocore.exceptions

        return botocore.exceptions

    def _failure(self, action: str, key: str, exc: Exception) -> OutputError:
        status = _status(exc)
        where = f"s3://{self.bucket}/{self.object_key(key)}"
        if status in (401, 403):
            hint = ("the credentials may not use this bucket: check AWS_ACCESS_KEY_ID / "
                    "AWS_PROFILE and the bucket policy (s3:GetObject, s3:PutObject)")
        elif status == 404:
            hint = f"the bucket {self.bucket!r} does not exist: create it or fix the URL"
        else:
            hint = "check the endpoint and the network"
        return OutputError(f"cannot {action} {where}: {exc}: {hint}")


def _status(exc: Exception) -> int | None:
    response = getattr(exc, "response", None) or {}
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    code = response.get("Error", {}).get("Code")
    if code in ("NoSuchKey", "NoSuchBucket", "404"):
        return 404
    return status


def _transfer_manager(client, part_size: int, concurrency: int):
    """boto3's managed transfer: a single request up to ``part_size`` bytes, above it parts of
    ``part_size``, ``concurrency`` at a time."""
    from boto3.s3.transfer import TransferConfig, create_transfer_manager

    config = TransferConfig(multipart_threshold=part_size + 1,  # one part fits one request
                            multipart_chunksize=part_size, max_concurrency=concurrency,
                            preferred_transfer_client="classic")
    return create_transfer_manager(client, config)


def _known_size(size: int):
    """A transfer subscriber that gives the stream's size, so the transfer neither seeks nor
    reads ahead to learn it (a stream may not seek)."""
    from s3transfer.subscribers import BaseSubscriber

    class KnownSize(BaseSubscriber):
        def on_queued(self, future, **kwargs):
            future.meta.provide_transfer_size(size)

    return KnownSize()


def _client(endpoint_url: str | None):
    try:
        import boto3
        from botocore.config import Config
    except ImportError as exc:
        raise DependencyError(
            "S3 storage needs boto3: pip install 'vidgen-ray[s3]'") from exc
    # Path-style addressing works with every S3-compatible store; AWS accepts it too.
    config = Config(s3={"addressing_style": "path"}, retries={"mode": "standard"})
    return boto3.client("s3", endpoint_url=endpoint_url, config=config)
