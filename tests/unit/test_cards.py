"""Storyboard cards: pure Pillow, no external programs."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
from dataclasses import replace
from itertools import combinations
from typing import get_args

import numpy as np
import PIL
import pytest
from PIL import Image

from vidgen_ray.config import Aspect, RenderSettings, Resolution
from vidgen_ray.errors import SettingsError
from vidgen_ray.images import create_image_backend
from vidgen_ray.images.base import ImageRequest
from vidgen_ray.images.card_text import card_words, mood_label, scene_label, shows_narration
from vidgen_ray.images.cards import (
    MARGIN,
    PALETTES,
    SAFE_FRACTION,
    SUBTITLE_BAND,
    CardsBackend,
    find_fonts,
    is_rtl,
    load_font,
    render_background,
    render_card,
    render_text_layer,
    text_boxes,
    wrap_text,
)

FONTS = find_fonts()
needs_dejavu = pytest.mark.skipif(FONTS[0] is None, reason="DejaVu Sans is not installed")

LONG = " ".join(["Extraordinarily"] * 3 + ["word"] * 400) + " gjpqy ÅÉ"
CROWD = tuple(f"CHARACTER NUMBER {i}" for i in range(30))


def request(**changes) -> ImageRequest:
    base = ImageRequest(
        scene_number=3, title="The Lighthouse", characters=("MARA", "THE KEEPER"),
        description="The lamp turns slowly above the black sea.", mood="tense",
        width=1280, height=720, seed=42,
    )
    return replace(base, **changes)


def png_image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def outside_safe_area(width: int, height: int) -> np.ndarray:
    inset = (1 - SAFE_FRACTION) / 2
    mask = np.ones((height, width), bool)
    mask[round(inset * height):round((1 - inset) * height),
         round(inset * width):round((1 - inset) * width)] = False
    return mask


@pytest.mark.parametrize("resolution", get_args(Resolution))
@pytest.mark.parametrize("aspect", get_args(Aspect))
def test_card_is_exactly_the_frame_size_and_long_text_stays_in_the_safe_area(resolution, aspect):
    width, height = RenderSettings(resolution=resolution, aspect=aspect).size
    overfull = request(title="W" * 300, description=LONG, characters=CROWD,
                       width=width, height=height)

    card = png_image(CardsBackend().generate([overfull])[0])

    assert card.size == (width, height) and card.mode == "RGB"
    # Everything written lies inside the central 90%: outside it the card is pure background.
    background = render_background(width, height, overfull.mood, overfull.seed).convert("RGB")
    changed = np.any(np.asarray(card) != np.asarray(background), axis=2)
    assert changed.any(), "nothing was written on the card"
    assert not (changed & outside_safe_area(width, height)).any()
    # And the writing itself (before its shadow) sits inside too, not just clipped.
    left, top, right, bottom = render_text_layer(overfull, FONTS).getbbox()
    inset = (1 - SAFE_FRACTION) / 2
    assert left >= inset * width and right <= (1 - inset) * width
    assert top >= inset * height and bottom <= (1 - inset) * height


def test_same_request_gives_identical_png_bytes_even_in_another_process():
    backend = CardsBackend()
    first, again = backend.generate([request(), request()])
    assert first == again
    script = (
        "import hashlib, sys; from vidgen_ray.images.base import ImageRequest; "
        "from vidgen_ray.images.cards import CardsBackend; "
        "r = ImageRequest(3, 'The Lighthouse', 'The lamp turns slowly above the black sea.', "
        "('MARA', 'THE KEEPER'), 'tense', 1280, 720, 42); "
        "sys.stdout.write(hashlib.sha256(CardsBackend().generate([r])[0]).hexdigest())"
    )
    other = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           check=True, env={**os.environ, "PYTHONHASHSEED": "12345"})
    assert other.stdout == hashlib.sha256(first).hexdigest()


def test_seed_changes_the_pattern_but_not_the_layout():
    one, two = CardsBackend().generate([request(seed=1), request(seed=2)])
    assert one != two
    assert render_text_layer(request(seed=1), FONTS) == render_text_layer(request(seed=2), FONTS)


def test_each_mood_has_its_own_colour():
    means = {mood: np.asarray(render_background(320, 180, mood, 7).convert("RGB"))
             .reshape(-1, 3).mean(axis=0) for mood in PALETTES}
    assert set(means) == {"neutral", "calm", "tense", "joyful", "sad", "mysterious", "epic"}
    for a, b in combinations(means, 2):
        assert np.abs(means[a] - means[b]).sum() > 20, f"{a} and {b} look alike"


@pytest.mark.parametrize("title, description, characters", [
    ("المنارة في نهاية العالم", "يدور المصباح ببطء فوق البحر الأسود", ("مارا", "الحارس")),
    ("המגדלור בסוף העולם", "המנורה מסתובבת לאט מעל הים השחור", ("מרה",)),
    ("東京の夜 — Ünïcödé ✓ 🎬", "日本語のテキストにはスペースがありません。" * 20, ("ユキ",)),
    ("Mixed עברית and English", "e\u0301 combining, zero\u200bwidth, tab\there", ("Ø",)),
    ("", "", ()),
])
def test_any_unicode_renders(title, description, characters):
    data = CardsBackend().generate([request(title=title, description=description,
                                            characters=characters, mood="mysterious")])[0]
    assert png_image(data).size == (1280, 720)


@needs_dejavu
def test_right_to_left_text_hangs_from_the_right_margin():
    arabic = request(title="المنارة", description="", characters=())
    layer = np.asarray(render_text_layer(arabic, FONTS).getchannel("A"))
    title_rows = layer[int(0.3 * 720):int(0.85 * 720)]
    columns = np.nonzero(title_rows.max(axis=0))[0]
    assert columns.min() > 1280 / 2 and columns.max() > 0.9 * 1280
    assert is_rtl("المنارة في") and is_rtl("  «המגדלור»") and not is_rtl("Hello שלום")


def test_wrap_keeps_every_line_within_the_width_and_marks_the_cut():
    font = load_font(FONTS[0], 30)
    lines = wrap_text(LONG, font.getlength, 400, 4)
    assert len(lines) == 4
    assert all(font.getlength(line) <= 400 for line in lines)
    assert lines[-1].endswith("…")
    assert wrap_text("short text", font.getlength, 400, 4) == ["short text"]
    assert wrap_text("anything", font.getlength, 400, 0) == []
    assert wrap_text("   ", font.getlength, 400, 3) == []


def test_wrap_breaks_words_longer_than_a_line():
    font = load_font(FONTS[0], 30)
    lines = wrap_text("字" * 100, font.getlength, 300, 50)
    assert len(lines) > 1 and "".join(lines) == "字" * 100
    assert all(font.getlength(line) <= 300 for line in lines)


def test_pillow_default_font_is_a_working_fallback():
    card = render_card(request(title="Fallback", description=LONG), fonts=(None, None))
    assert card.size == (1280, 720)


@needs_dejavu
def test_version_names_drawing_pillow_and_font():
    version = CardsBackend().version()
    assert version.startswith("cards-") and f"pillow-{PIL.__version__}" in version
    assert "DejaVuSans.ttf" in version
    serif = FONTS[0].with_name("DejaVuSerif.ttf")
    if serif.is_file():
        other = CardsBackend(font_path=serif)
        assert "DejaVuSerif.ttf+DejaVuSerif-Bold.ttf" in other.version()
        assert other.generate([request()]) != CardsBackend().generate([request()])


def test_missing_font_file_is_a_settings_error():
    with pytest.raises(SettingsError, match="does not exist"):
        CardsBackend(font_path="/no/such/font.ttf")


def test_unknown_mood_and_bad_size_are_settings_errors():
    with pytest.raises(SettingsError, match="unknown mood 'grumpy'.*neutral"):
        CardsBackend().generate([request(mood="grumpy")])
    with pytest.raises(SettingsError, match="out of range"):
        CardsBackend().generate([request(width=10)])


def test_factory_knows_cards_and_names_the_choices():
    assert create_image_backend("cards", RenderSettings()).name == "cards"
    with pytest.raises(SettingsError, match="unknown image backend 'sdxl-turbo'.*cards") as info:
        create_image_backend("sdxl-turbo", RenderSettings())
    assert info.value.field == "image_model"


# --- every layout at every shape: the boxes the card drew ---------------------------------

SHAPES = [(1280, 720), (720, 1280), (1080, 1080), (640, 360), (360, 640)]
LAYOUTS = {
    "plain": {},
    "overfull": {"title": "W" * 300, "description": LONG, "characters": CROWD},
    "title only": {"caption": "interior, lighthouse, night"},
    "title only, overfull": {"caption": LONG, "title": "W" * 300, "characters": CROWD},
    "no caption, no cast": {"caption": "", "characters": ()},
    "right to left": {"title": "المنارة", "description": "المصباح يدور فوق البحر الأسود.",
                      "characters": ("مارا",)},
    "french labels": {"language": "fr", "mood": "mysterious",
                      "title": "La maison du phare, cuisine"},
    "german labels": {"language": "de", "mood": "mysterious", "scene_number": 12},
}


@needs_dejavu
@pytest.mark.parametrize(("width", "height"), SHAPES)
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_every_text_box_lies_inside_the_frame(layout, width, height):
    card = request(width=width, height=height, **LAYOUTS[layout])
    boxes = text_boxes(card, FONTS)
    labels = [text for text, _ in boxes]
    assert any(text.startswith(scene_label(card.language, 0)[:-3]) for text in labels)
    inset = (1 - SAFE_FRACTION) / 2
    for text, (left, top, right, bottom) in boxes:
        assert inset * width <= left and right <= (1 - inset) * width, (text, width, height)
        assert inset * height <= top and bottom <= (1 - inset) * height, (text, width, height)
    if layout.startswith("title only"):  # beside subtitles: their band stays clear
        clear = (1 - MARGIN - SUBTITLE_BAND) * height
        assert all(bottom <= clear + 1 for _, (_, _, _, bottom) in boxes), layout


def test_labels_are_in_the_script_language():
    assert scene_label("fr", 7) == "SCÈNE 07" and scene_label("pt-BR", 2) == "CENA 02"
    assert mood_label("de", "calm") == "RUHIG" and mood_label("xx", "epic") == "EPIC"
    labels = [text for text, _ in text_boxes(request(language="es", mood="sad"), FONTS)]
    assert "ESCENA 03" in labels and "TRISTE" in labels


def test_a_card_beside_subtitles_shows_the_place_not_the_narration():
    description = "interior, kitchen, night. Mara pours the tea. The wind rattles the door."
    spoken = ["Mara pours the tea.", "The wind rattles the door.", "MARA: Sit down."]
    assert card_words(description, spoken, narration=True) == description
    assert card_words(description, spoken, narration=False) == "interior, kitchen, night."
    assert card_words("A red door in the fog.", spoken, narration=False) == (
        "A red door in the fog.")  # a visual note nobody reads out stays
    assert shows_narration("auto", burn_subtitles=False)
    assert not shows_narration("auto", burn_subtitles=True)
    assert not shows_narration("title", burn_subtitles=False)
    assert shows_narration("narration", burn_subtitles=True)
    words = [t for t, _ in text_boxes(request(caption="interior, kitchen, night"), FONTS)]
    assert "interior, kitchen, night" in words
    assert not any("lamp" in w for w in words)
