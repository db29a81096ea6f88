"""Faithfulness: a model's storyboard must speak the script's lines verbatim and in order.

The local parser's lines are the reference. The words count, and who speaks them: the model
may regroup lines into scenes, name a speaker the parser left to the narrator, or add a
parenthetical, but not give a character's line to someone else (a wrong voice, silently).
Whitespace runs are compared as one space (models re-wrap long lines).
"""

from __future__ import annotations

import difflib

from vidgen_ray.errors import Unfaithful
from vidgen_ray.storyboard import NARRATOR, Storyboard

QUOTE = 90  # characters of a line quoted in an error


def spoken(storyboard: Storyboard) -> list[str]:
    """Every spoken line's text, in order, whitespace runs folded."""
    return [" ".join(line.text.split()) for scene in storyboard.scenes for line in scene.lines]


def speakers(storyboard: Storyboard) -> list[str]:
    return [line.speaker for scene in storyboard.scenes for line in scene.lines]


def check_faithful(reference: Storyboard, answer: Storyboard) -> None:
    """Raise Unfaithful naming the first line dropped, added, reworded or given to another
    speaker."""
    want, got = spoken(reference), spoken(answer)
    if want == got:
        pairs = zip(speakers(reference), speakers(answer), want, strict=True)
        for number, (was, now, text) in enumerate(pairs, start=1):
            if was != NARRATOR and now != was:
                raise Unfaithful(f"line {number} changed speaker from {was} to {now}: "
                                 f"{_quote(text)}")
        return
    matcher = difflib.SequenceMatcher(a=want, b=got, autojunk=False)
    for tag, a0, _, b0, _ in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "delete":
            if want[a0] in got:
                raise Unfaithful(f"line {a0 + 1} came back out of order: {_quote(want[a0])}")
            raise Unfaithful(f"line {a0 + 1} was dropped: {_quote(want[a0])}")
        if tag == "insert":
            if got.count(got[b0]) > want.count(got[b0]) > 0:
                raise Unfaithful(f"line {want.index(got[b0]) + 1} was repeated after line "
                                 f"{a0}: {_quote(got[b0])}")
            if got[b0] in want:
                raise Unfaithful(f"line {want.index(got[b0]) + 1} came back out of order, "
                                 f"after line {a0}: {_quote(got[b0])}")
            raise Unfaithful(f"a line was added after line {a0}: {_quote(got[b0])}")
        raise Unfaithful(f"line {a0 + 1} was reworded: {_quote(want[a0])} came back as "
                         f"{_quote(got[b0])}")


def _quote(text: str) -> str:
    return repr(text if len(text) <= QUOTE else text[: QUOTE - 3] + "...")
