"""Strings inside FFmpeg filter graphs, escaped so that they stay one value (pure).

A value reaches a filter through two parsers (ffmpeg-filters, "Notes on filtergraph
escaping"), both libavutil's ``av_get_token``, which drops leading and trailing whitespace,
takes ``\\x`` as a literal ``x`` and ``'...'`` as literal text:

1. the filter's own option list, ``key=value:key=value``: ``:`` ends a value;
2. the filter graph, ``[in]filter=options[out];...``: ``[`` ``]`` ``,`` ``;`` end the
   filter's options.

So a value is escaped for level 1, and the result again for level 2. Quoting alone (what
this code did before) is not enough: at level 2 the quotes are consumed, and what they held
is then split at ``:`` by level 1 (``fontsdir='/tmp/a:b=c'`` set an option ``b``).
NUL cannot be passed to a program at all, so a value holding one is refused.
"""

from __future__ import annotations

import os

from vidgen_ray.errors import SettingsError

_WHITESPACE = " \n\t\r"
_OPTION_SPECIAL = "\\':" + _WHITESPACE  # level 1: ends or changes an option value
_GRAPH_SPECIAL = "\\'[],;" + _WHITESPACE  # level 2: ends or changes a filter's options


def _backslash(text: str, special: str) -> str:
    return "".join(f"\\{c}" if c in special else c for c in text)


def option_value(value: str, field: str = "value") -> str:
    """``value`` as one option value of one filter in a filter graph, both levels escaped:
    ``f"ass=filename={option_value(path)}"`` opens exactly ``path``. ``field`` names the
    setting in the error for a value no escaping can carry."""
    check_value(value, field)
    return _backslash(_backslash(value, _OPTION_SPECIAL), _GRAPH_SPECIAL)


def check_value(value: str, field: str = "value") -> None:
    """Refuse what no escaping can carry to ffmpeg: NUL ends a C string, and text that is
    not valid for the file system's encoding (lone surrogates) cannot be put in argv."""
    if "\0" in value:
        raise SettingsError(f"{field} contains a NUL character, which FFmpeg cannot be "
                            "given: remove it", field=field)
    try:
        os.fsencode(value)
    except UnicodeError:
        raise SettingsError(f"{field} contains characters that cannot be encoded for the "
                            "file system (a lone surrogate?): use plain text", field=field
                            ) from None


def path_value(path: str | os.PathLike, field: str = "path") -> str:
    """A file or folder path as a filter option value. Newlines are refused: escaping would
    carry them, but a path with one is a mistake or an attack, never a real font folder."""
    text = os.fspath(path)
    if "\n" in text or "\r" in text:
        raise SettingsError(f"{field} contains a line break: name a folder or file whose "
                            "path is one line", field=field)
    return option_value(text, field)
