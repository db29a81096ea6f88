"""A service job's own media: pictures, clips and music uploaded with the job request.

The service never reads a path of its own for a client: every media path a storyboard or
the music setting names must be a file uploaded with the job (the request's ``media``: file
name -> base64). Uploads are size-capped, kept under the shared parts folder by the sha256
of their bytes (so a retry or a resumed farm finds them), and checked like a local render's
before the job is queued; errors name the file as the client named it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

from vidgen_ray.errors import MediaError, TooLargeError
from vidgen_ray.pipeline import media
from vidgen_ray.storyboard import Storyboard


def decode(uploads: dict[str, str], cap: int) -> dict[str, bytes]:
    """Each upload's bytes, or the 4xx naming the one that is wrong or too large."""
    files, total = {}, 0
    for name, text in uploads.items():
        # A name is only a key the storyboard refers to, never a path on the server.
        if not name or len(name) > 255 or "\x00" in name:
            raise MediaError(f"media {name[:40]!r}: give each file a name of 1 to 255 "
                             "characters, as the script or storyboard names it")
        # 4 base64 characters carry 3 bytes: refuse before decoding what is too large.
        if total + len(text) * 3 // 4 > cap + 3:
            raise TooLargeError(f"the job's media are more than {cap} bytes: send smaller or "
                                "fewer files, or split the job", field="media")
        try:
            files[name] = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise MediaError(f"media {name!r} is not base64: encode the file's bytes as "
                             "base64 (RFC 4648)") from None
        total += len(files[name])
    if total > cap:
        raise TooLargeError(f"the job's media are {total} bytes; this service takes at most "
                            f"{cap}: send smaller or fewer files, or split the job",
                            field="media")
    return files


def place(storyboard: Storyboard, settings: dict[str, Any], uploads: dict[str, str],
          cap: int, folder: Path | None) -> tuple[Storyboard, dict[str, Any]]:
    """The storyboard and settings with every media name replaced by its uploaded file
    (kept in ``folder``), all checked; a name that was not uploaded is refused (422)."""
    named = media.references(storyboard, settings.get("music"))
    files = decode(uploads, cap)
    for name in named:
        if name not in files:
            raise MediaError(f"{name!r} is not a file uploaded with this job: put it in the "
                             "request's 'media' (file name -> base64 bytes) and name it so; "
                             "the service reads no path of its own")
    if not named:
        return storyboard, settings
    if folder is None:
        raise MediaError("this request takes no media: submit them with a job")
    stored = {name: str(_keep(files[name], name, folder)) for name in named}
    shown = {path: name for name, path in stored.items()}
    storyboard = media.resolve(storyboard, stored.__getitem__)
    if settings.get("music") in stored:
        settings = {**settings, "music": stored[settings["music"]]}
    media.check(storyboard, settings.get("music"), shown=lambda path: shown.get(path, "?"))
    return storyboard, settings


def _keep(data: bytes, name: str, folder: Path) -> Path:
    """The upload under ``folder``, named by its sha256 (and the client's extension)."""
    suffix = PurePosixPath(name).suffix.lower()
    suffix = suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ""
    path = folder / f"{hashlib.sha256(data).hexdigest()}{suffix}"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=folder, prefix=".upload.")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temp, path)
    return path
