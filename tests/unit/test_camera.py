"""Camera moves by whole-pixel crops and scales: how close the frames come to the exact
move, and that they glide (pure; the integration tests render them)."""

import numpy as np
import pytest

from vidgen_ray.pipeline import camera
from vidgen_ray.timeline import Clip

SIZES = [(1280, 720), (1920, 1080), (854, 480), (720, 1280), (160, 90)]


def source_of(size):
    (core_w, core_h), (margin_w, margin_h), sigma = camera.zoom_source(size)
    return (core_w + 2 * margin_w, core_h + 2 * margin_h), sigma


@pytest.mark.parametrize("size", SIZES)
def test_zoom_source_keeps_crops_on_even_pixels_and_the_picture_unstretched(size):
    (core_w, core_h), (margin_w, margin_h), sigma = camera.zoom_source(size)
    assert (core_w - size[0]) % 4 == 0 and (core_h - size[1]) % 4 == 0
    assert margin_w % 2 == 0 and margin_h % 2 == 0
    assert sigma == max(core_w / size[0], core_h / size[1])
    assert abs(core_w / size[0] - core_h / size[1]) < 4 / min(size)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("motion", ["zoom_in", "zoom_out"])
def test_a_zoom_stays_within_a_tenth_of_a_pixel_of_the_exact_move_and_glides(size, motion):
    clip = Clip(scene=0, start=40, end=190, fade_in=0, motion=motion)
    (source_w, source_h), sigma = source_of(size)
    edges = []
    for frame in range(clip.start, clip.end):
        ratio = sigma / camera.zoom_at(clip, frame)
        half = []
        for length, source in zip(size, (source_w, source_h), strict=True):
            s, d = camera.zoom_pair(length, source, ratio)
            assert s <= source and (source - s) % 4 == 0 and (d - length) % 4 == 0
            # Where the frame's edge lands, against the exact zoom, in frame pixels.
            assert abs(s / d - ratio) * length / 2 / ratio < 0.12
            half.append(length / 2 * (s / d) / sigma)
        edges.append(half[0])
    steps = np.diff(edges)
    middle = steps[len(steps) // 4: 3 * len(steps) // 4]  # away from the eased ends
    # The window shrinks (zoom in) or grows every frame: no frame holds or steps back.
    assert (middle < 0).all() if motion == "zoom_in" else (middle > 0).all()


@pytest.mark.parametrize("size", SIZES[:4])  # 160x90 pans by under the error a frame
@pytest.mark.parametrize("motion", ["pan_left", "pan_right", "pan_up", "pan_down"])
def test_a_pan_stays_within_a_tenth_of_a_pixel_of_the_exact_move_and_glides(size, motion):
    clip = Clip(scene=0, start=0, end=150, fade_in=0, motion=motion)
    (source_w, source_h), sigma = source_of(size)
    vertical = motion in ("pan_up", "pan_down")
    length, source = (size[1], source_h) if vertical else (size[0], source_w)
    ratio = sigma / (1 + camera.PAN_ZOOM)
    s, d = camera.pan_pair(length, source, ratio)
    assert abs(s / d - ratio) * length / ratio < 0.05  # the window's size: as exact
    places = []
    for frame in range(clip.start, clip.end):
        exact = (source - sigma * length) / 2 + sigma * camera.pan_left(clip, frame, size)[
            vertical]
        a, c = camera.pan_offsets(exact, s, d, source)
        assert a % 2 == 0 and c % 2 == 0 and 0 <= a <= source - s and c <= d - length
        place = a + c * s / d
        assert abs(place - exact) / sigma < 0.1  # frame pixels
        places.append(place)
    steps = np.diff(places)
    middle = steps[len(steps) // 4: 3 * len(steps) // 4]
    going_down = motion in ("pan_left", "pan_up")  # the window slides towards 0
    assert (middle < 0).all() if going_down else (middle > 0).all()


def test_the_filters_are_named_for_the_benchmark_and_read_the_frame_time():
    """Sizes and crops are functions of each frame's own time (t, T), not of a count of
    frames since the chunk began; the filters carry names the benchmark's ablation finds."""
    for motion in ("zoom_in", "pan_left", "static"):
        clip = Clip(scene=0, start=100, end=250, fade_in=0, motion=motion)
        moves = camera.zoom_filters if motion in camera.ZOOMS else camera.pan_filters
        text = moves(clip, 30, (1280, 720), "g3")
        assert "crop@zwg3=" in text and "scale@zsg3=" in text and text.endswith("setsar=1")
        assert ("floor(t*30+0.5)-100" in text) == (motion != "static")
