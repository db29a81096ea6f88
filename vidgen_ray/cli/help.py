"""Readable --help: placeholders as people write them, sentences not broken mid-line.

typer 0.29 writes a required argument as ``{script}`` in the usage line, labels every
value ``<str>``, ``<bool>``, ``<list[str]>``, and keeps a docstring's line breaks in the
command list ("storyboard.json and" / "manifest.json"). ``install`` patches the three
places that generate this (once, when the CLI is imported), so that help reads
``SCRIPT``/``[SCRIPT]``, ``TEXT``, ``INTEGER``, no label on a flag, and whole sentences.
"""

from __future__ import annotations

import inspect
import re

from typer import core, rich_utils

_LABELS = {"str": "TEXT", "int": "INTEGER", "float": "NUMBER", "path": "PATH", "file": "FILE",
           "directory": "FOLDER", "bool": None}
_LIST = re.compile(r"^list\[(.*)\]$")


def readable_type(label: str | None) -> str | None:
    """``<int>`` -> ``INTEGER``; ``<bool>`` -> None (a flag takes no value); choices stay
    as ``a|b|c``; a list shows its item (the option is repeated for more)."""
    if label is None:
        return None
    inner = label[1:-1] if label.startswith("<") and label.endswith(">") else label
    inner = _LIST.sub(r"\1", inner)
    return _LABELS.get(inner, inner)


def readable_help(text: str) -> str:
    """One paragraph per blank-line-separated block: single line breaks become spaces."""
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(" ".join(p.split("\n")) for p in paragraphs)


def install() -> None:
    if getattr(core, "_vidgen_readable_help", False):
        return
    display_type = core._TyperParameter.display_type
    command_help = rich_utils._make_command_help

    def _display_type(self, ctx):
        if getattr(self, "is_flag", False):
            return None
        return readable_type(display_type(self, ctx))

    def _name(self) -> str:
        return self.metavar if self.metavar is not None else self.name.upper()

    def _usage_name(self) -> str:
        name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
        return name + ("..." if self.nargs != 1 else "")

    def _command_help(*, help_text: str, markup_mode):
        return command_help(help_text=readable_help(help_text), markup_mode=markup_mode)

    core._TyperParameter.display_type = _display_type
    core._TyperParameter.display_name_raw = property(_name)
    core.TyperArgument._usage_display_name = _usage_name
    rich_utils._make_command_help = _command_help
    core._vidgen_readable_help = True
