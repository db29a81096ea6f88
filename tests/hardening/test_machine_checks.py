"""The machine is checked before work starts: an FFmpeg older than 4.4, or one without a filter
the renders use, is named when a render starts (a real program on PATH stands in for such an
FFmpeg); `vidgen models download` refuses a model the disk has no room for, saying how much is
missing (against a local hub whose listing states a size larger than any disk)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vidgen_ray.cli.app import app
from vidgen_ray.errors import DependencyError
from vidgen_ray.models.space import check_space, free_bytes
from vidgen_ray.programs import (
    FILTERS,
    FRAME_SIZING_TRIAL,
    ffmpeg_problems,
    parse_filters,
    parse_version,
    sizes_each_frame,
)
from vidgen_ray.testing.hub import LocalHub, RepoFile

ROOT = Path(__file__).resolve().parents[2]
LISTING = """Filters:
  T.. = Timeline support
  | = Source or sink filter
 ... abench            A->A       Benchmark part of a filtergraph.
 TSC perspective       V->V       Correct the perspective of video.
 ... anoisesrc         |->A       Generate a noise audio signal.
 ... amix              N->A       Audio mixing.
"""


# ---- FFmpeg: pure ----------------------------------------------------------------------------

def test_versions_and_filters_are_read_from_what_ffmpeg_prints():
    assert parse_version("ffmpeg version 5.1.6-0+deb12u1 Copyright (c) 2000-2024") == (5, 1, 6)
    assert parse_version("ffmpeg version n4.4.2 Copyright") == (4, 4, 2)
    assert parse_version("ffmpeg version 7.1 Copyright") == (7, 1)
    assert parse_version("ffmpeg version N-113245-g1b2c3d Copyright") is None  # a git build
    assert parse_filters(LISTING) == {"abench", "perspective", "anoisesrc", "amix"}


def test_an_old_ffmpeg_or_a_missing_filter_is_named():
    assert ffmpeg_problems("ffmpeg version 5.1.6", set(FILTERS)) == []
    assert ffmpeg_problems("ffmpeg version N-1-gabc", set(FILTERS)) == []
    assert ffmpeg_problems("ffmpeg version 4.3.1", set(FILTERS)) == \
        ["it is version 4.3.1, older than 4.4"]
    assert ffmpeg_problems("ffmpeg version 4.4", set(FILTERS) - {"sendcmd"}) == \
        ["it lacks the filter sendcmd"]
    assert ffmpeg_problems("ffmpeg version 4.4", set(FILTERS), sizes_frames=False) == \
        ["its crop and scale cannot change size every frame (sendcmd's [expr] commands, "
         "scale's eval=frame with t), as camera moves need"]


@pytest.mark.ffmpeg
def test_this_ffmpeg_sizes_each_frame_as_the_camera_moves_do():
    """The trial passes here, and its sizes did change every frame: shown after the crop
    (sendcmd's commands) and after the scale (eval=frame), the widths grow frame by frame."""
    assert sizes_each_frame()
    at = FRAME_SIZING_TRIAL.index("-vf")
    graph = FRAME_SIZING_TRIAL[at + 1].replace("h=64,", "h=64,showinfo,").replace(
        ",crop=w=16:h=16", ",showinfo")
    shown = subprocess.run(["ffmpeg", *FRAME_SIZING_TRIAL[:at], "-v", "info", "-vf", graph,
                            "-f", "null", "-"], capture_output=True, text=True, check=True)
    sizes = re.findall(r" s:(\d+x\d+) ", shown.stderr)
    assert sizes == ["32x64", "16x16", "34x64", "18x16", "36x64", "20x16"], shown.stderr[-2000:]


@pytest.mark.ffmpeg
def test_the_filter_list_is_every_filter_the_graphs_use():
    """Every FFmpeg filter named where a graph's filter goes (a string's start, after ',',
    ';', ']' or '}') in the modules that build graphs is in FILTERS, and each of FILTERS
    is used there."""
    listing = subprocess.run(["ffmpeg", "-hide_banner", "-filters"], capture_output=True,
                             text=True, check=True).stdout
    known = parse_filters(listing)
    code = ROOT / "vidgen_ray"
    sources = [code / "pipeline" / "assembly.py", code / "pipeline" / "camera.py",
               code / "pipeline" / "clip_fit.py", code / "speech" / "bark.py",
               *(code / "audio").glob("*.py")]
    used = set()
    for source in sources:
        for literal in re.findall(r'"((?:[^"\\\n]|\\.)*)"', source.read_text(encoding="utf-8")):
            # A filter may carry an instance name (crop@name=...).
            used |= {m.group(1) for m in re.finditer(
                r"(?:^|[,;\]}])\s*([a-z][a-z0-9_]*)(?:@[^=]*)?=", literal)
                if m.group(1) in known}
    assert used == set(FILTERS), (sorted(used - FILTERS), sorted(FILTERS - used))


# What a build whose scale lacks eval=frame answers the trial (and any chunk) with.
OLD_SCALE = """  *eval=frame*) echo "[scale] Option 'eval' not found" >&2; exit 1;;"""


def _fake_ffmpeg(folder: Path, version: str, drop: set[str],
                 sizes_frames: bool = True) -> dict[str, str]:
    """A folder with an `ffmpeg` that says ``version`` and lists the real filters but
    ``drop``, refuses scale's eval=frame as a build without it does unless ``sizes_frames``,
    running the real one for anything else; the environment to put it first."""
    real = subprocess.run(["ffmpeg", "-hide_banner", "-filters"], capture_output=True,
                          text=True, check=True).stdout
    kept = [row for row in real.splitlines()
            if not (len(row.split()) > 1 and row.split()[1] in drop)]
    folder.mkdir()
    (folder / "filters.txt").write_text("\n".join(kept) + "\n", encoding="utf-8")
    script = folder / "ffmpeg"
    script.write_text(f"""#!/bin/sh
case " $* " in
  *" -version "*) echo "ffmpeg version {version} Copyright (c) 2000-2020 the FFmpeg developers";;
  *" -filters "*) cat "{folder / 'filters.txt'}";;
{"" if sizes_frames else OLD_SCALE}
  *) exec "{subprocess.check_output(['which', 'ffmpeg'], text=True).strip()}" "$@";;
esac
""", encoding="utf-8")
    script.chmod(0o755)
    return {**os.environ, "PATH": f"{folder}{os.pathsep}{os.environ['PATH']}",
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


@pytest.mark.ffmpeg
@pytest.mark.parametrize(("version", "drop", "sizes", "said"), [
    ("4.3.1", set(), True, "version 4.3.1, older than 4.4"),
    ("6.0", {"sendcmd", "sidechaincompress"}, True, "lacks the filters sendcmd, "
                                                    "sidechaincompress"),
    ("4.4", set(), False, "cannot change size every frame"),
])
def test_a_render_names_an_unfit_ffmpeg_before_any_work(tmp_path, version, drop, sizes, said):
    env = _fake_ffmpeg(tmp_path / "bin", version, drop, sizes)
    script = tmp_path / "story.md"
    script.write_text("# Harbour\n\nThe boats come home.\n", encoding="utf-8")
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "vidgen_ray", "render", str(script), "-o",
                           str(out)], env=env, capture_output=True, text=True, timeout=300)
    message = " ".join(done.stderr.split())
    assert done.returncode == 1 and said in message, done.stderr
    assert "install FFmpeg 4.4 or newer" in message and str(tmp_path / "bin") in message
    assert not out.exists()  # refused before anything was made


# ---- disk space ------------------------------------------------------------------------------

def test_the_space_check_says_how_much_is_missing(tmp_path):
    check_space("sdxl", 6_900_000_000, 7_000_000_000, tmp_path)  # fits: nothing said
    with pytest.raises(DependencyError) as caught:
        check_space("sdxl", 6_900_000_000, 2_100_000_000, tmp_path)
    assert caught.value.message.startswith(
        f"sdxl needs 6.9 GB in {tmp_path}, which has 2.1 GB free: 4.8 GB missing")
    assert "HF_HOME" in caught.value.message
    assert free_bytes(tmp_path / "not" / "made" / "yet") == free_bytes(tmp_path)


SDXL = "stabilityai/stable-diffusion-xl-base-1.0"
WEIGHTS = "unet/diffusion_pytorch_model.fp16.safetensors"


def _repo() -> list[RepoFile]:
    small = [RepoFile("model_index.json", b"{}")]
    for folder in ("text_encoder", "text_encoder_2", "unet", "vae"):
        small += [RepoFile(f"{folder}/config.json", b"{}"),
                  RepoFile(f"{folder}/diffusion_pytorch_model.fp16.safetensors", b"weights")]
    return small


def test_a_download_the_disk_has_no_room_for_is_refused_before_a_byte_comes(tmp_path):
    hf = tmp_path / "hf"
    env = {"HF_HOME": str(hf), "HF_HUB_CACHE": None, "VIDGEN_IMAGE_SAFETY_CHECKER": "false"}
    with LocalHub({SDXL: _repo()}, stated_sizes={WEIGHTS: 7 * 10**15}) as hub:
        result = CliRunner().invoke(app, ["models", "download", "sdxl", "--no-progress"],
                                    env={**env, "HF_ENDPOINT": hub.url})
        said = " ".join(result.output.split())
        assert result.exit_code == 1 and "sdxl needs 7000000.0 GB in" in said, result.output
        assert "missing" in said and "HF_HOME" in said
        assert not [r for r in hub.requests if "/resolve/" in r]  # nothing was fetched
        hub.stated_sizes.clear()  # the listing now states the files' true, tiny sizes
        result = CliRunner().invoke(app, ["models", "download", "sdxl", "--no-progress"],
                                    env={**env, "HF_ENDPOINT": hub.url})
        assert result.exit_code == 0, result.output
        assert [r for r in hub.requests if WEIGHTS in r]
