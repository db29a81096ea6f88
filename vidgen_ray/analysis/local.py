"""The local analyser: prose and Markdown in, a Storyboard out; no model, no network.

Prose: every paragraph (blank-line separated) is a scene, spoken by the NARRATOR. Its text
is one line, or several when it is longer than ``MAX_LINE_CHARS``: lines are cut at
sentence ends. Quoted dialogue stays narration.

Markdown:

* Every ATX heading (``#`` to ``######``) starts a scene titled with the heading text.
* Title: when the first heading is the document's only level-1 heading, its text is the
  storyboard title. Text under it (before the next heading) is an opening scene with that
  title; with no text under it, it is the title only. Otherwise the title is the file name's
  stem, else "Untitled".
* Text before the first heading is a scene of its own when it has any.
* A paragraph line ``NAME: words`` is dialogue by NAME (upper-cased), optionally with a
  delivery note ``NAME (whispering): words``. NAME is 1-3 words before a colon at the start
  of a line, each word made of letters (plus ``' . -``), no sentence punctuation, and in
  upper case or Title Case; words of a script without case (Arabic, Hebrew, CJK) count too,
  so ``أحمد: مرحبا`` is spoken by أحمد. Lines after it, up to the next cue or blank line,
  continue the speech. Words like Note, Chapter or SFX are never speakers.
* Other paragraphs and list items are narration. Emphasis, code and links are reduced to
  their words, HTML comments are dropped.
* An image ``![alt](path)`` under a heading is that scene's own picture or clip (by the
  file's extension: ``.png``, ``.jpg``... or ``.mp4``, ``.mov``...), a path relative to
  the script's folder; it is not spoken. One per scene.
* ``[SFX: thunder]`` is a sound cue, not spoken: on a line of its own it sounds between the
  lines around it; inside a line, just before that paragraph. Prose takes cues the same way.

Both formats take the language from a first line ``<!-- language: fr -->`` (else the one
their common words show, "en" when unclear).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from vidgen_ray.analysis import budget, sfx
from vidgen_ray.analysis.gender import infer_genders
from vidgen_ray.analysis.keywords import (
    ambience_of,
    detect_language,
    mood_of,
    setting_of,
    speaker_cue,
)
from vidgen_ray.errors import ScriptError
from vidgen_ray.storyboard import (
    NARRATOR,
    Character,
    Line,
    Media,
    Scene,
    SoundCue,
    Storyboard,
    Transition,
)

MAX_LINE_CHARS = 300
MAX_DESCRIPTION_CHARS = 200

_SENTENCE_END = re.compile(r"[.!?…。！？؟]+[\"'”’»)\]]*\s+")
_ABBREVIATIONS = ("mr.", "mrs.", "ms.", "dr.", "st.", "jr.", "sr.", "vs.", "mt.")
_CLAUSE_END = re.compile(r"[,;:،]\s+")
_LANGUAGE_COMMENT = re.compile(r"^\s*<!--\s*language\s*:\s*(\S+?)\s*-->\s*$", re.IGNORECASE)
_LANGUAGE_CODE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")
_OFFSCREEN = ("V.O", "O.S", "O.C")


@dataclass
class SceneDraft:
    """A scene while it is being read; ``build_storyboard`` turns drafts into Scenes."""

    title: str = ""
    heading: str = ""  # where the setting comes from (INT. HOUSE - DAY)
    forced_heading: bool = False
    required: bool = False  # came from a heading: empty is an error, not a skip
    lines: list[Line] = field(default_factory=list)
    action: list[str] = field(default_factory=list)  # what the picture shows
    synopsis: str = ""
    transition: Transition | None = None  # None: the render's default transition
    sfx: list[SoundCue] = field(default_factory=list)
    media: Media | None = None  # a picture or clip of the user's own

    def show(self, path: str, kind: str | None = None) -> None:
        """Use the user's own picture or clip ``path`` for this scene."""
        if self.media is not None:
            raise ScriptError(f"scene {self.title!r} names two pictures or clips "
                              f"({self.media.path!r} and {path!r}): keep one per scene")
        try:
            self.media = Media(path=path, kind=kind)
        except ValueError as exc:  # pydantic's ValidationError is one
            message = exc.errors()[0]["msg"] if hasattr(exc, "errors") else str(exc)
            raise ScriptError(f"scene {self.title!r}: {message.removeprefix('Value error, ')}"
                              ) from None

    def cue(self, names: list[str]) -> None:
        """Sound effects just before the next line (after the last, if none follows)."""
        self.sfx += [SoundCue(name=name, line=len(self.lines)) for name in names]

    def narrate(self, text: str) -> None:
        text = clean_spaces(text)
        if text:
            self.action.append(text)
            for part in chunk_for_speech(text):
                self._add(Line(text=part))

    def say(self, speaker: str, text: str, parenthetical: str | None = None,
            extension: str | None = None) -> None:
        for part in chunk_for_speech(clean_spaces(text)):
            self._add(Line(speaker=speaker, text=part, parenthetical=parenthetical,
                           extension=extension))
            parenthetical = None  # the delivery note goes with the first part only

    def _add(self, line: Line) -> None:
        # Counted as it is made: a script over a job's limits stops here (analysis/budget.py)
        job = budget.current()
        if job is not None:
            if not self.lines:
                job.scene()
            job.line(line.text)
        self.lines.append(line)


# --- text ---------------------------------------------------------------------------------


def clean_spaces(text: str) -> str:
    return " ".join(text.split())


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``; "Dr." or a quote going on in lower case ("Hi!" he said) go on."""
    sentences, start = [], 0
    for end in _SENTENCE_END.finditer(text):
        words = text[start:end.end()].split()
        goes_on = text[end.end():end.end() + 1].islower()
        if goes_on or (words and words[-1].lower() in _ABBREVIATIONS):
            continue
        sentences.append(text[start:end.end()].strip())
        start = end.end()
    sentences.append(text[start:].strip())
    return [s for s in sentences if s]


def chunk_for_speech(text: str, limit: int = MAX_LINE_CHARS) -> list[str]:
    """Whole sentences packed into pieces of at most ``limit`` characters."""
    pieces: list[str] = []
    for sentence in split_sentences(text):
        for part in _split_long(sentence, limit):
            if pieces and len(pieces[-1]) + 1 + len(part) <= limit:
                pieces[-1] += " " + part
            else:
                pieces.append(part)
    return pieces


def _split_long(sentence: str, limit: int) -> list[str]:
    # A sentence over the limit is cut at a comma or semicolon, else at a space.
    parts: list[str] = []
    while len(sentence) > limit:
        cuts = [m.end() for m in _CLAUSE_END.finditer(sentence, 0, limit)]
        cut = cuts[-1] if cuts else sentence.rfind(" ", 0, limit) + 1
        cut = cut if cut > 0 else limit
        parts.append(sentence[:cut].strip())
        sentence = sentence[cut:].strip()
    return parts + ([sentence] if sentence else [])


def trim(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > 0 else limit].rstrip(",;: ") + "…"


def take_language(text: str) -> tuple[str | None, str]:
    """The language of a first line ``<!-- language: fr -->``, and the text without it."""
    first, _, rest = text.lstrip("\n").partition("\n")
    match = _LANGUAGE_COMMENT.match(first)
    return (check_language(match.group(1)), rest) if match else (None, text)


def check_language(code: str) -> str:
    code = code.strip()
    if not _LANGUAGE_CODE.match(code):
        raise ScriptError(f"language {code!r} is not a language code: write a code such as "
                          "'en', 'fr' or 'ar'")
    primary, _, region = code.partition("-")
    return primary.lower() + ("-" + region if region else "")  # "FR" → "fr", "pt-BR" stays


# --- storyboard -----------------------------------------------------------------------------


def build_storyboard(drafts: list[SceneDraft], *, title: str, language: str | None,
                     source_format: str, metadata: dict[str, str] | None = None) -> Storyboard:
    """Checks the drafts, then derives cast, descriptions, mood and ambience. A script that
    does not name its language gets the one its common words show (English if unclear)."""
    _move_stray_cues(drafts)
    kept = [d for d in drafts if d.lines or d.required]
    if not any(d.lines for d in kept):
        raise ScriptError("the script has nothing to speak: write some action, dialogue or "
                          "narration (headings, notes, synopses and sections are not spoken)")
    for number, draft in enumerate(kept, 1):
        if not draft.lines:
            raise ScriptError(f"scene {number} ({draft.title!r}) has no text: add a line under "
                              "it or delete the heading")
    if language is None:
        words = " ".join(line.text for d in kept for line in d.lines)
        language = detect_language(words) or "en"
    cast = _cast(kept, language)
    return Storyboard(title=title or "Untitled", language=language, source_format=source_format,
                      characters=cast, scenes=[_scene(d, cast, language) for d in kept],
                      metadata=metadata or {})


def _move_stray_cues(drafts: list[SceneDraft]) -> None:
    """Cues in a part that is no scene (text before the first heading, a blank paragraph of
    prose) go to the start of the next scene, or the end of the last one."""
    for index, draft in enumerate(drafts):
        if draft.sfx and not (draft.lines or draft.required):
            later = [d for d in drafts[index + 1:] if d.lines or d.required]
            earlier = [d for d in drafts[:index] if d.lines or d.required]
            if later:
                later[0].sfx[:0] = [cue.model_copy(update={"line": 0}) for cue in draft.sfx]
            elif earlier:
                end = len(earlier[-1].lines)
                earlier[-1].sfx += [cue.model_copy(update={"line": end}) for cue in draft.sfx]
            draft.sfx = []


def _mentions(name: str, text: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.IGNORECASE) is not None


def _cast(drafts: list[SceneDraft], language: str) -> list[Character]:
    speakers = [line.speaker for d in drafts for line in d.lines if line.speaker != NARRATOR]
    sentences = [s for d in drafts for text in d.action for s in split_sentences(text)]
    names = list(dict.fromkeys(speakers))
    genders = infer_genders(names, [(line.speaker, line.text, line.parenthetical)
                                    for d in drafts for line in d.lines], language)
    return [
        Character(name=name, gender=genders[name], description=trim(
            next((s for s in sentences if _mentions(name, s)), ""), MAX_DESCRIPTION_CHARS))
        for name in names
    ]


def _scene(draft: SceneDraft, cast: list[Character], language: str) -> Scene:
    setting, interior = setting_of(draft.heading, draft.forced_heading)
    # Each part its own clause: a heading's last word does not run into the first line.
    text = ". ".join([draft.heading, draft.synopsis, *(line.text for line in draft.lines)])
    return Scene(title=draft.title, description=_describe(draft, setting),
                 lines=draft.lines, characters=_present(draft, cast), mood=mood_of(text, language),
                 ambience=ambience_of(text, interior, language), transition=draft.transition,
                 sfx=draft.sfx, media=draft.media)


def _describe(draft: SceneDraft, setting: str) -> str:
    sentences = [s for text in draft.action for s in split_sentences(text)]
    visual = draft.synopsis or " ".join(sentences[:2])
    parts = [part for part in (setting, trim(visual, MAX_DESCRIPTION_CHARS)) if part]
    return ". ".join(parts) or draft.title


def _present(draft: SceneDraft, cast: list[Character]) -> list[str]:
    # Speakers in view (not V.O./O.S.), then anyone the action names, in cast order.
    names: list[str] = []
    for line in draft.lines:
        offscreen = any(tag in (line.extension or "") for tag in _OFFSCREEN)
        if line.speaker != NARRATOR and not offscreen and line.speaker not in names:
            names.append(line.speaker)
    action = " ".join(draft.action)
    return names + [c.name for c in cast if c.name not in names and _mentions(c.name, action)]


# --- prose --------------------------------------------------------------------------------


def analyze_prose(text: str, default_title: str = "Untitled") -> Storyboard:
    language, text = take_language(text)
    drafts = []
    for paragraph in re.split(r"\n\s*\n", text):
        draft, words = SceneDraft(), []
        for line in paragraph.split("\n"):
            if sfx.only_cues(line):  # between the sentences around it
                draft.narrate(" ".join(words))
                words = []
            draft.cue(sfx.cues_in(line))  # inline: before the words it sits in
            words.append(sfx.strip_cues(line))
        draft.narrate(" ".join(words))
        drafts.append(draft)
    return build_storyboard(drafts, title=default_title, language=language,
                            source_format="prose")


# --- markdown -------------------------------------------------------------------------------

_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])\s+(.*)$")
_RULE = re.compile(r"^\s*([-*_=])(?:\s*\1){2,}\s*$")
_FENCE = re.compile(r"^\s*(?:```|~~~)")
_QUOTE = re.compile(r"^\s*(?:>\s?)+")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
# ![alt](path) or ![alt](<path with spaces> "title"); group 1 or 2: the path.
_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*(?:<([^>]+)>|([^)\s]+))(?:\s+[\"'(][^)]*)?\)")
_INLINE = (  # (pattern, replacement), applied in order
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),
    (re.compile(r"<(https?://[^>\s]+)>"), r"\1"),
    (re.compile(r"</?[A-Za-z][^>]*>"), ""),
    (re.compile(r"`([^`]*)`"), r"\1"),
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),
    (re.compile(r"(?<!\w)([*_])(?=\S)(.+?)(?<=\S)\1(?!\w)"), r"\2"),
    (re.compile(r"~~(.+?)~~"), r"\1"),
    (re.compile(r"\\([\\`*_{}\[\]()#+\-.!>])"), r"\1"),
)


def analyze_markdown(text: str, default_title: str = "Untitled") -> Storyboard:
    language, text = take_language(text)
    text = _HTML_COMMENT.sub("", text)
    title, drafts = _markdown_drafts(_markdown_blocks(text))
    return build_storyboard(drafts, title=title or default_title, language=language,
                            source_format="markdown")


def clean_markdown(text: str) -> str:
    """Spoken words of a Markdown line: ``**bold**`` → bold, ``[text](url)`` → text."""
    for pattern, replacement in _INLINE:
        text = pattern.sub(replacement, text)
    return clean_spaces(text)


def _markdown_blocks(text: str) -> Iterator[tuple[str, int, str]]:
    """("heading", level, text), ("paragraph", 0, lines), ("item", 0, lines) or
    ("sfx", 0, "name,name") blocks, as they are read (a job's budget may stop the reading)."""
    kind, lines, inline = "paragraph", [], []
    for raw in text.split("\n"):
        line = _QUOTE.sub("", raw)
        if not _FENCE.match(line):
            for a, b in _IMAGE.findall(line):
                yield ("media", 0, a or b)
            line = _IMAGE.sub("", line)
        alone, cues = sfx.only_cues(line), sfx.cues_in(line)
        line = sfx.strip_cues(line)
        skip = alone or not line.strip() or _FENCE.match(line) or _RULE.match(line)  # "* * *"
        heading = None if skip else _HEADING.match(line)
        item = None if skip or heading else _ITEM.match(line)
        if lines and (skip or heading or item):
            if inline:
                yield ("sfx", 0, ",".join(inline))
            yield (kind, 0, "\n".join(lines))
            kind, lines, inline = "paragraph", [], []
        if alone:  # between the blocks around it
            yield ("sfx", 0, ",".join(cues))
            continue
        inline += cues  # sounds just before the block it sits in
        if heading:
            title = clean_markdown(heading.group(2) or "")
            yield ("heading", len(heading.group(1)), title)
        elif item:
            kind, lines = "item", [item.group(1)]
        elif not skip:
            lines.append(line)
    if lines or inline:
        if inline:
            yield ("sfx", 0, ",".join(inline))
        yield (kind, 0, "\n".join(lines))


def _markdown_drafts(blocks: Iterable[tuple[str, int, str]]) -> tuple[str, list[SceneDraft]]:
    drafts = [SceneDraft()]  # text before the first heading
    first: SceneDraft | None = None  # the first heading's scene: the title, if level 1 ...
    first_level, level_ones = 0, 0  # ... and the only level-1 heading (known at the end)
    for kind, level, text in blocks:
        if kind == "heading":
            drafts.append(SceneDraft(title=text, heading=text, required=True))
            first, first_level = (drafts[-1], level) if first is None else (first, first_level)
            level_ones += level == 1
        elif kind == "sfx":
            drafts[-1].cue(text.split(","))
        elif kind == "media":
            drafts[-1].show(text)
        elif kind == "item":
            drafts[-1].narrate(clean_markdown(text))
        else:
            _add_paragraph(drafts[-1], text)
    if first is None or first_level != 1 or level_ones != 1:
        return "", drafts
    first.required = False  # the title heading: a scene only when text follows it
    return first.title, drafts


def _add_paragraph(draft: SceneDraft, paragraph: str) -> None:
    chunks: list[list] = []  # [speaker or None, delivery note, words]
    for line in paragraph.split("\n"):
        line = clean_markdown(line)
        cue = speaker_cue(line)
        if cue:
            chunks.append(list(cue))
        elif line and chunks:
            chunks[-1][2] += " " + line
        elif line:
            chunks.append([None, None, line])
    for speaker, note, words in chunks:
        if speaker in (None, NARRATOR):
            draft.narrate(words)
        else:
            draft.say(speaker, words, parenthetical=note)
