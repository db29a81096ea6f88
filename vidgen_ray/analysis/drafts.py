"""From scene drafts to a Storyboard: what every local reader (prose, Markdown, Fountain)
shares.

A reader fills one ``SceneDraft`` per scene as it reads (lines cut into speakable pieces at
sentence ends, sound cues, the user's own picture); ``build_storyboard`` checks the drafts
and derives the rest: the cast and its genders, each scene's description, characters in
view, mood and ambience, and the language when the script does not name it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from vidgen_ray.analysis import budget
from vidgen_ray.analysis.gender import infer_genders
from vidgen_ray.analysis.keywords import ambience_of, detect_language, mood_of, setting_of
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
