"""Script analysis: script text in, a Storyboard out.

``analyze_script`` checks the text, picks the format with ``detect_format`` and hands it to
the local analyser of that format (``local.py`` for prose and Markdown, ``fountain.py`` for
Fountain; both fill scene drafts that ``drafts.py`` turns into the storyboard). Imports stay
light: no ray, no torch. Analysis by a language model (``--llm gemini|openai``) starts from
the local storyboard: see ``llm.py``.

Format: by extension (.fountain/.spmd → Fountain, .md/.markdown → Markdown); otherwise (.txt,
no name, any other extension) by content, first match wins:

1. Fountain: a title page key (``Title:``, ``Author:`` ...) on the first line, or a scene
   heading (``INT.``/``EXT.`` ..., or a forced ``.HEADING`` standing alone);
2. Markdown: a ``#`` heading;
3. Fountain: at least two character cues (in capitals, or forced with ``@``), each followed
   by its dialogue;
4. prose.

Title: the Fountain title page's ``Title:``, the Markdown title heading, else the file name's
stem, else "Untitled". Language (default "en"): a Fountain title page key ``Language: fr``,
or in Markdown and prose a first line ``<!-- language: fr -->``.
"""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import Literal

from vidgen_ray.analysis.budget import Budget
from vidgen_ray.analysis.fountain import analyze_fountain, is_title_page_line
from vidgen_ray.analysis.keywords import NOT_SPEAKERS
from vidgen_ray.analysis.local import analyze_markdown, analyze_prose
from vidgen_ray.errors import ScriptError
from vidgen_ray.storyboard import Storyboard

__all__ = ["Budget", "analyze_script", "detect_format"]

Format = Literal["prose", "markdown", "fountain"]

_BY_EXTENSION: dict[str, Format] = {
    ".fountain": "fountain", ".spmd": "fountain", ".md": "markdown", ".markdown": "markdown",
}
_SCENE_HEADING = re.compile(r"^[ \t]*(?:INT|EXT|EST|INT\.?/EXT|I/E)[. ]", re.MULTILINE)
_FORCED_HEADING = re.compile(r"(?:\A|\n[ \t]*\n)[ \t]*\.[^.\s][^\n]*(?:\n[ \t]*\n|\n?\Z)")
_MARKDOWN_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+\S", re.MULTILINE)
_CUE_AND_SPEECH = re.compile(r"(?:\A|\n[ \t]*\n)[ \t]*([^\n]+)\n[ \t]*\S")
_CONTROLS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
_CONTROL_SHARE = 0.01  # a text file has next to no control characters; binaries have many


def detect_format(text: str, filename: str | None = None) -> Format:
    """The script's format, from the file name's extension or else from the text."""
    suffix = PurePath(filename).suffix.lower() if filename else ""
    if suffix in _BY_EXTENSION:
        return _BY_EXTENSION[suffix]
    first = next((line for line in text.splitlines() if line.strip()), "")
    if is_title_page_line(first) or _SCENE_HEADING.search(text) or _FORCED_HEADING.search(text):
        return "fountain"
    if _MARKDOWN_HEADING.search(text):
        return "markdown"
    cues = [cue for cue in _CUE_AND_SPEECH.findall(text) if _is_cue(cue)]
    return "fountain" if len(cues) >= 2 else "prose"


def _is_cue(line: str) -> bool:
    line = line.strip()
    name = line.lstrip("@").split("(", 1)[0].strip()
    words = name.split()
    # "@" forces a cue (mixed case, or a script without case); a name needs a letter.
    named = any(c.isalpha() for c in name) and (name.isupper() or line.startswith("@"))
    return (named and 1 <= len(words) <= 4 and not name.endswith(":")
            and words[0].upper() not in NOT_SPEAKERS)


def analyze_script(text: str, filename: str | None = None,
                   budget: Budget | None = None) -> Storyboard:
    """Turn script text into a Storyboard with the local analyser.

    Raises ScriptError for an empty or binary text, or one with nothing to speak, and
    TooLargeError as soon as the script passes a limit of ``budget`` (then the rest is not
    read).
    """
    text = _normalise(text)
    title = PurePath(filename).stem if filename else "Untitled"
    analyze = {"prose": analyze_prose, "markdown": analyze_markdown,
               "fountain": analyze_fountain}[detect_format(text, filename)]
    if budget is None:
        return analyze(text, default_title=title or "Untitled")
    with budget.charging():
        return analyze(text, default_title=title or "Untitled")


def _normalise(text: str) -> str:
    if "\x00" in text or _control_share(text) > _CONTROL_SHARE:
        raise ScriptError("the script looks like a binary file (it holds NUL or control "
                          "characters): give a UTF-8 text file such as .txt, .md or .fountain")
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ScriptError("the script is empty: write at least one line of text")
    return text


def _control_share(text: str) -> float:
    # Unicode's control characters (category Cc) but tab, newlines and form feed, counted
    # by a regex: a loop in Python took 0.7 s for a 1 MB script.
    return len(_CONTROLS.findall(text)) / max(len(text), 1)
