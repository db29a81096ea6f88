"""One job, several outputs: renditions of the same speech and pictures, with burn-in."""

import json

import pytest

from vidgen_ray.config import RenderSettings
from vidgen_ray.farm import render
from vidgen_ray.ffmpeg import decode_errors, probe

pytestmark = [pytest.mark.ray, pytest.mark.ffmpeg, pytest.mark.slow]

SCRIPT = "# Short\n\n## Quay\n\nThe boats came home.\n"


def test_a_job_renders_every_rendition_at_its_size(ray_local, tmp_path):
    script = tmp_path / "short.md"
    script.write_text(SCRIPT, encoding="utf-8")
    settings = RenderSettings(chunk_seconds=1.0, renditions=["320x180", "180x320"],
                              burn_subtitles=True, transition="fade_black")
    result = render(script, tmp_path / "out", settings)
    out = result.out_dir
    sizes = {"video.mp4": (1280, 720), "video-320x180.mp4": (320, 180),
             "video-180x320.mp4": (180, 320)}
    durations = set()
    for name, size in sizes.items():
        info = probe(out / name)
        video = next(s for s in info["streams"] if s["codec_type"] == "video")
        audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
        assert (video["width"], video["height"]) == size, name
        assert audio["codec_name"] == "aac"
        assert decode_errors(out / name) == ""
        durations.add(round(float(info["format"]["duration"]), 2))
    assert len(durations) == 1  # one timeline, one soundtrack for all
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["renditions"]) == {"video-320x180.mp4", "video-180x320.mp4"}
    assert manifest["renditions"]["video-180x320.mp4"]["width"] == 180
    assert {"video-320x180.mp4", "video-180x320.mp4"} <= set(manifest["artifacts"])
    assert manifest["settings"]["renditions"] == ["320x180", "180x320"]
    # Each size's chunks were encoded as tasks of their own: three sets of the same ranges.
    chunks = [k for k in manifest["parts"] if k.startswith("chunk")]
    assert len(chunks) >= 6 and len(chunks) % 3 == 0
    assert len(result.placement["chunk"]) == len(chunks)
