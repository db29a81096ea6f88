"""One exception tree for the whole project.

Every error names the problem and the fix. ``retryable`` tells the farm whether running the
same work again may succeed; ``http_status`` is what the API answers. ``public`` is the
message for a client of the job service when it differs from the operator's (no server
paths, no program output); ``client_message`` gives it for any exception.

    VidgenError                       (500, not retryable)
    ├── InputError                    (400) the user's input is wrong
    │   ├── ScriptError               script missing, unreadable, empty, nothing to speak
    │   ├── SettingsError             (422) a setting outside its allowed values
    │   ├── MediaError                (422) a picture, clip or music file of the user's own
    │   │                             is missing, unreadable, of the wrong type or too short
    │   └── TooLargeError             (413) a request beyond the service's limits
    ├── AuthError                     (401) no API key, or an unknown one
    ├── ForbiddenError                (403) the key may not see that job
    ├── NotFoundError                 (404) no such job or file
    ├── IllegalTransition             (409) a job or scene state change the tables do not allow
    ├── FarmSaturated                 (429, retryable) the farm's queue is full: try again
    │                                 after ``retry_after`` seconds
    ├── FarmUnavailable               (503, retryable) the farm's actor does not answer in time
    │                                 (it may be restarting)
    ├── DependencyError               (503) a program or extra is not installed: says how
    ├── OutputError                   (500) the output folder cannot be written
    ├── RecordError                   (500) a job record on disk cannot be read
    ├── ServiceError                  (the service's status) an error answer of the job
    │                                 service, as its HTTP client (service/client.py) sees it
    ├── AnalysisError                 (502) a language model's analysis failed
    │   ├── AnalysisKeyError          (503) its API key is missing or rejected
    │   └── AnalysisQuotaError        (429, retryable) rate limit or quota exhausted
    └── RenderError                   (500) a stage of a render failed; ``stage`` says which
        ├── ToolError                 an external program (ffmpeg, espeak-ng) failed
        └── StageStopped              a stage stopped because another failed first (that
                                      one's error is the job's: pipeline/stage_errors.py)

Two signals stay inside the language-model analysis and never reach a caller as themselves
(analysis/llm.py turns them into an ``AnalysisError``):

    ValueError
    └── Unfaithful                    a model's storyboard dropped, added or reworded a line
    Exception
    └── Failure                       one request to a model failed: the retry loop's input
                                      (retryable or not, the server's Retry-After)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


class VidgenError(Exception):
    retryable: bool = False
    http_status: int = 500
    public: str | None = None  # the client's message, when it differs from ``message``

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __reduce__(self):  # errors cross process boundaries in Ray: keep every field
        return (_rebuild, (type(self), self.message, self.__dict__))

    def __str__(self) -> str:
        return self.message


def _rebuild(cls: type[VidgenError], message: str, state: dict) -> VidgenError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class InputError(VidgenError):
    http_status = 400


class ScriptError(InputError):
    pass


class SettingsError(InputError):
    http_status = 422

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class MediaError(InputError):
    http_status = 422

    def __init__(self, message: str, public: str | None = None):
        super().__init__(message)
        self.public = public


class TooLargeError(InputError):
    http_status = 413

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class AuthError(VidgenError):
    http_status = 401


class ForbiddenError(VidgenError):
    http_status = 403


class NotFoundError(VidgenError):
    http_status = 404


class IllegalTransition(VidgenError):
    http_status = 409

    def __init__(self, message: str, current: str, new: str):
        super().__init__(message)
        self.current = current
        self.new = new


class FarmSaturated(VidgenError):
    http_status = 429
    retryable = True  # the same request later may well be accepted

    def __init__(self, message: str, retry_after: float):
        super().__init__(message)
        self.retry_after = retry_after


class FarmUnavailable(VidgenError):
    http_status = 503
    retryable = True


class DependencyError(VidgenError):
    http_status = 503


class OutputError(VidgenError):
    pass


class RecordError(VidgenError):
    pass


class ServiceError(VidgenError):
    """``http_status``, ``kind`` (the error's type), ``field`` and ``retry_after``: as the
    service answered them."""

    def __init__(self, message: str, status: int, kind: str = "HTTPError",
                 field: str | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.http_status, self.kind, self.field, self.retry_after = status, kind, field, \
            retry_after


class AnalysisError(VidgenError):
    """The language model (Gemini or an OpenAI-compatible server) gave no usable storyboard."""

    http_status = 502


class AnalysisKeyError(AnalysisError):
    http_status = 503  # the server's key, not the caller's: a configuration problem


class AnalysisQuotaError(AnalysisError):
    http_status = 429
    retryable = True


class RenderError(VidgenError):
    """``scene`` (0-based): the scene whose part failed, when one did."""

    def __init__(self, message: str, stage: str | None = None, scene: int | None = None,
                 public: str | None = None):
        super().__init__(message)
        self.stage, self.scene, self.public = stage, scene, public


class ToolError(RenderError):
    retryable = True

    def __init__(self, tool: str, args: list[str], returncode: int, stderr: str):
        tail = "\n".join(stderr.strip().splitlines()[-12:])
        super().__init__(f"{tool} failed (exit {returncode}): {tail}")
        # Its output names temporary files and server folders: the operator's, not a client's.
        self.public = f"{tool} failed (exit {returncode})" if returncode >= 0 else \
            f"{tool} did not finish in time"
        self.tool = tool
        self.command = args
        self.returncode = returncode
        self.stderr = stderr


class StageStopped(RenderError):
    """A stage that cannot go on because another stage of its job failed first."""


# ---- signals inside the language-model analysis ---------------------------------------------

class Unfaithful(ValueError):
    """The answer dropped, added or reworded a line; the message quotes the first one."""


@dataclass
class Failure(Exception):
    """What went wrong with one request, as the retry loop needs to know it."""

    message: str
    retryable: bool
    retry_after: float | None = None
    status: int | None = None
    cause: BaseException | None = field(default=None, repr=False)

    def __str__(self) -> str:
        return self.message


# ---- messages for a client ------------------------------------------------------------------

_TRACEBACK = "Traceback (most recent call last)"
# A Python exception's class name, maybe dotted or wrapped (RayTaskError(ValueError)), with
# the colon that follows it: what a client has no use for.
_CLASS_NAME = re.compile(r"\b(?:\w+\.)*[A-Z]\w*(?:Error|Exception|Exit|Interrupt)\b"
                         r"(?:\([\w.]*\))?:?[ \t]*")


def client_message(exc: BaseException, private: list[str] = ()) -> str:
    """What a client of the job service may read about ``exc``: its ``public`` message, else
    its message, without tracebacks, exception class names or the ``private`` folders
    (storage root, temporary folder): a path under one is cut to its last name."""
    text = (exc.public or exc.message) if isinstance(exc, VidgenError) else str(exc)
    return scrub(text, private) or "an unexpected error stopped the job"


def scrub(text: str, private: list[str] = ()) -> str:
    """``text`` without a traceback, exception class names and paths under ``private``."""
    text = text.split(_TRACEBACK)[0]
    text = _CLASS_NAME.sub("", text)
    for root in sorted({r.rstrip("/") for r in private if r.strip("/")}, key=len,
                       reverse=True):
        text = re.sub(re.escape(root) + r"(/[^\s'\"]*|(?![\w.-]))", _last_name, text)
    return text.strip()


def _last_name(match: re.Match) -> str:
    """A path under a private folder: only its last name (the root itself: none)."""
    names = [name for name in match.group(1).split("/") if name]
    return names[-1] if names else "a server folder"
