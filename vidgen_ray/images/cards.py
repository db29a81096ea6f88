"""Storyboard cards with Pillow: the embedded picture backend, no GPU and no download.

A card is a mood-coloured gradient with soft seeded shapes (card_background.py, so a Ken
Burns move has something to move over), the scene number and mood in the script's language
(card_text.py), the title, the caption (the description, or only what is not spoken when
subtitles are on screen) and the characters as name chips. Every size is a fraction of the
frame and the layout is made for the frame's own shape; nothing is drawn outside the
central 90%, so a 10% zoom never cuts text, and ``text_boxes`` gives every text box drawn.
Same request, same PNG bytes.

Every writing system: each piece of text gets a font that covers its script (fonts.py),
is shaped by raqm (HarfBuzz + FriBiDi) with its language and direction, and wraps where
its script allows (linebreak.py). Right-to-left paragraphs hang from the right margin.
"""

from __future__ import annotations

import colorsys
import functools
import hashlib
import io
from pathlib import Path

import PIL
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont, features

from vidgen_ray.errors import SettingsError
from vidgen_ray.images import linebreak
from vidgen_ray.images.base import ImageRequest
from vidgen_ray.images.card_background import (  # noqa: F401 (PALETTES: re-exported)
    PALETTES,
    Rgb,
    _palette,
    render_background,
)
from vidgen_ray.images.card_text import mood_label, scene_label
from vidgen_ray.images.fonts import NOTO, face_for, find_noto, font_runs, language_of
from vidgen_ray.images.linebreak import ellipsise, is_rtl, wrap_text

DRAWING_VERSION = "cards-3"  # 2: a font, language and line breaking per writing system;
# 3: labels in the script's language, a caption
SAFE_FRACTION = 0.90  # a 10% Ken Burns zoom keeps this central part in view
MARGIN = 0.07  # content box inset per side, as a fraction of width/height: inside the 5%
SUBTITLE_BAND = 0.25  # of the height, kept clear at the bottom of a card beside subtitles
Box = tuple[float, float, float, float]  # left, top, right, bottom, in pixels

_FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),  # Debian, Ubuntu
    Path("/usr/share/fonts/dejavu"),  # Fedora
    Path("/usr/share/fonts/TTF"),  # Arch
    Path("/usr/local/share/fonts"),
    Path("/opt/homebrew/share/fonts"),
    Path("/Library/Fonts"),
    Path.home() / "Library" / "Fonts",  # Homebrew cask font-dejavu
)


def find_fonts(font_path: str | Path | None = None) -> tuple[Path | None, Path | None]:
    """(regular, bold) font files: the given one (its -Bold sibling if any), else DejaVu Sans
    from the usual places, else (None, None) for Pillow's bundled font."""
    if font_path is not None:
        regular = Path(font_path)
        if not regular.is_file():
            raise SettingsError(f"font file {str(regular)!r} does not exist: give the path of "
                                "a .ttf/.otf file, or leave font_path empty for DejaVu Sans",
                                field="font_path")
        bold = regular.with_name(f"{regular.stem}-Bold{regular.suffix}")
        return regular, (bold if bold.is_file() else regular)
    for folder in _FONT_DIRS:
        if (folder / "DejaVuSans.ttf").is_file():
            regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
            return regular, (bold if bold.is_file() else regular)
    return None, None


def layout_engine() -> ImageFont.Layout:
    # raqm shapes Arabic and orders right-to-left text; basic layout only avoids crashing.
    return ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC


@functools.lru_cache(maxsize=64)
def load_font(path: Path | None, size: int, index: int = 0) -> ImageFont.FreeTypeFont:
    size = max(8, size)
    if path is None:
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(str(path), size, index=index, layout_engine=layout_engine())


def font_for(text: str, bold: bool, size: int,
             fonts: tuple[Path | None, Path | None]) -> ImageFont.FreeTypeFont:
    """A font that covers the text's script (the given regular/bold one when it does)."""
    face = face_for(text, bold, fonts[bold])
    return load_font(face.path if face else None, size, face.index if face else 0)


def runs_of(text: str, bold: bool, size: int,
            fonts: tuple[Path | None, Path | None]) -> list[tuple[str, ImageFont.FreeTypeFont]]:
    """The text in runs, each with a font of ``size`` that covers it (one run, usually)."""
    return [(run, load_font(face.path if face else None, size, face.index if face else 0))
            for run, face in font_runs(text, bold, fonts[bold])]


def text_width(text: str, bold: bool, size: int, fonts: tuple[Path | None, Path | None],
               rtl: bool = False) -> float:
    runs = runs_of(text, bold, size, fonts)
    if len(runs) == 1:
        return runs[0][1].getlength(text, **text_options(text, rtl))
    return sum(font.getlength(run, **text_options(run, is_rtl(run))) for run, font in runs)


def draw_text(draw: ImageDraw.ImageDraw, x: float, middle: float, text: str, bold: bool,
              size: int, fonts: tuple[Path | None, Path | None], fill, rtl: bool) -> Box:
    """Draw text from x, centred on the line ``middle``: as one shaped string when one font
    covers it, else run by run on a shared baseline (runs in reverse in a right-to-left
    paragraph, each shaped in its own direction). Returns the box its ink may cover."""
    runs = runs_of(text, bold, size, fonts)
    if len(runs) == 1:
        options = text_options(text, rtl)
        draw.text((x, middle), text, font=runs[0][1], fill=fill, anchor="lm", **options)
        return draw.textbbox((x, middle), text, font=runs[0][1], anchor="lm", **options)
    ascent, descent = runs[0][1].getmetrics()
    baseline = middle + (ascent - descent) / 2
    boxes = []
    for run, font in reversed(runs) if rtl else runs:
        if is_rtl(run) != rtl:  # its trailing space belongs between it and the next run
            run = run[len(run.rstrip()):] + run.rstrip()
        options = text_options(run, is_rtl(run))
        draw.text((x, baseline), run, font=font, fill=fill, anchor="ls", **options)
        boxes.append(draw.textbbox((x, baseline), run, font=font, anchor="ls", **options))
        x += font.getlength(run, **options)
    return union(boxes)


def union(boxes: list[Box]) -> Box:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


def text_options(text: str, rtl: bool) -> dict:
    """Pillow text() options that make raqm shape text in its language and direction."""
    if layout_engine() != ImageFont.Layout.RAQM:
        return {}
    return {"direction": "rtl" if rtl else "ltr", "language": language_of(text)}


class _Card:
    """Lays out and draws the writing of one card on a transparent layer. Sizes are in
    ``unit``s, 1% of the frame's short side, so every resolution and aspect looks alike."""

    def __init__(self, request: ImageRequest, fonts: tuple[Path | None, Path | None]):
        self.request, self.fonts = request, fonts
        width, height = request.width, request.height
        self.unit = min(width, height) / 100
        self.left, self.right = MARGIN * width, (1 - MARGIN) * width
        self.top, self.bottom = MARGIN * height, (1 - MARGIN) * height
        self.landscape = width > height
        self.accent = (*_palette(request.mood)[2], 255)
        self.layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
        self.draw = ImageDraw.Draw(self.layer, "RGBA")
        self.boxes: list[tuple[str, Box]] = []  # every piece of text drawn, and its ink box

    def font(self, bold: bool, size: float, text: str = "") -> ImageFont.FreeTypeFont:
        return font_for(text, bold, round(size * self.unit), self.fonts)

    def render(self) -> Image.Image:
        header_bottom = self.header()
        request = self.request
        if request.caption is not None and request.caption != request.description:
            # Beside subtitles (card_text title): names under the header and the lower
            # part of the frame left to the subtitles, so nothing is drawn under them.
            names_bottom = self.chips(top=header_bottom + 3 * self.unit)
            band = SUBTITLE_BAND * self.layer.height
            self.body(names_bottom + 4 * self.unit, self.bottom - band)
            return self.layer
        self.body(header_bottom + 4 * self.unit, self.chips() - 4 * self.unit)
        return self.layer

    def header(self) -> float:
        """An accent bar, SCENE 07 on the left, the mood on the right; returns its bottom."""
        u, label, tag = self.unit, self.font(True, 3.2), self.font(False, 2.8)
        self.draw.rectangle((self.left, self.top, self.left + 5 * u, self.top + 0.8 * u),
                            fill=self.accent)
        y = self.top + 2.2 * u
        language = self.request.language
        self.spaced(self.left, y, scene_label(language, self.request.scene_number), label,
                    self.accent)
        mood = mood_label(language, self.request.mood)
        x = self.right - self.spaced(0, 0, mood, tag, None)
        self.spaced(x, y + 0.3 * u, mood, tag, (255, 255, 255, 170))
        return y + 4 * u

    def body(self, top: float, bottom: float) -> None:
        """Title, accent rule and description as one block, a little below centre."""
        u, request = self.unit, self.request
        width = (self.right - self.left) * (0.72 if self.landscape else 1.0)  # short measure
        title_size, text_size = round(7.2 * u), round(3.9 * u)
        title_step, text_step, rule = 8.5 * u, 5.5 * u, 3.2 * u
        title = wrap_text(request.title, lambda t: text_width(t, True, title_size, self.fonts),
                          width, 2 if self.landscape else 3)
        title_height = len(title) * title_step + (rule if title else 0)
        room = int((bottom - top - title_height) // text_step)
        caption = request.description if request.caption is None else request.caption
        text = wrap_text(caption,
                         lambda t: text_width(t, False, text_size, self.fonts), width,
                         max(0, min(room, 7 if self.landscape else 12)))
        y = top + max(0.0, bottom - top - title_height - len(text) * text_step) * 0.62
        rtl = is_rtl(request.title)
        y = self.lines(title, y, True, title_size, title_step, (255, 255, 255, 255), rtl)
        if title:
            x = self.right - 9 * u if rtl else self.left
            self.draw.rectangle((x, y + 0.9 * u, x + 9 * u, y + 1.3 * u), fill=self.accent)
            y += rule
        self.lines(text, y, False, text_size, text_step, (255, 255, 255, 225),
                   is_rtl(caption))

    def lines(self, lines: list[str], y: float, bold: bool, size: int, step: float, fill,
              rtl: bool) -> float:
        for line in lines:  # right-to-left paragraphs hang from the right edge
            x = self.right - text_width(line, bold, size, self.fonts, rtl) if rtl else self.left
            self.boxes.append((line, draw_text(self.draw, x, y + step / 2, line, bold, size,
                                               self.fonts, fill, rtl)))
            y += step
        return y

    def chips(self, top: float | None = None) -> float:
        """A name chip per character, at most two rows, along the bottom (returns their
        top) or from ``top`` down (returns their bottom)."""
        if not self.request.characters:
            return self.bottom if top is None else top
        font, height, gap = self.font(True, 2.9), 6.2 * self.unit, 1.6 * self.unit
        rows = self.chip_rows(list(self.request.characters), font, height, gap)
        block = len(rows) * height + (len(rows) - 1) * gap
        y = self.bottom - block if top is None else top
        for row in rows:
            x = self.left
            for name in row:
                x += self.chip(name, x, y, font, height) + gap
            y += height + gap
        return self.bottom - block if top is None else top + block

    def chip_rows(self, names: list[str], font, height: float, gap: float) -> list[list[str]]:
        """Pack chips into rows; past two rows the rest become one '+N' chip."""
        room = self.right - self.left

        def row_width(row: list[str]) -> float:
            return sum(self.chip_width(n, font, height) for n in row) + gap * (len(row) - 1)

        rows: list[list[str]] = [[]]
        for name in names:
            name = ellipsise(name, lambda t: self.name_width(t, font), room * 0.45)
            if rows[-1] and row_width([*rows[-1], name]) > room:
                rows.append([])
            rows[-1].append(name)
        if len(rows) <= 2:
            return rows
        kept, hidden = rows[:2], sum(len(row) for row in rows[2:])
        while row_width([*kept[1], f"+{hidden}"]) > room:
            kept[1].pop()
            hidden += 1
        return [kept[0], [*kept[1], f"+{hidden}"]]

    def chip_width(self, name: str, font, height: float) -> float:
        dot = 0 if name.startswith("+") else height * 0.61  # the initial's dot and its gap
        return height + dot + self.name_width(name, font)

    def name_width(self, name: str, font: ImageFont.FreeTypeFont) -> float:
        return text_width(name, True, round(font.size), self.fonts, is_rtl(name))

    def chip(self, name: str, x: float, y: float, font, height: float) -> float:
        width = self.chip_width(name, font, height)
        self.draw.rounded_rectangle((x, y, x + width, y + height), radius=height / 2,
                                    fill=(255, 255, 255, 34), outline=(255, 255, 255, 90),
                                    width=max(1, round(self.unit * 0.15)))
        text_x = x + height / 2
        if not name.startswith("+"):
            dot, inset = height * 0.72, height * 0.14
            box = (x + inset, y + inset, x + inset + dot, y + inset + dot)
            self.draw.ellipse(box, fill=(*_name_colour(name), 255))
            initial = linebreak.clusters(name)[0].upper()  # a whole cluster, marks and all
            self.draw.text((x + inset + dot / 2, y + height / 2), initial, anchor="mm",
                           font=self.font(True, 2.6, initial), fill=(255, 255, 255, 255))
            text_x = x + inset + dot + height * 0.25
        self.boxes.append((name, draw_text(self.draw, text_x, y + height / 2, name, True,
                                           round(font.size), self.fonts, (255, 255, 255, 240),
                                           is_rtl(name))))
        return width

    def spaced(self, x: float, y: float, text: str, font, fill) -> float:
        """Letter-spaced caps for the small labels; measures only when fill is None."""
        start, tracking, boxes = x, font.size * 0.18, []
        for char in text:
            if fill is not None:
                self.draw.text((x, y), char, font=font, fill=fill)
                boxes.append(self.draw.textbbox((x, y), char, font=font))
            x += font.getlength(char) + tracking
        if boxes:
            self.boxes.append((text, union(boxes)))
        return x - tracking - start


def _name_colour(name: str) -> Rgb:
    hue = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:2], "big") / 65536
    r, g, b = colorsys.hsv_to_rgb(hue, 0.55, 0.78)
    return round(r * 255), round(g * 255), round(b * 255)


def _shadow(layer: Image.Image, unit: float) -> Image.Image:
    """A soft dark copy of the text layer, blurred small and scaled up (cheap at 4K), cut
    to the safe area so its faint edge never reaches what a zoom crops."""
    width, height = layer.size
    small = layer.getchannel("A").resize((max(8, width // 4), max(8, height // 4)),
                                         Image.BILINEAR)
    alpha = small.filter(ImageFilter.GaussianBlur(unit * 0.25)).resize(layer.size,
                                                                       Image.BICUBIC)
    inset = (1 - SAFE_FRACTION) / 2
    safe = Image.new("L", layer.size, 0)
    ImageDraw.Draw(safe).rectangle((round(inset * width), round(inset * height),
                                    round((1 - inset) * width) - 1,
                                    round((1 - inset) * height) - 1), fill=170)
    shadow = Image.new("RGBA", layer.size, (0, 0, 0, 0))
    shadow.putalpha(ImageChops.multiply(alpha, safe))
    return shadow


def render_card(request: ImageRequest,
                fonts: tuple[Path | None, Path | None] | None = None) -> Image.Image:
    """The finished card, RGB, exactly request.width x request.height."""
    if not (64 <= request.width <= 8192 and 64 <= request.height <= 8192):
        raise SettingsError(f"card size {request.width}x{request.height} is out of range: "
                            "width and height must be 64..8192 pixels", field="resolution")
    image = render_background(request.width, request.height, request.mood, request.seed)
    text = render_text_layer(request, fonts or find_fonts())
    image.alpha_composite(_shadow(text, min(request.width, request.height) / 100))
    image.alpha_composite(text)
    return image.convert("RGB")


def render_text_layer(request: ImageRequest,
                      fonts: tuple[Path | None, Path | None] | None = None) -> Image.Image:
    """Everything written on the card, on a transparent layer the size of the frame."""
    return _Card(request, fonts or find_fonts()).render()


def text_boxes(request: ImageRequest,
               fonts: tuple[Path | None, Path | None] | None = None) -> list[tuple[str, Box]]:
    """Each piece of text the card writes (labels, title and text lines, names) with the box
    its ink covers: what the tests hold inside the frame at every size and aspect."""
    card = _Card(request, fonts or find_fonts())
    card.render()
    return card.boxes


class CardsBackend:
    """ImageBackend drawing storyboard cards; ``font_path`` overrides DejaVu Sans."""

    name = "cards"

    def __init__(self, font_path: str | Path | None = None):
        self.fonts = find_fonts(font_path)

    def version(self) -> str:
        regular, bold = self.fonts
        font = f"{regular.name}+{bold.name}" if regular and bold else "pillow-default-font"
        engine = "raqm" if layout_engine() == ImageFont.Layout.RAQM else "basic"
        # The script fonts found here draw part of the picture: a node without them differs.
        scripts = sorted({face.name for script in NOTO for bold in (False, True)
                          if (face := find_noto(script, bold))})
        noto = hashlib.sha256(" ".join(scripts).encode()).hexdigest()[:8] if scripts else "none"
        return f"{DRAWING_VERSION} pillow-{PIL.__version__} {font} {engine} noto-{noto}"

    def generate(self, requests: list[ImageRequest]) -> list[bytes]:
        return [self._png(request) for request in requests]

    def _png(self, request: ImageRequest) -> bytes:
        buffer = io.BytesIO()
        render_card(request, self.fonts).save(buffer, format="PNG", compress_level=6)
        return buffer.getvalue()
