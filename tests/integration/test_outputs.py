"""The output folder is always true: a render leaves only what it made (what manifest.json
lists), stems are 16-bit PCM unless 24 bits are asked for, and the loudness block records
the pass that was applied."""

import json
from pathlib import Path

import pytest

from vidgen_ray.config import RenderSettings
from vidgen_ray.farm.connect import render
from vidgen_ray.programs import probe

pytestmark = [pytest.mark.ray, pytest.mark.ffmpeg, pytest.mark.slow]

SCRIPT = "# Short\n\n## Quay\n\nThe boats came home.\n"


def _files(out: Path) -> set[str]:
    return {p.relative_to(out).as_posix() for p in out.rglob("*")
            if p.is_file() and p.relative_to(out).parts[0] != "parts"}


def test_a_second_render_leaves_only_what_it_made(ray_local, tmp_path):
    script = tmp_path / "short.md"
    script.write_text(SCRIPT, encoding="utf-8")
    out = tmp_path / "out"
    first = RenderSettings(chunk_seconds=2.0, renditions=["320x180"], stems="wav",
                           timeline_formats=["otio", "fcpxml"])
    render(script, out, first)
    made = _files(out)
    assert {"video-320x180.mp4", "mix.wav", "stems/speech.wav", "timeline.fcpxml"} <= made
    stem = next(s for s in probe(out / "stems/music.wav")["streams"])
    assert stem["codec_name"] == "pcm_s16le"  # the default: every tool opens it

    # An edited script, no rendition, no stems, no fcpxml: their old files must not stay.
    script.write_text(SCRIPT + "\nThe nets were dry by noon.\n", encoding="utf-8")
    (out / "notes.txt").write_text("mine", encoding="utf-8")  # a person's own file
    render(script, out, RenderSettings(chunk_seconds=2.0, timeline_formats=["otio"]))
    manifest = json.loads((out / "manifest.json").read_text())
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"  # never touched
    assert _files(out) - {"notes.txt"} == set(manifest["outputs"])
    assert set(manifest["artifacts"]) <= set(manifest["outputs"])
    for stale in ("video-320x180.mp4", "mix.wav", "stems/speech.wav", "timeline.fcpxml"):
        assert not (out / stale).exists(), stale
        assert (out / "parts" / "old" / stale).is_file(), stale  # moved, not lost
    assert not (out / "stems").exists()

    loudness = manifest["loudness"]
    assert loudness["target"] == -16.0
    # The applied pass is the linear second one, given the first pass's measurement.
    assert loudness["applied"]["normalization_type"] == "linear"
    assert "linear=true" in loudness["applied"]["filter"]
    assert "measured_I=" in loudness["applied"]["filter"]
    assert abs(loudness["final"]["integrated"] + 16.0) <= 1.0
    assert loudness["final"]["true_peak"] <= -1.0


def test_stems_are_24_bit_on_request(ray_local, tmp_path):
    script = tmp_path / "short.md"
    script.write_text(SCRIPT, encoding="utf-8")
    settings = RenderSettings(chunk_seconds=2.0, stems="wav", stems_bit_depth=24)
    result = render(script, tmp_path / "out", settings)
    for name in ("mix.wav", "stems/speech.wav"):
        stream = probe(result.out_dir / name)["streams"][0]
        assert stream["codec_name"] == "pcm_s24le", name
