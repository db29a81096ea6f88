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

Scene drafts and the storyboard built from them: drafts.py (shared with fountain.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from vidgen_ray.analysis import sfx
from vidgen_ray.analysis.drafts import (
    SceneDraft,
    build_storyboard,
    clean_spaces,
    take_language,
)
from vidgen_ray.analysis.keywords import speaker_cue
from vidgen_ray.storyboard import NARRATOR, Storyboard

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
