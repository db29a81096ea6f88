"""Sound-effect cues written in scripts: ``[SFX: thunder]`` in prose and Markdown,
``[[SFX: thunder]]`` notes in Fountain (``SOUND:`` and ``FX:`` work too; several effects
separated by commas). Names are checked here, where the script enters."""

from __future__ import annotations

import re

from vidgen_ray.errors import ScriptError
from vidgen_ray.storyboard import EFFECTS

# [SFX: thunder] or [[SFX: thunder]]; group 1: the names.
CUE = re.compile(r"\[\[?\s*(?:SFX|SOUND|FX)\s*:([^\]]*)\]\]?", re.IGNORECASE)


def effect_names(text: str) -> list[str]:
    """The effects a cue's text names, in order: "Thunder, bell" → ["thunder", "bell"]."""
    names = []
    for raw in text.split(","):
        name = raw.strip().lower()
        if name not in EFFECTS:
            raise ScriptError(f"sound effect {raw.strip()!r} is unknown: use one of "
                              f"{', '.join(EFFECTS)}")
        names.append(name)
    return names


def cues_in(text: str) -> list[str]:
    """Every effect named by the cues in ``text``, in order."""
    return [name for match in CUE.finditer(text) for name in effect_names(match.group(1))]


def only_cues(line: str) -> bool:
    """True when a line holds cues and nothing else."""
    return bool(CUE.search(line)) and not CUE.sub("", line).strip()


def strip_cues(text: str) -> str:
    return CUE.sub("", text)
