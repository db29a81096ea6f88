"""Strings in FFmpeg filter graphs (issue 15, point 6): random text, escaped by
filtergraph.py, must reach the filter exactly as written, whatever it holds.

The oracle is real ffmpeg on a tiny lavfi input. ``metadata`` echoes an option value back
(mode=print writes ``key=value`` to a file), so a value is checked byte for byte, and
``drawtext`` must accept the same escaped value as its text. Paths are checked by what
ffmpeg opens: ``ass`` reads a subtitle file (the burn-in filter, with its fonts folder) and
``metadata`` writes a file, each named with the random text.
"""

import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vidgen_ray.config import RenderSettings
from vidgen_ray.pipeline import assembly
from vidgen_ray.pipeline.filtergraph import option_value, path_value

pytestmark = pytest.mark.ffmpeg

# The characters the two levels treat specially, and those that commonly trip parsers.
SPECIAL = list("\\':,;[]= \t%{}\"=@$`|&<>*?") + ["\n", "\r", "\\\\", "''", " :"]
TEXT = st.lists(st.one_of(
    st.sampled_from(SPECIAL),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"),
            max_size=6)), max_size=12).map("".join)
# A file name: what a POSIX file system takes (no "/", no NUL, not "." or ".."), one line.
NAME = st.lists(st.one_of(
    st.sampled_from([c for c in SPECIAL if c not in "\n\r"]),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0/\n\r"),
            max_size=6)), min_size=1, max_size=10).map("".join).filter(
    lambda n: n not in (".", "..") and 0 < len(n.encode()) <= 120)
ASS = """[Script Info]
ScriptType: v4.00+
PlayResX: 64
PlayResY: 64

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Dialogue: 0,0:00:00.00,0:00:01.00,Default,,0,0,0,,Hi
"""
FONT = Path(RenderSettings().subtitle_fonts_dir) / "DejaVuSans.ttf"
EXAMPLES = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


def run_graph(graph: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
         "color=c=black:s=64x64:d=0.1:r=10", "-filter_complex", f"[0:v]{graph}[v]",
         "-map", "[v]", "-frames:v", "1", "-f", "null", "-"],
        capture_output=True, text=True, timeout=30)


@EXAMPLES
@given(values=st.lists(TEXT, min_size=1, max_size=6))
def test_any_option_value_reaches_the_filter_unchanged(values, tmp_path):
    echoes = [(f"k{k}", value, tmp_path / f"echo{k}.txt") for k, value in enumerate(values)]
    for _, _, out in echoes:
        out.unlink(missing_ok=True)
    # drawtext takes the same value as text (expansion off: %{...} is drawtext's own level).
    done = run_graph(",".join(
        f"metadata=mode=add:key={key}:value={option_value(value)},"
        f"metadata=mode=print:key={key}:file={path_value(out)},"
        f"drawtext=fontfile={path_value(FONT)}:expansion=none:text={option_value(value)}"
        for key, value, out in echoes))
    assert done.returncode == 0, done.stderr
    for key, value, out in echoes:
        # The file holds a frame line, then key=value and a newline.
        text = out.read_bytes().decode("utf-8", "surrogateescape")
        assert text.split("\n", 1)[1] == f"{key}={value}\n"


@EXAMPLES
@given(folder=NAME, name=NAME)
def test_burn_in_opens_the_subtitle_file_of_any_name_in_any_fonts_folder(folder, name,
                                                                         tmp_path):
    fonts = tmp_path / folder
    fonts.mkdir(exist_ok=True)
    subtitles = fonts / (name + ".ass")
    subtitles.write_text(ASS, encoding="utf-8")
    burn = assembly.burn_filter(subtitles, RenderSettings(subtitle_fonts_dir=str(fonts)))
    done = run_graph(burn)
    assert done.returncode == 0, done.stderr
    # And one that is not there fails: ffmpeg really looked for that name.
    missing = assembly.burn_filter(fonts / (name + ".missing.ass"),
                                   RenderSettings(subtitle_fonts_dir=str(fonts)))
    assert run_graph(missing).returncode != 0


@EXAMPLES
@given(name=NAME)
def test_a_path_written_by_a_filter_is_exactly_the_one_named(name, tmp_path):
    folder = tmp_path / "written"
    folder.mkdir(exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    done = run_graph(f"metadata=mode=print:file={path_value(folder / name)}")
    assert done.returncode == 0, done.stderr
    assert [p.name for p in folder.iterdir()] == [name]


def test_the_colon_of_issue_15_opens_that_folder_and_sets_nothing_else(tmp_path):
    fonts = tmp_path / "a:b=c"
    fonts.mkdir()
    (fonts / "s.ass").write_text(ASS, encoding="utf-8")
    burn = assembly.burn_filter(fonts / "s.ass", RenderSettings(subtitle_fonts_dir=str(fonts)))
    done = run_graph(burn)
    assert done.returncode == 0, done.stderr  # before: "Option 'b' not found"
    assert run_graph(f"metadata=mode=print:file={path_value(Path(tmp_path, 'x:y'))}"
                     ).returncode == 0 and (tmp_path / "x:y").exists()
