"""The job service's error answers: one shape for all (``{"error": {"type", "message",
"field"}}``, service.error_body), the headers each status carries (Retry-After,
WWW-Authenticate, Allow), and no server detail in a message: no paths, exception classes or
operator settings (those go to the log; an unexpected error answers only an id that is
logged with its traceback). api.py installs these on its app and documents the answers
with ``error_responses``.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from vidgen_ray.errors import (
    AnalysisKeyError,
    AnalysisQuotaError,
    FarmSaturated,
    FarmUnavailable,
    VidgenError,
)
from vidgen_ray.service import requests as service
from vidgen_ray.service.guard import internal_error, json_error_message
from vidgen_ray.service.requests import ErrorBody

log = logging.getLogger("vidgen.api")

RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again.",
                               "schema": {"type": "string"}}}
ERROR_HEADERS = {429: RETRY_AFTER, 503: RETRY_AFTER, 401: {"WWW-Authenticate": {
    "description": "Bearer", "schema": {"type": "string"}}}}


def error_responses(*codes: int) -> dict:
    """The error answers of a route, each with the headers the server sends with it."""
    return {code: {"model": ErrorBody, **({"headers": ERROR_HEADERS[code]}
                                          if code in ERROR_HEADERS else {})}
            for code in codes}


# ---- errors: one shape for all, with no server detail (paths, classes, operator settings) ---

async def vidgen_error(request: Request, exc: VidgenError) -> JSONResponse:
    headers = {}
    message = exc.message
    if isinstance(exc, FarmSaturated):
        headers["Retry-After"] = str(max(1, round(exc.retry_after)))
    elif isinstance(exc, FarmUnavailable):
        headers["Retry-After"] = "5"
    elif isinstance(exc, AnalysisQuotaError):  # the model's quota: a minute is its window
        headers["Retry-After"] = "60"
    elif exc.http_status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    field, status = getattr(exc, "field", None), exc.http_status
    if isinstance(exc, AnalysisKeyError):
        # The operator's key is missing or refused: the detail (which variable) is theirs, in
        # the log; the caller can still choose the local analyser, so it is the request's 422.
        log.error("the language-model key does not work: %s", exc.message)
        message = ("this service's language-model key is missing or refused, so it cannot "
                   "analyse scripts with a model now: set settings.llm to local, or ask the "
                   "service's operator")
        field, status = "settings.llm", 422
    body = service.error_body(type(exc).__name__, message, field)
    return JSONResponse(body, status_code=status, headers=headers)


async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    error = exc.errors()[0]
    if error.get("type") == "json_invalid":  # loc is ("body", offset): name line and column
        doc = exc.body if isinstance(exc.body, str) else ""
        message = json_error_message(error.get("ctx", {}).get("error", "cannot parse it"),
                                     doc, int(error["loc"][-1]))
        return JSONResponse(service.error_body("ValidationError", message), status_code=422)
    loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path")]
    field = ".".join(loc) or None
    given = f" (got {error['input']!r:.80})" if "input" in error and loc else ""
    message = f"{field or 'request'}: {error['msg']}{given}"
    return JSONResponse(service.error_body("ValidationError", message, field), status_code=422)


async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
    kind = "NotFoundError" if exc.status_code == 404 else "HTTPError"
    headers = dict(getattr(exc, "headers", None) or {})
    message = str(exc.detail)
    if exc.status_code == 404:
        message = f"no such endpoint: {request.url.path[:200]}: see /openapi.json"
    elif exc.status_code == 405:  # Allow names every route on this path, not only the first
        allowed = _allowed_methods(request.app.routes, request.url.path)
        headers["Allow"] = ", ".join(allowed)
        message = (f"{request.method[:20]} is not allowed on {request.url.path[:200]}: use "
                   f"{' or '.join(allowed)}")
    elif exc.status_code == 400 and "parsing the body" in message:  # e.g. not UTF-8
        message = "the request body is not valid JSON text (UTF-8): send a JSON object"
    return JSONResponse(service.error_body(kind, message), status_code=exc.status_code,
                        headers=headers)


def _allowed_methods(routes: list, path: str) -> list[str]:
    """The methods of the routes with the path template that takes ``path`` first (the
    first match in routing order, as Starlette picks), e.g. GET and POST on /v1/jobs."""
    matching = [r for r in _flat(routes) if getattr(r, "methods", None)
                and getattr(r, "path_regex", None) is not None and r.path_regex.match(path)]
    if not matching:
        return []
    return sorted({m for r in matching if r.path == matching[0].path for m in r.methods})


def _flat(routes: list) -> list:
    """The routes in order, with FastAPI's include_router nodes (how Serve binds the class's
    routes in the replica) opened."""
    flat = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        flat.extend(_flat(inner.routes) if inner is not None else [route])
    return flat


async def bug(request: Request, exc: Exception) -> JSONResponse:
    message = internal_error(request.method, request.url.path, exc)
    return JSONResponse(service.error_body("InternalError", message), status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    """Before serve.ingress(app), which takes the app as it is then."""
    app.add_exception_handler(VidgenError, vidgen_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, bug)
