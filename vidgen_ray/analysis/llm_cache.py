"""Cached analyses: a storyboard per hash of the script, the backend, the model and every
setting that shapes the answer, so re-rendering an unchanged script calls no model."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from pydantic import ValidationError

from vidgen_ray.storyboard import Storyboard


def cache_key(text: str, filename: str | None, shaping: dict) -> str:
    """sha256 of the script and of what shapes the answer (backend, model, temperature,
    max tokens, rewrite, base URL, prompt version, storyboard schema)."""
    payload = json.dumps({"script": text, "filename": filename, **shaping}, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class AnalysisCache:
    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def _path(self, key: str) -> Path:
        return self.folder / "analyses" / f"{key}.json"

    def get(self, key: str) -> Storyboard | None:
        try:
            return Storyboard.model_validate_json(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValidationError):
            return None  # absent, or from an older schema: analyse again

    def put(self, key: str, storyboard: Storyboard) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=path.parent, suffix=".part")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(storyboard.model_dump_json(indent=1))
        os.replace(temp, path)  # atomic: a reader sees the old file or the whole new one
