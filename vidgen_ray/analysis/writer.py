"""A script from a topic (``vidgen write``): a language model writes Markdown, we check it.

The model (the same Gemini or OpenAI-compatible backends, rate limiter and retries as the
analysis, see llm.py) answers one JSON object ``{"script": "<Markdown>"}``. The Markdown is
checked as the render will read it: the local analyser parses it (a ``#`` title, ``##``
scenes, ``NAME: line`` dialogue), and it must have the scenes asked for, at least one named
character who speaks, and about the length asked for (minutes estimated from the spoken
words). A script that fails is asked for once more with the problem in the prompt; a second
failure is an AnalysisError naming the problem.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from vidgen_ray.analysis import analyze_script
from vidgen_ray.errors import AnalysisError, InputError, ScriptError, SettingsError
from vidgen_ray.storyboard import NARRATOR, Storyboard

log = logging.getLogger(__name__)

WORDS_PER_MINUTE = 150  # narration pace of our voices at speed 1.0 (espeak-ng: ~160)
LENGTH_TOLERANCE = 0.35  # the spoken length may miss the minutes asked by this share
MAX_SCENES, MAX_MINUTES, MAX_TOPIC = 30, 30.0, 2000
WRITE_SCHEMA = {"type": "object", "properties": {"script": {"type": "string"}},
                "required": ["script"]}
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")
PROMPT_MARK = "Write the script of a short narrated video"  # the fake servers look for it

PROMPT = """\
{mark} about the topic below, in Markdown. Answer with one JSON object
{{"script": "<the Markdown>"}} and nothing else.

Format (it is read by a parser, follow it exactly):
- The first line is "# " and the video's title.
- Then exactly {scenes} scenes, each starting with a line "## " and the scene's title.
- Under each scene: one or two short paragraphs of narration (the narrator's words), and
  dialogue lines of named characters, one per line, written "NAME: what they say", NAME in
  capitals. At least two named characters speak in the whole script.
- Plain sentences only: no lists, tables, links, pictures, stage directions or code.
Scenes: {scenes}
Length: about {words} spoken words in all (about {minutes:g} minutes read aloud).
Language: {language} (write every word in it; keep "NAME:" cues as written).
Style: {style}
Topic: {topic}
"""


@dataclass(frozen=True)
class WriteRequest:
    topic: str
    scenes: int = 5
    minutes: float = 1.5
    style: str = "engaging, vivid, for a general audience"
    language: str = "en"

    def __post_init__(self) -> None:
        if not self.topic.strip():
            raise InputError("the topic is empty: say what the video is about, e.g. "
                             "vidgen write \"how lighthouses work\"")
        if len(self.topic) > MAX_TOPIC:
            raise InputError(f"the topic is {len(self.topic)} characters long: keep it under "
                             f"{MAX_TOPIC} (a sentence or two)")
        if not 1 <= self.scenes <= MAX_SCENES:
            raise SettingsError(f"scenes={self.scenes} is not allowed: ask for 1-{MAX_SCENES}",
                                field="scenes")
        if not _LANGUAGE.fullmatch(self.language):
            raise SettingsError(f"language {self.language!r} is not a language code: write "
                                "e.g. en, fr, de or pt-BR", field="language")
        if not 0.25 <= self.minutes <= MAX_MINUTES:
            raise SettingsError(f"minutes={self.minutes:g} is not allowed: ask for "
                                f"0.25-{MAX_MINUTES:g}", field="minutes")

    @property
    def words(self) -> int:
        return round(self.minutes * WORDS_PER_MINUTE)


def build_write_prompt(request: WriteRequest, problem: str | None = None) -> str:
    text = PROMPT.format(mark=PROMPT_MARK, scenes=request.scenes, words=request.words,
                         minutes=request.minutes, language=request.language,
                         style=request.style.strip() or WriteRequest.style,
                         topic=" ".join(request.topic.split()))
    if problem:
        text += (f"\nYour previous script was rejected: {problem}\nWrite the whole script "
                 "again, fixing that.\n")
    return text


def spoken_minutes(storyboard: Storyboard) -> float:
    words = sum(len(line.text.split()) for scene in storyboard.scenes for line in scene.lines)
    return words / WORDS_PER_MINUTE


def parse_written(answer: str) -> str:
    """The Markdown inside the model's JSON answer (a ```json fence tolerated)."""
    text = re.sub(r"^\s*```(?:json)?\s*|\s*```\s*$", "", answer)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the answer is not valid JSON ({exc.msg}): {text[:80]!r}") from None
    script = data.get("script") if isinstance(data, dict) else None
    if not isinstance(script, str) or not script.strip():
        raise ValueError('the answer has no "script" text: answer {"script": "<Markdown>"}')
    return script.strip() + "\n"


def check_script(script: str, request: WriteRequest) -> Storyboard:
    """The script's storyboard, or ValueError naming what does not fit the request."""
    if not script.lstrip().startswith("# "):
        raise ValueError('the script must start with a "# " title line')
    try:
        board = analyze_script(script, "script.md")
    except ScriptError as exc:
        raise ValueError(f"the script does not parse: {exc.message}") from None
    if len(board.scenes) != request.scenes:  # a "# " title with text under it is one more
        raise ValueError(f"it makes {len(board.scenes)} scenes but {request.scenes} were asked "
                         "for: one '## ' heading per scene, and no text between the '# ' "
                         "title and the first scene")
    speakers = {line.speaker for s in board.scenes for line in s.lines} - {NARRATOR}
    if not speakers:
        raise ValueError('no character speaks: write dialogue lines as "NAME: words"')
    minutes = spoken_minutes(board)
    if abs(minutes - request.minutes) > LENGTH_TOLERANCE * request.minutes:
        words = round(minutes * WORDS_PER_MINUTE)
        raise ValueError(f"it reads in about {minutes:.1f} minutes ({words} words) but about "
                         f"{request.minutes:g} minutes ({request.words} words) were asked for")
    return board


class ScriptWriter:
    """Writes scripts with one client, rate limiter and retry policy (see LLMAnalyzer)."""

    def __init__(self, analyzer):
        self.analyzer = analyzer  # an LLMAnalyzer: its client, limiter, policy and errors

    def write(self, request: WriteRequest) -> str:
        problem = None
        for _ in range(2):  # the script, then one correction with the problem in the prompt
            try:
                script = parse_written(self.analyzer.request(
                    build_write_prompt(request, problem), WRITE_SCHEMA))
                check_script(script, request)
                return _with_language(script, request.language)
            except ValueError as exc:
                problem = str(exc)
                log.warning("written script rejected: %s", problem)
        client = self.analyzer.client
        raise AnalysisError(
            f"{client.name} model {client.model} wrote no usable script, even when told what "
            f"was wrong: {problem}. Try again, try another model, or ask for a length that "
            "suits the number of scenes")


def _with_language(script: str, language: str) -> str:
    """The Markdown analyser reads the language from a first-line comment."""
    if language == "en":
        return script
    return f"<!-- language: {language} -->\n{script}"


def write_script(request: WriteRequest, settings, limiter=None) -> str:
    """A checked Markdown script for ``request`` by the model settings.llm names."""
    from vidgen_ray.analysis.llm import LLMAnalyzer, create_client

    if settings.llm == "local":
        raise SettingsError("writing a script needs a language model: --llm gemini (with "
                            "GEMINI_API_KEY) or --llm openai --llm-base-url URL --llm-model "
                            "NAME (Ollama, vLLM, LM Studio)", field="llm")
    return ScriptWriter(LLMAnalyzer(create_client(settings), settings, limiter=limiter)
                        ).write(request)


def save_script(script: str, path: Path) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(script, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write the script to {path}: {exc.strerror}: choose a "
                         "writable file with -o") from None
    return path
