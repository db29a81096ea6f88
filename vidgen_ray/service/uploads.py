"""A service job's own media: pictures, clips and music uploaded with the job request.

The service never reads a path of its own for a client: every media path a storyboard or
the music setting names must be a file uploaded with the job (the request's ``media``: file
name -> base64). Uploads are size-capped and checked like a local render's before the job is
queued (in a temporary folder, removed at once: the replica keeps nothing); errors name the
file as the client named it. The job then names each upload by its key, the sha256 of its
bytes (farm/home.py: media_key), and the bytes go to the farm with it, which keeps them in
its home's parts/media (so a retry or a resumed farm finds them) and names them by path
there: the replica and the farm may run on different nodes.
"""

from __future__ import annotations

import base64
import binascii
import tempfile
from pathlib import Path

from vidgen_ray.errors import MediaError, TooLargeError
from vidgen_ray.farm.home import media_key
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


def check(storyboard: Storyboard, music: str | None, uploads: dict[str, str], cap: int
          ) -> tuple[Storyboard, str | None, dict[str, bytes]]:
    """The storyboard and music setting with every media name replaced by its upload's key,
    and the uploads they name (key -> bytes), all checked; a name that was not uploaded is
    refused (422)."""
    named = media.references(storyboard, music)
    files = decode(uploads, cap)
    for name in named:
        if name not in files:
            raise MediaError(f"{name!r} is not a file uploaded with this job: put it in the "
                             "request's 'media' (file name -> base64 bytes) and name it so; "
                             "the service reads no path of its own")
    keys = {name: media_key(files[name], name) for name in named}
    _check_files(storyboard, music, {name: files[name] for name in named}, keys)
    storyboard = media.resolve(storyboard, keys.__getitem__)
    return storyboard, keys.get(music, music), {keys[name]: files[name] for name in named}


def _check_files(storyboard: Storyboard, music: str | None, files: dict[str, bytes],
                 keys: dict[str, str]) -> None:
    """media.check on the uploads, written to a temporary folder that is removed after."""
    if not files:
        return
    with tempfile.TemporaryDirectory(prefix="vidgen-upload-") as folder:
        paths = {name: str(Path(folder) / keys[name]) for name in files}
        for name, data in files.items():
            Path(paths[name]).write_bytes(data)  # two names, same bytes: one file
        shown = {path: name for name, path in paths.items()}
        media.check(media.resolve(storyboard, paths.__getitem__), paths.get(music, music),
                    shown=lambda path: shown.get(path, "?"))
