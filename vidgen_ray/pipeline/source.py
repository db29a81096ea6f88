"""Where a render starts: a script file, a storyboard.json, script text, or a Storyboard."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from vidgen_ray.analysis import Budget, analyze_script
from vidgen_ray.config import RenderSettings
from vidgen_ray.errors import ScriptError
from vidgen_ray.storyboard import Storyboard

if TYPE_CHECKING:
    from vidgen_ray.analysis.ratelimit import RateLimiter

MAX_SCRIPT_BYTES = 10 * 1024 * 1024  # a feature film is ~250 kB; more is surely a wrong file


def read_script(path: Path) -> str:
    if not path.exists():
        raise ScriptError(f"script not found: {path}: check the path and the current folder")
    if path.is_dir():
        raise ScriptError(f"{path} is a folder: give the script file inside it")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ScriptError(f"cannot read {path}: {exc.strerror}: check its permissions") from exc
    if len(data) > MAX_SCRIPT_BYTES:
        raise ScriptError(f"{path} is {len(data) // 1024} kB: a script is text under "
                          f"{MAX_SCRIPT_BYTES // 1024 // 1024} MB; is this the right file?")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScriptError(f"{path} is not UTF-8 text (byte {exc.start}): save it as UTF-8, "
                          "or check that it is a script and not a binary file") from exc


def parse_storyboard_json(text: str, origin: str) -> Storyboard:
    try:
        return Storyboard.model_validate_json(text)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"]) or "the top level"
        raise ScriptError(f"{origin}: {where}: {error['msg']}: fix that field, or print a "
                          "valid storyboard with 'vidgen analyze SCRIPT'") from None


def analyze_text(text: str, filename: str | None = None,
                 settings: RenderSettings | None = None,
                 limiter: RateLimiter | None = None,
                 budget: Budget | None = None) -> Storyboard:
    """Script text to a Storyboard by the analyser settings.llm names (local by default);
    ``limiter`` paces a model's requests (default: shared by this machine's processes).
    ``budget``: the job's limits, checked while the script is read (TooLargeError)."""
    if settings is None or settings.llm == "local":
        return analyze_script(text, filename=filename, budget=budget)
    from vidgen_ray.analysis.llm import analyze_with_llm  # only when a model is asked for

    if budget is not None:  # the local reading first: a script too large costs no request
        analyze_script(text, filename=filename, budget=budget)
    return analyze_with_llm(text, filename, settings, limiter)


def load_storyboard(source: str | Path | Storyboard,
                    settings: RenderSettings | None = None,
                    limiter: RateLimiter | None = None) -> Storyboard:
    """A Storyboard from whatever the user gave; .json files are rendered exactly as written.
    Scripts go to the analyser ``settings.llm`` names."""
    if isinstance(source, Storyboard):
        return source
    if isinstance(source, str) and "\n" not in source and Path(source).is_file():
        source = Path(source)  # a file name, not a one-line script
    if isinstance(source, Path):
        text = read_script(source)
        if source.suffix.lower() == ".json":
            return parse_storyboard_json(text, str(source))
        return analyze_text(text, source.name, settings, limiter)
    return analyze_text(source, None, settings, limiter)


def require_speech(storyboard: Storyboard) -> None:
    if not storyboard.scenes:
        raise ScriptError("the storyboard has no scenes: add at least one scene with a line")
    if storyboard.line_count() == 0:
        raise ScriptError("the script has nothing to speak: add at least one line of "
                          "narration or dialogue")
