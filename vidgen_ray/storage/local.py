"""LocalStore: artifacts as files in a folder, written atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from vidgen_ray.errors import OutputError
from vidgen_ray.storage.keys import split_key


class LocalStore:
    def __init__(self, root: Path, suffixes: dict[str, str] | None = None):
        self.root = Path(root)
        self.suffixes = suffixes or {}  # kind -> file suffix, so parts open in a player

    def path(self, key: str) -> Path:
        kind, digest = split_key(key)
        return self.root / kind / (digest + self.suffixes.get(kind, ""))

    def has(self, key: str) -> bool:
        return self.path(key).is_file()

    def get(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def put(self, key: str, data: bytes) -> Path:
        """Write, then rename: a reader never sees half a file, a crash leaves no part."""
        target = self.path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.chmod(tmp, 0o644)  # mkstemp makes 0600; parts are ordinary files
            os.replace(tmp, target)
        except OSError as exc:
            raise OutputError(f"cannot write {target}: {exc.strerror}: choose a writable "
                              "output folder with -o") from exc
        return target
