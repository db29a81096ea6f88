"""Content keys: the sha256 of everything that determines an artifact (pure)."""

from __future__ import annotations

import hashlib
import json


def content_key(kind: str, **fields) -> str:
    """``kind/<sha256>``: equal inputs give equal keys in every process, run and machine."""
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                           default=str)
    return f"{kind}/{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"
