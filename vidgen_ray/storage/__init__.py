"""Where artifacts live, addressed by the content that determines them: a folder
(LocalStore) or an S3 bucket (S3Store, imported only when asked for: it needs boto3)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from vidgen_ray.storage.keys import content_key, split_key
from vidgen_ray.storage.local import LocalStore

if TYPE_CHECKING:
    from vidgen_ray.storage.s3 import S3Store

__all__ = ["LocalStore", "content_key", "open_store", "split_key"]


def open_store(location: str | Path, suffixes: dict[str, str] | None = None,
               endpoint_url: str | None = None) -> LocalStore | S3Store:
    """``s3://bucket/prefix`` opens an S3Store; anything else is a folder."""
    if str(location).startswith("s3://"):
        from vidgen_ray.storage.s3 import S3Store

        return S3Store(str(location), suffixes, endpoint_url=endpoint_url)
    return LocalStore(Path(location), suffixes)
