"""Who a caller is and what it may see, apart from HTTP: the service's API keys
(``VIDGEN_API_KEYS`` and ``VIDGEN_API_KEYS_FILE``), the caller a request's ``Bearer`` header
names, and whether it may see a job.

Keys are comma-separated ``name:key`` pairs; ``name:key:admin`` also sees every job. A job
belongs to the name of the key that submitted it.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from pathlib import Path

from vidgen_ray.config import ServiceSettings
from vidgen_ray.errors import AuthError, ForbiddenError, SettingsError
from vidgen_ray.farm.jobs import JobRecord

ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Caller:
    name: str
    admin: bool = False


@dataclass(frozen=True)
class ApiKey:
    name: str
    secret: str
    admin: bool = False


def parse_api_keys(text: str) -> list[ApiKey]:
    """``alice:KEY,ops:KEY2:admin`` -> keys; a malformed entry is a SettingsError."""
    keys = []
    for entry in filter(None, (e.strip() for e in text.split(","))):
        parts = entry.split(":")
        admin = len(parts) == 3 and parts[2] == "admin"
        if not (len(parts) == 2 or admin) or not parts[0] or len(parts[1]) < 16:
            raise SettingsError("each VIDGEN_API_KEYS entry is name:key or name:key:admin, "
                                f"with a key of 16 characters or more; got {parts[0]!r}...",
                                field="api_keys")
        keys.append(ApiKey(parts[0], parts[1], admin))
    names = [k.name for k in keys]
    if len(set(names)) != len(names):
        raise SettingsError("VIDGEN_API_KEYS names a caller twice: give each one name",
                            field="api_keys")
    return keys


def load_keys(settings: ServiceSettings) -> list[ApiKey]:
    """The keys to accept (VIDGEN_API_KEYS and the lines of VIDGEN_API_KEYS_FILE); none only
    when the service is explicitly open."""
    text = settings.api_keys
    if settings.api_keys_file:
        try:
            lines = Path(settings.api_keys_file).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise SettingsError(f"cannot read VIDGEN_API_KEYS_FILE={settings.api_keys_file}: "
                                f"{reason}: give a readable file with one name:key per line",
                                field="api_keys_file") from None
        entries = [line.strip() for line in lines if line.strip()
                   and not line.lstrip().startswith("#")]
        text = ",".join(filter(None, [text, *entries]))
    keys = parse_api_keys(text)
    if not keys and not settings.api_open:
        raise SettingsError("the job service has no API keys: set VIDGEN_API_KEYS_FILE to a "
                            "file of 'name:secret' lines, or VIDGEN_API_KEYS="
                            "'name:secret,...' (or VIDGEN_API_OPEN=true on a machine nobody "
                            "else can reach)", field="api_keys")
    return keys


def authenticate(authorization: str | None, keys: list[ApiKey]) -> Caller:
    """The caller a ``Bearer`` header names. Every key is compared in constant time, and all
    of them, so the answer's timing does not tell which name nearly matched."""
    if not keys:
        return Caller(ANONYMOUS, admin=True)
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("send your API key as 'Authorization: Bearer <key>'")
    token_bytes = token.strip().encode()
    found = None
    for key in keys:
        if hmac.compare_digest(token_bytes, key.secret.encode()):
            found = key
    if found is None:
        raise AuthError("this API key is not known: check VIDGEN_API_KEY")
    return Caller(found.name, found.admin)


def check_access(caller: Caller, record: JobRecord) -> None:
    if caller.admin or record.owner == caller.name:
        return
    raise ForbiddenError(f"job {record.id} belongs to another API key: ask its owner or an "
                         "admin key")
