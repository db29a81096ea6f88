"""manifest.json: what made a video, with what settings and seeds, how long it took, and the
sha256 of every file, so a render can be checked, compared and reproduced; and its notes:
what the render did otherwise than the storyboard asked, and why."""

from __future__ import annotations

import hashlib
import json
import platform
from pathlib import Path

from vidgen_ray.config import RenderSettings
from vidgen_ray.storyboard import Storyboard


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build_manifest(*, version: str, storyboard: Storyboard, settings: RenderSettings,
                   backends: dict[str, str], voices: dict[str, str], video: dict,
                   timings: dict[str, float], artifacts: list[Path], parts: dict[str, Path],
                   loudness: dict, notes: list[str] | None = None) -> dict:
    return {
        "vidgen_ray": version,
        "python": platform.python_version(),
        "title": storyboard.title,
        "backends": backends,
        "settings": settings.for_manifest(),
        "seeds": {
            "render": settings.seed,
            "characters": {c.name: c.seed for c in storyboard.characters},
            "scenes": [storyboard.scene_seed(i) for i in range(len(storyboard.scenes))],
        },
        "voices": voices,
        "video": video,
        "loudness": loudness,
        "timings": {stage: round(seconds, 3) for stage, seconds in timings.items()},
        "artifacts": {p.name: {"sha256": file_digest(p), "bytes": p.stat().st_size}
                      for p in artifacts},
        "parts": {key: file_digest(path) for key, path in sorted(parts.items())},
        "notes": list(notes or []),
    }


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
