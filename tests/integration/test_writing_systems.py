"""Every writing system drawn right, on cards (Pillow + raqm) and in burned subtitles (libass).

Checked against a reference, not by eye: HarfBuzz (uharfbuzz) shapes the same text with the
same font file and size, FreeType (freetype-py) draws each glyph it chose where it placed it,
and the card's drawing must match that picture. A basic-layout (unshaped) drawing does not
match for Arabic, Hebrew and Devanagari, so the comparison can fail.
"""

from __future__ import annotations

import re
import subprocess
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from vidgen_ray.config import RenderSettings
from vidgen_ray.images import cards, fonts, linebreak
from vidgen_ray.images.base import ImageRequest
from vidgen_ray.pipeline import assembly, subtitles
from vidgen_ray.timeline import Cue

hb = pytest.importorskip("uharfbuzz")
freetype = pytest.importorskip("freetype")

SAMPLES = {
    "arabic": "المنارة في الليل",
    "hebrew": "המגדלור בלילה",
    "devanagari": "प्रकाशस्तंभ क्षत्रिय",
    "thai": "ประภาคารตั้งอยู่",
    "chinese": "灯塔在海上发光",
    "japanese": "灯台の光が見える",
    "korean": "등대가 빛난다",
}
SIZE, WIDTH, HEIGHT, X0, BASELINE = 48, 900, 120, 20, 80
NEEDS_SHAPING = ("arabic", "hebrew", "devanagari")  # unshaped, these look plainly wrong
needs_noto = pytest.mark.skipif(
    any(fonts.find_noto(s, False) is None for s in SAMPLES),
    reason="the Noto fonts are not installed (scripts/install-system-deps.sh installs them)")
needs_raqm = pytest.mark.skipif(cards.layout_engine() != ImageFont.Layout.RAQM,
                                reason="Pillow has no raqm here (libfribidi0 missing?)")


def card_drawing(text: str, layout: ImageFont.Layout | None = None) -> np.ndarray:
    """The text drawn as a card draws it: its script's font, language and direction."""
    face = fonts.face_for(text, False, cards.find_fonts()[0])
    font = cards.font_for(text, False, SIZE, cards.find_fonts())
    options = cards.text_options(text, cards.is_rtl(text))
    if layout is not None:  # the same font without shaping
        font = ImageFont.truetype(str(face.path), SIZE, index=face.index, layout_engine=layout)
        options = {}
    image = Image.new("L", (WIDTH, HEIGHT), 0)
    ImageDraw.Draw(image).text((X0, BASELINE), text, font=font, fill=255, anchor="ls",
                               **options)
    return np.asarray(image, np.float64) / 255


def harfbuzz_drawing(text: str, face: fonts.FontFace) -> np.ndarray:
    """HarfBuzz's shaping of text, each glyph rendered by FreeType at HarfBuzz's position."""
    font = hb.Font(hb.Face(hb.Blob.from_file_path(str(face.path)), face.index))
    font.scale = (SIZE * 64, SIZE * 64)  # positions in 26.6 pixels, as FreeType's
    buffer = hb.Buffer()
    buffer.add_str(text)
    buffer.guess_segment_properties()  # script and direction from the text
    buffer.language = fonts.language_of(text)
    hb.shape(font, buffer)
    ft = freetype.Face(str(face.path), index=face.index)
    ft.set_pixel_sizes(0, SIZE)
    out, pen = np.zeros((HEIGHT, WIDTH)), 0
    for info, pos in zip(buffer.glyph_infos, buffer.glyph_positions, strict=True):
        ft.load_glyph(info.codepoint, freetype.FT_LOAD_DEFAULT | freetype.FT_LOAD_RENDER)
        glyph, bitmap = ft.glyph, ft.glyph.bitmap
        if bitmap.width and bitmap.rows:
            alpha = np.array(bitmap.buffer, np.float64).reshape(bitmap.rows, bitmap.pitch)
            left = round(X0 + (pen + pos.x_offset) / 64) + glyph.bitmap_left
            top = round(BASELINE - pos.y_offset / 64) - glyph.bitmap_top
            box = out[top:top + bitmap.rows, left:left + bitmap.width]
            np.maximum(box, alpha[:, :bitmap.width] / 255, out=box)
        pen += pos.x_advance
    return out


def likeness(a: np.ndarray, b: np.ndarray) -> float:
    """Shared ink over all ink (1 = the same picture)."""
    return float(np.minimum(a, b).sum() / max(np.maximum(a, b).sum(), 1e-9))


@needs_noto
@pytest.mark.parametrize("script", SAMPLES)
def test_each_script_gets_a_font_that_covers_it(script):
    text = SAMPLES[script]
    assert fonts.script_of(text) == script
    face = fonts.face_for(text, False, cards.find_fonts()[0])
    assert face == fonts.find_noto(script, False)
    ft = freetype.Face(str(face.path), index=face.index)
    missing = [c for c in text if not c.isspace() and ft.get_char_index(ord(c)) == 0]
    assert missing == []


@needs_noto
@needs_raqm
@pytest.mark.parametrize("script", SAMPLES)
def test_card_text_matches_harfbuzz_shaping(script):
    text = SAMPLES[script]
    face = fonts.face_for(text, False, cards.find_fonts()[0])
    drawn, reference = card_drawing(text), harfbuzz_drawing(text, face)
    assert drawn.sum() > 500  # there is text at all
    assert likeness(drawn, reference) > 0.97
    if script in NEEDS_SHAPING:
        unshaped = card_drawing(text, ImageFont.Layout.BASIC)
        assert likeness(unshaped, reference) < 0.5


@needs_noto
@needs_raqm
def test_a_card_draws_arabic_joined_and_from_the_right():
    request = ImageRequest(scene_number=1, title=SAMPLES["arabic"], characters=("مارا",),
                           description=SAMPLES["arabic"], mood="calm", width=1280,
                           height=720, seed=1)
    layer = np.asarray(cards.render_text_layer(request).getchannel("A"))
    assert np.nonzero(layer[250:600].max(axis=0))[0].max() > 0.9 * 1280


@needs_noto
def test_mixed_scripts_are_drawn_in_runs_each_with_a_font_that_covers_it():
    text = "प्रकाशस्तंभ said OK। ประภาคาร ユキ"  # no single installed font has all of these
    runs = fonts.font_runs(text, False, cards.find_fonts()[0])
    assert "".join(run for run, _ in runs) == text and len(runs) == 5
    assert all(fonts.covers(face, run) for run, face in runs)
    assert runs[2][0] == "। " and runs[2][1] == runs[0][1]  # the danda stays Devanagari
    assert fonts.font_runs("المنارة Mara", True, cards.find_fonts()[1])[0][0] == "المنارة Mara"


def test_japanese_wraps_between_characters_but_never_before_closing_marks():
    font = ImageFont.load_default(size=20)
    text = "灯台の光が「夜の海」を照らしている。船はゆっくりと港へ戻った、そして朝が来た。" * 3
    lines = cards.wrap_text(text, font.getlength, 180, 40)
    assert "".join(lines) == text and len(lines) > 3
    assert not any(line[0] in linebreak.NO_LINE_START for line in lines)
    assert not any(line[-1] in linebreak.NO_LINE_END for line in lines)


def test_thai_wraps_at_word_or_cluster_boundaries():
    text = "ประภาคารตั้งอยู่บนหน้าผาริมทะเลและส่องแสงทุกคืน"
    words = linebreak.thai_words(text)
    assert "".join(words) == text and len(words) > 4
    font = ImageFont.load_default(size=20)
    lines = cards.wrap_text(text, font.getlength, 120, 20)
    assert "".join(lines) == text
    for line in lines[1:]:  # no line begins with a mark or a following vowel
        assert unicodedata.category(line[0]) not in ("Mn", "Mc")
        assert line[0] not in linebreak.THAI_FOLLOWERS


def test_a_devanagari_word_splits_only_between_clusters():
    word = "प्रकाशस्तंभक्षत्रियविद्यालय"
    assert linebreak.clusters("क्षत्रिय") == ["क्ष", "त्रि", "य"]
    font = ImageFont.load_default(size=20)
    lines = cards.wrap_text(word, font.getlength, 40, 20)
    assert "".join(lines) == word and len(lines) > 1
    assert all(unicodedata.category(line[0]) == "Lo" for line in lines)
    assert all(not line.endswith("\u094d") for line in lines[:-1])


def burn(text: str, tmp_path: Path) -> tuple[np.ndarray, str]:
    """Burn one cue into a 1 s 640x360 black video with the render's own ASS script and
    filter, and return the middle frame and libass's font log."""
    settings = RenderSettings()
    ass = tmp_path / "cue.ass"
    ass.write_text(subtitles.format_ass([Cue(1, 1, 0.0, 1.0, "", text)], settings, (640, 360)),
                   encoding="utf-8")
    video, frame = tmp_path / "burned.mp4", tmp_path / "frame.png"
    run = subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "info", "-y", "-f", "lavfi",
         "-i", "color=c=black:s=640x360:d=1:r=10", "-vf", assembly.burn_filter(ass, settings),
         "-c:v", "libx264", "-pix_fmt", "yuv420p", str(video)],
        capture_output=True, text=True, timeout=60, check=True)
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-ss", "0.5", "-i", str(video),
                    "-frames:v", "1", str(frame)], check=True, timeout=60)
    return np.asarray(Image.open(frame).convert("L")), run.stderr


def fonts_libass_used(log: str, fonts_dir: Path) -> list[fonts.FontFace]:
    """Faces libass picked: 'fontselect: (...) -> PATH-or-postscript-name, index, ...'."""
    used = []
    for name, index in re.findall(r"fontselect: \(.*?\) -> (.+?), (\d+), ", log):
        path = Path(name)
        used.append(fonts.FontFace(path if path.is_absolute() else fonts_dir / f"{name}.ttf",
                                   int(index)))
    return used


def missing_glyphs(log: str) -> list[str]:
    return sorted(set(re.findall(r"failed to find any fallback with glyph (0x[0-9A-F]+)", log)))


@pytest.mark.ffmpeg
@needs_noto
@pytest.mark.parametrize("script", ["arabic", "japanese"])
def test_burned_subtitles_draw_every_character(script, tmp_path):
    text = SAMPLES[script]
    frame, log = burn(text, tmp_path)
    assert (frame[200:, :] > 128).sum() > 100  # white text in the lower part
    assert missing_glyphs(log) == []
    used = fonts_libass_used(log, Path(RenderSettings().subtitle_fonts_dir))
    assert used and all(face.path.is_file() for face in used)
    cmaps = [freetype.Face(str(face.path), index=face.index) for face in used]
    assert all(any(f.get_char_index(ord(c)) for f in cmaps) for c in text if not c.isspace())


@pytest.mark.ffmpeg
def test_the_tofu_check_sees_characters_no_font_has(tmp_path):
    _, log = burn("\ue000\ue001", tmp_path)  # private use: no installed font draws these
    assert missing_glyphs(log) == ["0xE000", "0xE001"]
