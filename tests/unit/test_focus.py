"""Subject-aware crops (images/focus.py): the crop window keeps the subject, a picture
without one is cropped at the centre as before, and the answer is a pure function of the
bytes (every chunk crops alike)."""

import pytest

from vidgen_ray.images.focus import subject_offset
from vidgen_ray.testing.pictures import SUBJECT_RADIUS
from vidgen_ray.testing.pictures import subject_picture as _picture

SOURCE = (1344, 768)  # SDXL's landscape drawing size
PORTRAIT = (1080, 1920)
RADIUS = SUBJECT_RADIUS


def _window(offset: float, source_side: int, keep: float) -> tuple[float, float]:
    """The kept span, in source pixels, of a crop at ``offset`` keeping ``keep`` of it."""
    span = source_side * keep
    start = offset * (source_side - span)
    return start, start + span


@pytest.mark.parametrize("x", [0.15, 0.3, 0.7, 0.85])
def test_a_landscape_picture_cropped_to_portrait_keeps_its_subject(x):
    tx, ty = subject_offset(_picture(SOURCE, (x, 0.5)), PORTRAIT)
    assert ty == 0.5  # the height is not cropped
    keep = (PORTRAIT[0] / PORTRAIT[1]) / (SOURCE[0] / SOURCE[1])
    left, right = _window(tx, SOURCE[0], keep)
    disc = (x * SOURCE[0] - RADIUS, x * SOURCE[0] + RADIUS)
    assert left <= disc[0] + 4 and disc[1] - 4 <= right, (tx, (left, right), disc)
    centre_left, centre_right = _window(0.5, SOURCE[0], keep)
    assert disc[1] < centre_left or disc[0] > centre_right or x in (0.3, 0.7)


@pytest.mark.parametrize("y", [0.12, 0.85])
def test_a_portrait_picture_cropped_to_landscape_keeps_its_subject(y):
    source = (768, 1344)
    tx, ty = subject_offset(_picture(source, (0.5, y)), (1920, 1080))
    assert tx == 0.5
    keep = (source[0] / source[1]) / (1920 / 1080)
    top, bottom = _window(ty, source[1], keep)
    assert top <= y * source[1] - RADIUS + 4 and y * source[1] + RADIUS - 4 <= bottom


def test_no_subject_keeps_the_centre_crop():
    for seed in range(3):
        assert subject_offset(_picture(SOURCE, None, seed), PORTRAIT) == (0.5, 0.5)


def test_a_centred_subject_and_the_same_shape_keep_the_centre():
    assert subject_offset(_picture(SOURCE, (0.5, 0.5)), PORTRAIT) == (0.5, 0.5)
    assert subject_offset(_picture(SOURCE, (0.9, 0.5)), (2688, 1536)) == (0.5, 0.5)


def test_the_offset_is_a_function_of_the_bytes():
    png = _picture(SOURCE, (0.8, 0.4), seed=7)
    assert subject_offset(png, PORTRAIT) == subject_offset(bytes(png), PORTRAIT)
