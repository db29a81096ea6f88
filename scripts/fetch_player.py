#!/usr/bin/env python3
"""Fetch the web page's live-preview player (hls.js) from the npm registry, pinned.

The version, tarball and sha512 come from vidgen_ray/service/web/player.json (the registry's
own `dist.integrity` for that version); the tarball is checked against it before anything is
extracted, and dist/hls.min.js and its LICENSE go to vidgen_ray/service/web/vendor/
(gitignored), which the service serves as /web/hls.min.js. No CDN: the page loads it from
the service itself. Does nothing when the right file is already there. Standard library only.

    python3 scripts/fetch_player.py            # make does this when it installs
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.request
from pathlib import Path

WEB = Path(__file__).resolve().parents[1] / "vidgen_ray" / "service" / "web"
PIN = WEB / "player.json"
VENDOR = WEB / "vendor"


def integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def main() -> int:
    pin = json.loads(PIN.read_text(encoding="utf-8"))
    stamp = VENDOR / "VERSION"
    if stamp.is_file() and stamp.read_text().strip() == pin["integrity"] and all(
            (VENDOR / name).is_file() for name in pin["files"].values()):
        return 0
    print(f"fetching {pin['package']} {pin['version']} from {pin['tarball']}")
    try:
        with urllib.request.urlopen(pin["tarball"], timeout=60) as answer:
            data = answer.read()
    except OSError as exc:
        print(f"could not fetch {pin['tarball']}: {exc}\nthe page works without it, but its "
              "live preview needs it: run scripts/fetch_player.py again when online",
              file=sys.stderr)
        return 1
    if integrity(data) != pin["integrity"]:
        print(f"{pin['tarball']} does not match the sha512 pinned in {PIN}: refusing it",
              file=sys.stderr)
        return 1
    VENDOR.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member, name in pin["files"].items():
            extracted = tar.extractfile(member)  # by name: no path from the archive is used
            if extracted is None:
                print(f"{member} is not a file in the tarball", file=sys.stderr)
                return 1
            part = VENDOR / (name + ".part")
            part.write_bytes(extracted.read())
            part.replace(VENDOR / name)
    stamp.write_text(pin["integrity"] + "\n")
    print(f"{pin['package']} {pin['version']} -> {VENDOR.relative_to(WEB.parents[2])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
