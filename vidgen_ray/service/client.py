"""A client of the job service (api.py) over plain HTTP, for the CLI and for scripts.

Standard library only (urllib): the client side installs nothing. Error answers become
``ServiceError`` carrying the service's status, type, message and Retry-After.
"""

from __future__ import annotations

import json
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

from vidgen_ray.errors import ServiceError, VidgenError

FINAL = ("done", "failed", "cancelled")
SUBMIT_TIMEOUT_S = 600.0


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # 307s are followed by hand, without our Authorization header


class ServiceClient:
    def __init__(self, url: str, api_key: str | None = None, timeout: float = 60.0):
        if not url.startswith(("http://", "https://")):
            raise VidgenError(f"the service URL {url!r} must start with http:// or https://: "
                              "pass --url or set VIDGEN_URL")
        self.url, self.api_key, self.timeout = url.rstrip("/"), api_key, timeout
        self._opener = urllib.request.build_opener(_NoRedirect)

    def submit(self, script: Path, settings: dict | None = None, priority: int = 0,
               idempotency_key: str | None = None) -> dict:
        """Send a script file (or a storyboard .json, rendered as written)."""
        script = Path(script)
        try:
            text = script.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise VidgenError(f"cannot read {script}: {exc.strerror}") from exc
        body: dict = {"settings": settings or {}, "priority": priority}
        if script.suffix.lower() == ".json":
            body["storyboard"] = json.loads(text)
        else:
            body |= {"script": text, "filename": script.name}
        if idempotency_key:
            body["idempotency_key"] = idempotency_key
        body["media"] = own_media(script, body, settings or {})
        # The service analyses the script before it answers: with a model (--llm) that can
        # take minutes, so a submit waits longer than other calls.
        return self._json("POST", "/v1/jobs", body, max(self.timeout, SUBMIT_TIMEOUT_S))

    def status(self, job_id: str) -> dict:
        return self._json("GET", f"/v1/jobs/{_quote(job_id)}")

    def jobs(self, state: str | None = None, offset: int = 0, limit: int | None = None) -> dict:
        query = {k: v for k, v in (("state", state), ("offset", offset), ("limit", limit))
                 if v is not None}
        return self._json("GET", "/v1/jobs?" + urllib.parse.urlencode(query))

    def cancel(self, job_id: str) -> dict:
        return self._json("DELETE", f"/v1/jobs/{_quote(job_id)}")

    def retry(self, job_id: str) -> dict:
        return self._json("POST", f"/v1/jobs/{_quote(job_id)}/retry")

    def wait(self, job_id: str, progress: Callable[[dict], None] | None = None,
             poll_s: float = 1.0) -> dict:
        """Poll until the job is done, failed or cancelled; a restarting farm (503) is
        waited out, not reported."""
        while True:
            try:
                job = self.status(job_id)
            except ServiceError as exc:
                if exc.http_status != 503:
                    raise
                time.sleep(exc.retry_after or poll_s)
                continue
            if progress:
                progress(job)
            if job["status"] in FINAL:
                return job
            time.sleep(poll_s)

    def fetch(self, job_id: str, out: Path, output: str = "video") -> Path:
        """Download a result to ``out`` (written whole, then renamed)."""
        response = self._open("GET", f"/v1/jobs/{_quote(job_id)}/{output}")
        if response.status == 307:  # a presigned link: it carries its own authorisation
            location = response.headers["Location"]
            response.close()
            response = urllib.request.urlopen(location, timeout=self.timeout)
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(f".{out.name}.part")
        with response, partial.open("wb") as file:
            shutil.copyfileobj(response, file, 1 << 20)
        partial.replace(out)
        return out

    def _json(self, method: str, path: str, body: dict | None = None,
              timeout: float | None = None) -> dict:
        try:
            with self._open(method, path, body, timeout) as response:
                return json.loads(response.read())
        except TimeoutError:  # the answer started and then stalled
            raise self._timed_out(method, timeout) from None

    def _timed_out(self, method: str, timeout: float | None) -> ServiceError:
        hint = ("; the job may still have been queued: list jobs before sending it again, "
                "and pass --idempotency-key so a resend cannot make a second job"
                if method == "POST" else ": try again, or raise VIDGEN_TIMEOUT")
        return ServiceError(f"the job service at {self.url} did not answer within "
                            f"{timeout or self.timeout:g} s{hint}", 504)

    def _open(self, method: str, path: str, body: dict | None = None,
              timeout: float | None = None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.api_key:
            request.add_header("Authorization", f"Bearer {self.api_key}")
        try:
            return self._opener.open(request, timeout=timeout or self.timeout)
        except TimeoutError:
            raise self._timed_out(method, timeout) from None
        except urllib.error.HTTPError as exc:
            if exc.code == 307:
                return exc  # an HTTPError is also the response: headers, body
            raise _service_error(exc) from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise self._timed_out(method, timeout) from None
            raise ServiceError(f"cannot reach the job service at {self.url}: {exc.reason}: "
                               "check --url / VIDGEN_URL and that it runs", 503) from None


def _service_error(exc: urllib.error.HTTPError) -> ServiceError:
    try:
        error = json.loads(exc.read())["error"]
    except (ValueError, KeyError, TypeError):
        error = {"type": "HTTPError", "message": f"HTTP {exc.code} {exc.reason}"}
    retry = exc.headers.get("Retry-After")
    return ServiceError(error["message"], exc.code, error.get("type", "HTTPError"),
                        error.get("field"), float(retry) if retry else None)


def own_media(script: Path, body: dict, settings: dict) -> dict[str, str]:
    """The pictures, clips and music the script (read here with the local analyser) or
    storyboard names, found beside it (--music: in the current folder), in base64 by the
    names as written: the service reads no path of its own. Files not found are left out,
    and the service names them."""
    import base64

    from vidgen_ray.analysis import analyze_script
    from vidgen_ray.errors import ScriptError
    from vidgen_ray.pipeline import media
    from vidgen_ray.storyboard import Storyboard

    try:
        board = (Storyboard.model_validate(body["storyboard"]) if "storyboard" in body
                 else analyze_script(body["script"], body["filename"]))
    except (ScriptError, ValueError):
        board = Storyboard()  # the service says what is wrong with it
    music = settings.get("music")
    found = {}
    for name in media.references(board, music):
        path = Path(name) if name == music else script.parent / name
        if path.is_file():
            found[name] = base64.b64encode(path.read_bytes()).decode("ascii")
    return found


def _quote(job_id: str) -> str:
    return urllib.parse.quote(job_id, safe="")
