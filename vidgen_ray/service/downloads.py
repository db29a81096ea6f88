"""What the job service sends as files, apart from its routes: a job's results (from the farm,
or a presigned link to S3), its live preview, and the web monitor's page and assets.

No Ray: api.py's routes check the caller and hand in how to read a job's file from the farm.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi.responses import FileResponse, RedirectResponse, Response

from vidgen_ray.errors import DependencyError, NotFoundError
from vidgen_ray.farm.home import OUTPUT_FILES
from vidgen_ray.farm.jobs import JobRecord, JobStatus
from vidgen_ray.service.page_data import media_type

if TYPE_CHECKING:
    from vidgen_ray.storage.s3 import S3Store

log = logging.getLogger("vidgen.api")
MEDIA = {"video": "video/mp4", "subtitles.srt": "application/x-subrip",
         "subtitles.vtt": "text/vtt", "storyboard": "application/json",
         "manifest": "application/json"}
# The web monitor: static files shipped in the package, no build step (README: The web monitor).
WEB = Path(__file__).parent / "web"
WEB_ASSETS = {"app.js": "text/javascript", "style.css": "text/css",
              "hls.min.js": "text/javascript"}
# hls.js, the live preview's player, fetched from the npm registry by scripts/fetch_player.py
# (make installs it); without it the page works and says the live preview needs it.
PLAYER = WEB / "vendor" / "hls.min.js"
PLAYLIST_TYPE = "application/vnd.apple.mpegurl"

ReadFile = Callable[[str], Awaitable[bytes]]  # one file of a job, by its name, from the farm


def attachment(data: bytes, media: str, filename: str) -> Response:
    """A download named as FileResponse names one; outside the class, which Serve pickles."""
    return Response(data, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


async def artifact(job_id: str, name: str, read: ReadFile) -> Response:
    """Any file the job wrote, by its name in the farm's ``files``."""
    data = await read(name)
    return attachment(data, media_type(name), f"{job_id}-{name.replace('/', '-')}")


def check_output(output: str) -> None:
    if output not in OUTPUT_FILES:
        raise NotFoundError(f"no output {output!r}: outputs are {', '.join(OUTPUT_FILES)}")


async def output_file(record: JobRecord, output: str, store: S3Store | None,
                      presign_seconds: int, read: ReadFile) -> Response:
    """A done job's result: a 307 to a presigned link when it was published to S3, else its
    bytes from the farm (a NotFoundError that says to retry when its outputs were cleaned)."""
    job_id = record.id
    if record.status != JobStatus.done:
        raise NotFoundError(f"job {job_id} is {record.status.value}: its {output} "
                            "exists once it is done")
    filename = f"{job_id}-{OUTPUT_FILES[output]}"
    if record.outputs:
        if store is None:
            log.error("job %s has results in S3, but VIDGEN_STORAGE is not an s3:// "
                      "location on this replica", job_id)
            raise DependencyError("this job's results are in storage this service cannot "
                                  "reach now: ask the service's operator")
        url = await asyncio.to_thread(store.presigned_url, record.outputs[output],
                                      presign_seconds, filename)
        return RedirectResponse(url, status_code=307)
    try:
        data = await read(OUTPUT_FILES[output])
    except NotFoundError:
        log.warning("job %s: its %s is missing (outputs cleaned?)", job_id, output)
        raise NotFoundError(f"job {job_id} has no {output} any more: its outputs were "
                            "cleaned; retry the job to make it again") from None
    return attachment(data, MEDIA[output], filename)


async def preview_file(job_id: str, name: str, read: ReadFile) -> Response:
    """A file of the job's live preview, never cached: the playlist changes."""
    try:
        data = await read(name)
    except NotFoundError:
        raise NotFoundError(f"job {job_id}'s live preview has no {name} (yet): ask for the "
                            "segments its preview.m3u8 lists") from None
    return Response(data, media_type=media_type(name), headers={"Cache-Control": "no-cache"})


def web_page() -> FileResponse:
    return FileResponse(WEB / "index.html", media_type="text/html",
                        headers={"Cache-Control": "no-cache"})


def web_asset(asset: str) -> FileResponse:
    if asset not in WEB_ASSETS:
        raise NotFoundError(f"no page asset {asset[:80]!r}")
    path = PLAYER if asset == "hls.min.js" else WEB / asset
    if not path.is_file():
        raise NotFoundError("the live preview's player (hls.js) is not installed on this "
                            "service: run scripts/fetch_player.py (make does)")
    return FileResponse(path, media_type=WEB_ASSETS[asset], headers={"Cache-Control": "no-cache"})
