"""One job, several outputs: renditions of the same speech and pictures, with burn-in."""

import json

import numpy as np
import pytest
from PIL import Image

from vidgen_ray.config import RenderSettings
from vidgen_ray.farm.connect import render
from vidgen_ray.images.base import ImageRequest
from vidgen_ray.images.cards import find_fonts, text_boxes
from vidgen_ray.pipeline.flow import PART_SUFFIXES
from vidgen_ray.programs import decode_errors, ffmpeg, probe
from vidgen_ray.storage import LocalStore

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


def _frame(video, at: float, tmp_path):
    png = tmp_path / f"{video.stem}-{at}.png"
    ffmpeg(["-ss", f"{at:.2f}", "-i", str(video), "-frames:v", "1", "-y", str(png)])
    return np.asarray(Image.open(png).convert("RGB"), np.float64)


def test_a_rendition_of_another_shape_has_its_own_card_layout(ray_local, tmp_path):
    """A 9:16 rendition of a 16:9 render is made from cards laid out for 9:16 (every text
    box inside its frame), not cut out of the 16:9 ones ("OUSE KITCHE")."""
    script = tmp_path / "kitchen.md"
    script.write_text("# Night\n\n## The lighthouse kitchen\n\nMARA: Sit down, Elias.\n",
                      encoding="utf-8")
    settings = RenderSettings(resolution="720p", chunk_seconds=1.0, renditions=["360x640"],
                              crossfade=0.0, transition="cut")
    result = render(script, tmp_path / "out", settings)
    out = result.out_dir
    manifest = json.loads((out / "manifest.json").read_text())
    pictures = {}
    for key in manifest["parts"]:
        if key.startswith("image"):
            with Image.open(LocalStore(out / "parts", PART_SUFFIXES).path(key)) as image:
                pictures[image.size] = np.asarray(image.convert("RGB"), np.float64)
    assert set(pictures) == {(1280, 720), (360, 640)}  # one card per shape
    board = result.storyboard.scenes[0]
    tall = ImageRequest(scene_number=1, title=board.title, description=board.description,
                        characters=tuple(board.characters), mood=board.mood, width=360,
                        height=640, seed=0, language="en")
    for text, (left, top, right, bottom) in text_boxes(tall, find_fonts()):
        assert left >= 0 and right <= 360 and top >= 0 and bottom <= 640, text
    # The rendition's frames show the tall card, not a crop of the wide one.
    duration = float(probe(out / "video-360x640.mp4")["format"]["duration"])
    frame = _frame(out / "video-360x640.mp4", duration / 2, tmp_path)
    wide = Image.fromarray(pictures[(1280, 720)].astype(np.uint8))
    crop = np.asarray(wide.crop((438, 0, 843, 720)).resize((360, 640)), np.float64)
    own = pictures[(360, 640)]
    assert np.mean((frame - own) ** 2) < np.mean((frame - crop) ** 2)
    for picture, cut in ((frame, False), (crop, True)):  # the crop proves the check can fail
        writing = np.nonzero((picture.mean(axis=2) > 170).any(axis=0))[0]
        assert writing.size and (writing.min() <= 3 or writing.max() >= 356) == cut


@pytest.mark.parametrize("size", [(1280, 720), (360, 640), (640, 360), (1080, 1080)])
def test_burned_subtitles_fit_every_frame(size, tmp_path):
    """libass draws the captions of a 42-character line at every shape: nothing touches the
    frame's sides (a 9:16 frame gets shorter lines, not cut ones)."""
    from vidgen_ray.pipeline.assembly import burn_filter
    from vidgen_ray.pipeline.subtitles import Caption, format_ass

    width, height = size
    settings = RenderSettings()
    captions = [Caption(0.0, 2.0, ("Wwwww young man stood on the step, soaked",
                                   "and shivering in the rain at the door."))]
    ass = tmp_path / "s.ass"
    ass.write_text(format_ass(captions, settings, size), encoding="utf-8")
    png = tmp_path / "frame.png"
    ffmpeg(["-f", "lavfi", "-i", f"color=black:s={width}x{height}:d=1", "-vf",
            burn_filter(ass, settings), "-ss", "0.5", "-frames:v", "1", "-y", str(png)])
    ink = np.asarray(Image.open(png).convert("L")) > 60
    columns = np.nonzero(ink.any(axis=0))[0]
    assert columns.size, "no subtitle was drawn"
    assert columns.min() > 2 and columns.max() < width - 3, (columns.min(), columns.max())
