"""What the job service's HTTP layer guards, apart from its routes: a body cap that counts
what is actually read (a chunked body or a lying Content-Length cannot walk around it), the
security headers of the page, and client messages that carry no server detail.

Pure ASGI and strings (no Ray): api.py installs these on its FastAPI app.
"""

from __future__ import annotations

import functools
import json
import logging
import uuid
from collections.abc import Awaitable, Callable

from vidgen_ray.config import ServiceSettings

log = logging.getLogger("vidgen.api")

Scope = dict
Message = dict
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# The page (index.html, app.js, style.css) loads nothing inline and nothing from the network:
# media are shown from blob: URLs. Presigned S3 downloads are fetched from the bucket's own
# origin (any https: host, as the operator's endpoint decides), so connect/media allow https:.
# The live preview's player (hls.js, served from /web/, so script-src 'self') plays through
# Media Source Extensions: the video's source is a blob: URL of a MediaSource, which media-src
# blob: already allows. It runs without its worker (enableWorker: false in app.js): a worker
# from a blob: URL would need worker-src blob:, and the preview's segments are small.
PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: "
            "data:; media-src 'self' blob: https:; connect-src 'self' https:; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
COMMON_HEADERS = ((b"x-content-type-options", b"nosniff"),
                  (b"referrer-policy", b"no-referrer"))
PAGE_HEADERS = ((b"x-frame-options", b"DENY"),
                (b"content-security-policy", PAGE_CSP.encode()))


def is_page(path: str) -> bool:
    return path == "/" or path.startswith("/web/")


def error_json(kind: str, message: str, field: str | None = None) -> bytes:
    return json.dumps({"error": {"type": kind, "message": message, "field": field}}).encode()


@functools.lru_cache(maxsize=1)
def body_cap_bytes() -> int:
    """Far beyond the script limit (JSON escaping may double a script's size, and settings
    and a storyboard come with it, and base64 media take 4 bytes for every 3), and counted
    as the body is read (Guard)."""
    settings = ServiceSettings()
    return 2 * settings.max_script_bytes + 4 * settings.max_media_bytes // 3 + 1024 * 1024


class Guard:
    """Pure ASGI middleware. Counts the body bytes the app reads and answers 413 as soon as
    they pass ``cap()`` (the app then sees a disconnect and its own answer is dropped); a
    declared Content-Length over the cap is refused before anything is read. Adds the common
    headers to every answer and the page's (CSP, X-Frame-Options) to / and /web/*."""

    def __init__(self, app, cap: Callable[[], int]):
        self.app, self.cap = app, cap

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.cap()
        extra = COMMON_HEADERS + (PAGE_HEADERS if is_page(scope.get("path", "")) else ())
        state = {"started": False, "refused": False, "cut": False, "seen": 0}

        async def send_with_headers(message: Message) -> None:
            if state["refused"]:
                return  # our 413 went out; the app's own answer to the cut body is dropped
            if message["type"] == "http.response.start":
                state["started"] = True
                names = {name.lower() for name, _ in message.get("headers", [])}
                message = {**message, "headers": [*message.get("headers", []),
                                                  *(h for h in extra if h[0] not in names)]}
            await send(message)

        declared = _content_length(scope)
        if declared is not None and declared > cap:
            await self._refuse(send_with_headers, declared, cap, state)
            return

        async def counted() -> Message:
            if state["cut"]:  # nothing more is read from this client
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                state["seen"] += len(message.get("body", b""))
                if state["seen"] > cap:
                    state["cut"] = True
                    if not state["started"]:  # else the app's answer is already going out
                        await self._refuse(send_with_headers, state["seen"], cap, state)
                    return {"type": "http.disconnect"}
            return message

        await self.app(scope, counted, send_with_headers)

    @staticmethod
    async def _refuse(send: Send, size: int, cap: int, state: dict) -> None:
        body = error_json("TooLargeError", f"the request body is over {cap} bytes (at least "
                          f"{size} were sent); this service takes at most {cap}: split the "
                          "script into several jobs", "body")
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
        state["refused"] = True


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


def internal_error(method: str, path: str, exc: BaseException) -> str:
    """Log an unexpected error with its traceback under a fresh id; the client message names
    only the id (no exception class, text or path)."""
    error_id = uuid.uuid4().hex
    log.error("unexpected error %s on %s %s", error_id, method, path,
              exc_info=(type(exc), exc, exc.__traceback__))
    return (f"the service hit an unexpected error; it is logged with id {error_id}: "
            "retry, and if it happens again give that id to the service's operator")


def json_error_message(msg: str, doc: str, pos: int) -> str:
    """A readable message for a body that is not JSON (pydantic reports only an offset)."""
    line = doc.count("\n", 0, pos) + 1
    column = pos - (doc.rfind("\n", 0, pos) + 1) + 1
    return f"the request body is not valid JSON: {msg} at line {line} column {column}"


# ---- /docs (off unless VIDGEN_API_DOCS): Swagger UI at a pinned version, checked by hash ----

SWAGGER = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.32.0"
# sha384 of the npm package's files (npm pack swagger-ui-dist@5.32.0): the browser refuses
# any other bytes, so a changed CDN file cannot run on the page where keys are typed.
SWAGGER_JS_SRI = "sha384-7xcoc6ZKDFF7Ek627QTC3Bg/K+5Y36NJ8MWAE43D2m6+3Sh9XO3tdsfHhrS8gNIQ"
SWAGGER_CSS_SRI = "sha384-3nuX7df3EaAoiqLBeyS1Ola0Gpg9ryJKVtarubwfnA1cOH8AWHUdbPSIvEqPZ9VH"
_DOCS_INIT = ('SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", '
              'persistAuthorization: false});')


def docs_page() -> tuple[str, dict[str, str]]:
    """(HTML, headers) of the Swagger UI page; its one inline script is allowed by hash."""
    import base64
    import hashlib

    digest = base64.b64encode(hashlib.sha256(_DOCS_INIT.encode()).digest()).decode()
    html = (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<title>VidGen job service - API</title>'
            f'<link rel="stylesheet" href="{SWAGGER}/swagger-ui.css" '
            f'integrity="{SWAGGER_CSS_SRI}" crossorigin="anonymous"></head><body>'
            f'<div id="swagger-ui"></div><script src="{SWAGGER}/swagger-ui-bundle.js" '
            f'integrity="{SWAGGER_JS_SRI}" crossorigin="anonymous"></script>'
            f'<script>{_DOCS_INIT}</script></body></html>')
    csp = (f"default-src 'none'; script-src https://cdn.jsdelivr.net 'sha256-{digest}'; "
           "style-src https://cdn.jsdelivr.net 'unsafe-inline'; img-src 'self' data: "
           "https://cdn.jsdelivr.net; connect-src 'self'; frame-ancestors 'none'; "
           "base-uri 'none'; form-action 'none'")
    return html, {"Content-Security-Policy": csp, "X-Frame-Options": "DENY",
                  "Cache-Control": "no-cache"}
