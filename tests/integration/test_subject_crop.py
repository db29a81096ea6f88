"""rendition_pictures=subject: a landscape picture in a portrait frame keeps its subject in the
video (the centre crop loses it), and the chunks still join frame for frame."""

import subprocess
from pathlib import Path

import numpy as np
import pytest

from vidgen_ray.config import RenderSettings
from vidgen_ray.pipeline import assembly
from vidgen_ray.storyboard import Line, Scene, Storyboard
from vidgen_ray.testing.pictures import subject_picture
from vidgen_ray.timeline import Pacing, plan_timeline

pytestmark = [pytest.mark.ffmpeg]

FRAME = (360, 640)  # a 9:16 rendition of a 16:9 render
PICTURE = subject_picture((1344, 768), (0.85, 0.5))  # the subject near the right edge


def _timeline(fps: int):
    board = Storyboard(scenes=[Scene(title="Quay", lines=[Line(text="x")], mood="calm")])
    return plan_timeline(board, [[2.0]], Pacing(fps=fps), seed=1)


def _frames(settings: RenderSettings, start: int, end: int, folder: Path) -> np.ndarray:
    """Frames [start, end) of the one-scene timeline, decoded to RGB."""
    timeline = _timeline(settings.fps)
    still = folder / "scene0.png"
    still.write_bytes(PICTURE)
    crops = assembly.subject_crops({0: PICTURE}, FRAME, settings)
    args = assembly.chunk_args(timeline, start, end, {0: still}, settings, Path("-"), FRAME,
                               crops=crops)
    graph = args[: args.index("-map") + 2]
    raw = subprocess.run(["ffmpeg", "-v", "error", *graph, "-r", str(settings.fps),
                          "-frames:v", str(end - start), "-f", "rawvideo", "-pix_fmt", "rgb24",
                          "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, FRAME[1], FRAME[0], 3)


def _subject_share(frame: np.ndarray) -> float:
    red = (frame[..., 0] > 170) & (frame[..., 1] < 110) & (frame[..., 2] < 110)
    return float(red.mean())


def test_the_subject_stays_in_a_portrait_crop_and_the_centre_crop_loses_it(tmp_path):
    subject = _frames(RenderSettings(fps=12, rendition_pictures="subject"), 0, 24, tmp_path)
    centre = _frames(RenderSettings(fps=12, rendition_pictures="crop"), 0, 24, tmp_path)
    # The disc, 75 px across in a 360x640 frame, is about 8 % of it.
    assert min(_subject_share(f) for f in subject) > 0.05
    assert max(_subject_share(f) for f in centre) < 0.001


def test_subject_crops_join_frame_for_frame(tmp_path):
    settings = RenderSettings(fps=12, rendition_pictures="subject")
    total = _timeline(settings.fps).total_frames
    whole = _frames(settings, 0, total, tmp_path)
    pieces = np.concatenate([_frames(settings, 0, 20, tmp_path),
                             _frames(settings, 20, total, tmp_path)])
    assert whole.shape[0] == total and np.array_equal(whole, pieces)
    assert not np.array_equal(whole[0], whole[-1])  # the camera moves over the crop
