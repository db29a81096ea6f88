"""Content keys: the sha256 of everything that determines an artifact (pure)."""

from __future__ import annotations

import hashlib
import json
import re

_KIND = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_DIGEST = re.compile(r"[0-9a-f]{64}")


def content_key(kind: str, **fields) -> str:
    """``kind/<sha256>``: equal inputs give equal keys in every process, run and machine."""
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                           default=str)
    return f"{kind}/{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"


def split_key(key: str) -> tuple[str, str]:
    """(kind, digest) of a content key. Anything else is refused, so a key that came from
    outside (a request, a record) can never name a path or object outside the store."""
    kind, _, digest = str(key).partition("/")
    if not (_KIND.fullmatch(kind) and _DIGEST.fullmatch(digest)):
        raise ValueError(f"not a content key: {key!r} (expected kind/<64 hex digits>)")
    return kind, digest
