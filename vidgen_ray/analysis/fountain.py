"""Fountain screenplays → Storyboard, on top of screenplain's parser.

screenplain reads the elements; this module maps them:

* scene heading (INT./EXT., forced ``.HEADING``) → a new Scene titled with the heading;
  the heading also gives the setting ("interior, lighthouse, night").
* action, centered text, lyrics → NARRATOR lines, and the scene's visual description.
* character cue (a line in capitals, or forced with ``@``, with dialogue under it) → the
  speaker, upper case, without its extension; group cues ("BRICK & STEEL") and "various"
  cues are speakers like any other. The extension in parentheses may hold any text
  (``(O. S.)``, ``(on the radio)``): it becomes ``Line.extension`` in capitals, a dotted
  abbreviation compacted however it is spaced ("O. S." → "O.S."), ``(CONT'D)`` dropped;
  dual dialogue → left, then right.
* parenthetical → ``Line.parenthetical`` of the speech that follows it.
* transition → the scene's ``transition``: "cut" for any CUT (CUT TO:, SMASH CUT TO:),
  "fade_black" for a fade out or to black (FADE OUT., FADE TO BLACK., FADE TO:), "dissolve"
  for the rest (DISSOLVE TO:, FADE TO WHITE.); FADE IN: is an opening and is skipped.
* title page → ``Storyboard.title`` (``Title:``) and ``metadata`` (every key); a
  ``Language: fr`` key sets the storyboard's language (else detected, "en" when unclear).
* synopsis (``= ...``) → the scene's description instead of its action; not spoken.
* notes ``[[ ]]``, boneyard ``/* */``, sections ``#``, page breaks ``===`` → not spoken;
  a note ``[[SFX: thunder]]`` is a sound cue: at the start or end of a paragraph (or on a
  line of its own between paragraphs) it sounds before or after that paragraph; inside one,
  just before it.
* a note ``[[IMAGE: path]]`` or ``[[CLIP: path]]`` (``PICTURE:`` and ``VIDEO:`` work too)
  in a scene → the scene's own picture or clip, a path relative to the script's folder;
  one per scene.
"""

from __future__ import annotations

import io
import itertools
import re

from screenplain.parsers import fountain as screenplain
from screenplain.richstring import parse_emphasis
from screenplain.types import Action, Dialog, DualDialog, Slug, Transition

from vidgen_ray.analysis import sfx
from vidgen_ray.analysis.drafts import SceneDraft, build_storyboard, check_language
from vidgen_ray.analysis.keywords import is_slug
from vidgen_ray.storyboard import NARRATOR, Storyboard

# Keys that may open a title page; later keys may be anything. "Date:" or "Notes:" would too
# often open a story.
TITLE_PAGE_KEYS = ("title", "credit", "author", "authors", "source", "draft date", "contact",
                   "copyright", "revision", "language")

_NOTE = re.compile(r"\[\[.*?\]\]", re.DOTALL)
_UNFORCED_TRANSITION = re.compile(r"^(?:FADE IN|FADE OUT|FADE TO BLACK|FADE TO WHITE)[.:]?$")
_CONTINUED = re.compile(r"^(?:CONT['’]?D\.?|CONT\.?|CONTINUED|CONTINUING)$", re.IGNORECASE)
_CUE_TAG = re.compile(r"\(([^)]*)\)")
# An extension of single letters with dots, however spaced: "O. S.", "v.o.", "O.S".
_ABBREVIATION = re.compile(r"^(?:[A-Z]\s*\.\s*)+[A-Z]?\.?$")
# A sound cue after prepare(): a forced action line screenplain passes through as it is.
_SFX_MARK = "VIDGEN-SFX:"
_MEDIA_MARK = "VIDGEN-MEDIA:"
_MEDIA_NOTE = re.compile(r"\[\[\s*(IMAGE|PICTURE|CLIP|VIDEO)\s*:\s*(.+?)\s*\]\]", re.IGNORECASE)
_PARAGRAPHS = re.compile(r"(\n[ \t]*\n)")


def analyze_fountain(text: str, default_title: str = "Untitled") -> Storyboard:
    screenplay = screenplain.parse(io.StringIO(prepare(text)))
    title_page = {key: [str(parse_emphasis(value)).strip() for value in values]
                  for key, values in screenplay.title_page.items()}
    drafts = [SceneDraft()]  # what comes before the first heading
    for paragraph in screenplay.paragraphs:
        _add(paragraph, drafts)
    given = " ".join(title_page.get("Language", []))
    language = check_language(given) if given else None  # None: told by its words
    return build_storyboard(
        drafts, title=" ".join(title_page.get("Title", [])) or default_title,
        language=language, source_format="fountain",
        metadata={key: "\n".join(values) for key, values in title_page.items()})


def is_title_page_line(line: str) -> bool:
    key, colon, _ = line.partition(":")
    return bool(colon) and key.strip().lower() in TITLE_PAGE_KEYS


def prepare(text: str) -> str:
    """The text as screenplain should see it; each step works around one of its gaps."""
    # screenplain drops the boneyard after finding the title page: /* */ on top would hide it.
    text = screenplain.boneyard_re.sub("", text)
    text = _mark_sound_cues(text)
    # A media note becomes a forced action paragraph of its own, read back by _add_action.
    text = _MEDIA_NOTE.sub(lambda m: f"\n\n!{_MEDIA_MARK}{_kind(m.group(1))}|{m.group(2)}\n\n",
                           text)
    # screenplain drops notes within one paragraph only: a note over a blank line is spoken.
    text = _NOTE.sub("", text)
    lines = text.split("\n")
    # screenplain reads a title page only on line 1: leading blank lines would make it action.
    while lines and not lines[0].strip():
        lines.pop(0)
    head: list[str] = []
    # screenplain takes any "word: text" first paragraph for a title page; only known keys do.
    if lines and is_title_page_line(lines[0]):
        head = list(itertools.takewhile(str.strip, lines))
    # screenplain misses indented headings and transitions; indentation is not spoken anyway.
    body = [line.lstrip() if line.strip() else line for line in lines[len(head):]]
    # The blank line ends the title page, or, with no title page, tells screenplain so.
    return "\n".join([*head, "", *body])


def _mark_sound_cues(text: str) -> str:
    """Each [[SFX: ...]] note becomes a marker paragraph of its own (see the docstring)."""
    parts = _PARAGRAPHS.split(text)
    for i in range(0, len(parts), 2):  # odd items are the blank lines between paragraphs
        lines = parts[i].split("\n")
        if not any(sfx.CUE.search(line) for line in lines):
            continue
        before, after, blank = [], [], 0
        while lines and not lines[-1].strip():  # the text's own last newline
            lines.pop()
            blank += 1
        # A heading with cues right under it: the cues belong to its scene, after it.
        heading = [lines.pop(0)] if lines and _is_heading_cue(lines[0].strip()) else []
        while lines and sfx.only_cues(lines[0]):
            before += sfx.cues_in(lines.pop(0))
        while lines and sfx.only_cues(lines[-1]):
            after[:0] = sfx.cues_in(lines.pop())
        before += sfx.cues_in("\n".join(lines))
        body = sfx.strip_cues("\n".join(lines))
        marks = [f"!{_SFX_MARK}{name}" for name in before]
        parts[i] = "\n\n".join([*heading, *marks, *([body] if body.strip() else []),
                                 *(f"!{_SFX_MARK}{name}" for name in after)]) + "\n" * blank
    return "".join(parts)


def _add(paragraph: object, drafts: list[SceneDraft]) -> None:
    scene = drafts[-1]
    if isinstance(paragraph, Slug):
        drafts.append(_new_scene(str(paragraph.line), paragraph.synopsis))
    elif isinstance(paragraph, Action):
        _add_action([str(line) for line in paragraph.lines], drafts)
    elif isinstance(paragraph, DualDialog):
        _add_dialog(paragraph.left, scene)
        _add_dialog(paragraph.right, scene)
    elif isinstance(paragraph, Dialog):
        cue = str(paragraph.character).strip()
        if _is_heading_cue(cue):
            # A heading with no blank line under it: screenplain reads it as a character cue.
            heading = screenplain.scene_number_re.sub(r"\1", cue.removeprefix(".")).upper()
            drafts.append(_new_scene(heading, None))
            _add_action([str(text) for _, text in paragraph.blocks], drafts)
        else:
            _add_dialog(paragraph, scene)
    elif isinstance(paragraph, Transition):
        _add_transition(str(paragraph.line), scene)
    # Section and PageBreak only give the script structure: nothing to speak or show.


def _new_scene(heading: str, synopsis: str | None) -> SceneDraft:
    heading = heading.strip()
    return SceneDraft(title=heading, heading=heading, forced_heading=True, required=True,
                      synopsis=(synopsis or "").strip())


def _is_heading_cue(cue: str) -> bool:
    return is_slug(cue) or (cue.startswith(".") and not cue.startswith(".."))


def _kind(word: str) -> str:
    return "image" if word.upper() in ("IMAGE", "PICTURE") else "video"


def _add_action(lines: list[str], drafts: list[SceneDraft]) -> None:
    scene, spoken = drafts[-1], []
    for line in (line.strip() for line in lines):
        if line.startswith(_SFX_MARK):
            scene.cue([line.removeprefix(_SFX_MARK)])
        elif line.startswith(_MEDIA_MARK):
            kind, _, path = line.removeprefix(_MEDIA_MARK).partition("|")
            scene.show(path, kind)
        elif line.startswith("=") and not line.startswith("=="):
            # screenplain keeps a synopsis as action unless it follows a heading or section.
            scene.synopsis = " ".join(filter(None, [scene.synopsis, line[1:].strip()]))
        elif line.startswith("~"):
            spoken.append(line[1:].strip())  # lyrics: screenplain keeps the "~" in the text
        elif line:
            spoken.append(line)
    text = " ".join(spoken)
    if _UNFORCED_TRANSITION.match(text):
        # screenplain only knows transitions ending in TO: or forced with ">".
        _add_transition(text, scene)
    elif text:
        scene.narrate(text)


def _add_transition(text: str, scene: SceneDraft) -> None:
    text = text.upper()
    if text.startswith("FADE IN"):
        return
    if "CUT" in text:
        scene.transition = "cut"
    elif text.startswith("FADE") and "WHITE" not in text:
        scene.transition = "fade_black"
    else:
        scene.transition = "dissolve"


def _extension(tag: str) -> str:
    """One cue extension, in capitals, as the spec allows it to be written in any case and
    spacing: "O. S." and "o.s" are both "O.S.", so off-screen voices are known as such;
    other text ("on the radio") keeps its words."""
    tag = " ".join(tag.split()).upper()
    if "." in tag and _ABBREVIATION.match(tag):
        return ".".join(re.findall(r"[A-Z]", tag)) + "."
    return tag


def _add_dialog(dialog: Dialog, scene: SceneDraft) -> None:
    # screenplain keeps "^" on a dual cue when no dialogue comes right before it to pair with.
    cue = str(dialog.character).strip().removesuffix("^").strip()
    name = cue.split("(", 1)[0].strip().upper() or NARRATOR
    tags = [_extension(tag) for tag in _CUE_TAG.findall(cue)]
    extension = ", ".join(t for t in tags if t and not _CONTINUED.match(t)) or None
    note = None
    blocks = ((is_note, str(text).strip()) for is_note, text in dialog.blocks)
    for is_note, group in itertools.groupby(blocks, key=lambda block: block[0]):
        words = " ".join(text for _, text in group if text)
        if is_note:
            note = re.sub(r"\)\s*\(", "; ", words).strip("() ") or None  # (a) (b) → "a; b"
        elif words:
            scene.say(name, words, parenthetical=note, extension=extension)
            note = None
