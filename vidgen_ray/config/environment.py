"""What the environment says beyond the settings: Ray's variables, the user's folders, the
Hugging Face hub and the analysers' keys. Read here because nothing else reads os.environ."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator


def ray_runtime_env(local: bool = True) -> dict[str, str]:
    """Environment for Ray in this process and the processes it starts, no telemetry.

    ``local``: a Ray this process starts for itself. Every Ray server then listens on
    127.0.0.1 (Ray's single-machine mode) and token auth is off unless RAY_AUTH_MODE says
    otherwise (nothing off loopback can reach it). Joining a cluster, Ray's own auth settings
    (RAY_AUTH_MODE, RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH) pass through untouched.
    Read here because nothing else reads os.environ.
    """
    env = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_ENABLE_AUTO_CONNECT": "0"}
    if local:
        env |= {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
                "RAY_AUTH_MODE": os.environ.get("RAY_AUTH_MODE", "disabled")}
    return env


def ray_address_from_env() -> str | None:
    """Ray's own RAY_ADDRESS, when set: the cluster a Ray tool (``serve run``) will join."""
    return os.environ.get("RAY_ADDRESS", "").strip() or None


def llm_api_key(backend: str) -> str | None:
    """The analysis backend's key, from the SDKs' own variables (never a setting, so never in
    a settings dump or manifest): GEMINI_API_KEY or GOOGLE_API_KEY; OPENAI_API_KEY."""
    names = ("GEMINI_API_KEY", "GOOGLE_API_KEY") if backend == "gemini" else ("OPENAI_API_KEY",)
    return next((os.environ[n] for n in names if os.environ.get(n, "").strip()), None)


def user_cache_dir() -> str:
    """$XDG_CACHE_HOME/vidgen or ~/.cache/vidgen (cached analyses, rate limiter state)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "vidgen")


def user_data_dir() -> str:
    """Where the service keeps jobs by default: $XDG_DATA_HOME/vidgen or
    ~/.local/share/vidgen (read here because nothing else reads os.environ)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local",
                                                          "share")
    return os.path.join(base, "vidgen")


def hf_hub_cache() -> str:
    """The Hugging Face hub cache, resolved as huggingface_hub does (HF_HUB_CACHE, else
    HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub or ~/.cache/huggingface/hub), but at
    call time: read here because nothing else reads os.environ."""
    if os.environ.get("HF_HUB_CACHE"):
        return os.path.expanduser(os.environ["HF_HUB_CACHE"])
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    home = os.environ.get("HF_HOME") or os.path.join(cache, "huggingface")
    return os.path.join(os.path.expanduser(home), "hub")


def hf_endpoint() -> str:
    """The hub to download from: HF_ENDPOINT (a mirror), else huggingface.co."""
    return (os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")


@contextlib.contextmanager
def hub_offline(offline: bool) -> Iterator[None]:
    """While a model loads with ``offline`` (settings.offline): huggingface_hub's own offline
    switch, so no request leaves for the hub. ``local_files_only`` alone is not enough: the
    hub client still fetches its registry of agent harnesses (3 s timeouts without network),
    and any loader that forgets the flag would try the hub on every worker start. Set for the
    load only, as HF_HUB_OFFLINE would for the whole process; restored after."""
    if not offline:
        yield
        return
    from huggingface_hub import constants

    saved = constants.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE = saved


def local_farm_dir() -> str:
    """Where `vidgen farm start` records the farm it keeps on this machine (its address,
    its log): VIDGEN_FARM_DIR, else <user cache dir>/farm. Read here because nothing else
    reads os.environ."""
    return os.path.expanduser(os.environ.get("VIDGEN_FARM_DIR") or
                              os.path.join(user_cache_dir(), "farm"))
