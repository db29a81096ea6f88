"""Settings of the picture: the default transition, burn-in style and renditions."""

import pytest

from vidgen_ray.config import RenderSettings, load_settings, rendition_size
from vidgen_ray.errors import SettingsError


def test_renditions_parse_and_skip_the_main_size():
    settings = RenderSettings(renditions=["1080x1920", " 1280X720 ", "3840x2160", "1080x1920"])
    assert settings.rendition_sizes == [(1080, 1920), (3840, 2160)]
    assert rendition_size("2160x3840") == (2160, 3840)


@pytest.mark.parametrize("bad", ["1080p", "1081x1920", "1920x8", "8192x4320", "x720"])
def test_a_bad_rendition_is_refused_with_the_fix(bad):
    with pytest.raises(SettingsError, match="renditions") as caught:
        load_settings(renditions=[bad])
    assert "e.g." in caught.value.message


def test_pictures_are_made_large_enough_for_every_rendition():
    assert RenderSettings().picture_size == (1280, 720)
    # A 9:16 1080x1920 cut from 16:9 pictures needs them 1920 high.
    assert RenderSettings(renditions=["1080x1920"]).picture_size == (3414, 1920)
    # Never past 4096 on a side: a 2160x3840 rendition is then cropped from 4096x2304.
    assert RenderSettings(renditions=["2160x3840"]).picture_size == (4096, 2304)
    # Smaller renditions need nothing larger.
    assert RenderSettings(resolution="1080p", renditions=["1280x720"]).picture_size == (
        1920, 1080)


def test_transition_and_subtitle_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("VIDGEN_TRANSITION", "slide_left")
    monkeypatch.setenv("VIDGEN_BURN_SUBTITLES", "true")
    monkeypatch.setenv("VIDGEN_RENDITIONS", '["1080x1920"]')
    settings = load_settings()
    assert (settings.transition, settings.burn_subtitles) == ("slide_left", True)
    assert settings.rendition_sizes == [(1080, 1920)]
    with pytest.raises(SettingsError, match="transition"):
        load_settings(transition="spin")
    with pytest.raises(SettingsError, match="subtitle_size"):
        load_settings(subtitle_size=2)


def test_every_shape_gets_pictures_drawn_for_it():
    sizes = RenderSettings(renditions=["360x640", "1080x1920", "640x360"]).picture_sizes
    assert sizes == {(1280, 720): (1280, 720), (640, 360): (1280, 720),
                     (360, 640): (1080, 1920), (1080, 1920): (1080, 1920)}
    # SDXL may crop one picture per scene instead (one diffusion pass): the old way.
    crop = RenderSettings(image_model="sdxl", rendition_pictures="crop", renditions=["1080x1920"])
    assert set(crop.picture_sizes.values()) == {crop.picture_size} == {(3414, 1920)}
    # Cards are always redrawn: cropping would cut their text.
    cards = RenderSettings(rendition_pictures="crop", renditions=["1080x1920"])
    assert cards.picture_sizes[(1080, 1920)] == (1080, 1920)
