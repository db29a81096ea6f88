"""FFmpeg argument building, checked as data (the integration tests run it for real)."""

import re
from pathlib import Path

import numpy as np
import pytest

from vidgen_ray import audio
from vidgen_ray.config import RenderSettings, load_settings
from vidgen_ray.errors import SettingsError
from vidgen_ray.images import cards
from vidgen_ray.pipeline import assembly, camera, encoders, filtergraph
from vidgen_ray.storyboard import Line, Scene, Storyboard
from vidgen_ray.timeline import Clip, Pacing, plan_timeline

BOARD = Storyboard(scenes=[
    Scene(title="a", lines=[Line(text="one")], mood="calm", ambience="rain"),
    Scene(title="b", lines=[Line(text="two")], mood="tense", ambience="none"),
])
TIMELINE = plan_timeline(BOARD, [[1.0], [1.0]], Pacing(fps=30))


@pytest.mark.parametrize("motion", ["pan_left", "pan_right", "pan_up", "pan_down", "static"])
def test_a_pan_window_stays_inside_the_frame_and_the_margin(motion):
    clip = Clip(scene=0, start=0, end=61, fade_in=0, motion=motion)
    width, height = 1280, 720
    for frame in (0, 30, 60):
        left, top = camera.pan_left(clip, frame, (width, height))
        window_w, window_h = width / (1 + camera.PAN_ZOOM), height / (1 + camera.PAN_ZOOM)
        assert left >= 0 and left + window_w <= width and top >= 0 and top + window_h <= height
        # Text on a card stays in view: no edge is cropped by more than the cards' margin.
        crop = max(left / width, 1 - (left + window_w) / width,
                   top / height, 1 - (top + window_h) / height)
        assert crop < cards.MARGIN


def test_chunk_args_use_each_still_once_and_encode_exact_frames():
    clip = TIMELINE.clips[1]
    start, end = clip.start - 5, clip.start + 20  # before, through and after the dissolve
    stills = {0: Path("/a.png"), 1: Path("/b.png")}
    args = assembly.chunk_args(TIMELINE, start, end, stills, RenderSettings(), Path("/o.mp4"))
    assert args[:6] == ["-filter_complex_threads", "1", "-i", "/a.png", "-i", "/b.png"]
    graph = args[args.index("-filter_complex") + 1]
    assert graph.count("overlay=") == 1 and graph.count("scale@zs") == 4
    assert "concat=n=3" in graph
    assert args[args.index("-frames:v") + 1] == "25"
    assert args[-1] == "/o.mp4"


def test_encoder_args_are_those_of_every_chunk():
    settings = RenderSettings(fps=24, crf=18)
    args = encoders.encoder_args(settings)
    assert args[args.index("-g") + 1] == "48"
    assert args[args.index("-crf") + 1] == "18"
    assert "-an" in args and "open-gop=0" in args


def test_concat_list_has_a_duration_per_file_and_quotes_paths():
    text = assembly.concat_list([(Path("/x/it's.mp4"), 2.0), (Path("/x/b.mp4"), 1.5)])
    assert text.splitlines() == ["ffconcat version 1.0", "file '/x/it'\\''s.mp4'",
                                 "duration 2.000000", "file '/x/b.mp4'", "duration 1.500000"]


def test_mux_copies_video_and_encodes_audio_once():
    args = assembly.mux_args(Path("/l.ffconcat"), Path("/s.wav"), Path("/v.mp4"), "T")
    assert args[args.index("-c:v") + 1] == "copy"
    assert args[args.index("-c:a") + 1] == "aac" and "+faststart" in args


def test_place_speech_puts_each_line_at_its_sample():
    line = np.full(100, 1000, dtype=np.int16)
    track = audio.place_speech([0.5, 1.0], [line, line], 1000, total_seconds=2.0)
    assert track.dtype == np.int16 and len(track) == 2001
    assert track[499] == 0 and track[500] == 1000
    assert track[600] == 0 and track[1000] == 1000


def test_place_speech_clips_overlaps_instead_of_wrapping():
    loud = np.full(10, 30000, dtype=np.int16)
    track = audio.place_speech([0.0, 0.0], [loud, loud], 100, total_seconds=1.0)
    assert track[0] == 32767


def test_bed_follows_mood_and_ambience_and_sits_at_scene_start():
    chains, music, ambience = audio.bed_filters(BOARD, TIMELINE, seed=3)
    assert (music, ambience) == ("[music_bed]", "[ambience_bed]")
    assert any("anoisesrc" in c and c.endswith("[a0]") for c in chains)  # rain in scene 0
    assert not any(c.endswith("[a1]") for c in chains)  # no ambience in scene 1
    assert sum("aevalsrc" in c for c in chains) == 2  # one music pass per mood
    delay = TIMELINE.clips[1].start * 1600
    assert any(f"adelay=delays={delay}S" in c for c in chains)


def test_mix_pads_to_the_exact_sample_count():
    args = audio.mix_args(Path("/s.wav"), BOARD, TIMELINE, 0, Path("/m.wav"))
    graph = args[args.index("-filter_complex") + 1]
    assert f"atrim=end_sample={TIMELINE.audio_samples}" in graph
    assert "sidechaincompress" in graph


def test_loudnorm_second_pass_uses_the_measurement():
    stderr = ('[Parsed_loudnorm_0 @ 0x1]\n{\n\t"input_i" : "-27.1",\n\t"input_tp" : "-9.0",'
              '\n\t"input_lra" : "3.2",\n\t"input_thresh" : "-37.5",\n\t"output_i" : "-16.0",'
              '\n\t"target_offset" : "0.3"\n}\n')
    measured = audio.parse_loudnorm(stderr)
    text = audio.loudnorm_filter(-16.0, measured)
    assert "measured_I=-27.1" in text and "linear=true" in text and "offset=0.3" in text
    with pytest.raises(ValueError):
        audio.parse_loudnorm("nothing here")


def test_burn_in_draws_on_absolute_times_and_the_chunk_keeps_its_own_clock():
    settings = RenderSettings(subtitle_fonts_dir="/fonts/it's")
    args = assembly.chunk_args(TIMELINE, 40, 70, {0: Path("/a.png"), 1: Path("/b.png")},
                               settings, Path("/o.mp4"), size=(320, 180),
                               ass_file=Path("/t/s.ass"))
    graph = args[args.index("-filter_complex") + 1]
    # Escaped twice (filtergraph.py): \' for the option, then \\ and \' for the graph.
    assert ("setpts=N+40,ass=filename=/t/s.ass:fontsdir=/fonts/it\\\\\\'s,setpts=PTS-40,"
            in graph)
    assert "crop@zfg0=w=320:h=180" in graph  # the camera's frame, at the size asked
    plain = assembly.chunk_args(TIMELINE, 40, 70, {0: Path("/a.png"), 1: Path("/b.png")},
                                settings, Path("/o.mp4"))
    assert "ass=" not in plain[plain.index("-filter_complex") + 1]


def test_a_colon_in_the_fonts_folder_sets_no_other_option():
    """Issue 15: fontsdir '/tmp/a:b=c' was split into fontsdir=/tmp/a and an option b=c."""
    settings = RenderSettings(subtitle_fonts_dir="/tmp/a:b=c")
    burn = assembly.burn_filter(Path("/t/s.ass"), settings)
    assert burn == "ass=filename=/t/s.ass:fontsdir=/tmp/a\\\\:b=c"
    # Split the way FFmpeg's option parser does: at colons that are not escaped.
    options = re.split(r"(?<!\\):", burn.removeprefix("ass="))
    assert len(options) == 2 and options[1].startswith("fontsdir=")


@pytest.mark.parametrize("bad", ["/fonts\x00/x", "/fonts\nrm", "/fonts\r"])
def test_paths_no_escaping_can_carry_are_refused_naming_the_setting(bad):
    settings = RenderSettings(subtitle_fonts_dir=bad)
    with pytest.raises(SettingsError, match="subtitle_fonts_dir") as info:
        assembly.burn_filter(Path("/t/s.ass"), settings)
    assert info.value.field == "subtitle_fonts_dir"


def test_text_that_cannot_reach_a_program_is_refused():
    # Settings refuse lone surrogates already; a path from elsewhere is checked here too.
    with pytest.raises(SettingsError, match="cannot be encoded"):
        filtergraph.option_value("a\ud800", "text")
    assert filtergraph.option_value("a\udc80", "text") == "a\udc80"  # an undecodable byte


def test_a_concat_list_refuses_a_path_with_a_line_break():
    with pytest.raises(SettingsError, match="line break"):
        assembly.concat_list([(Path("/x/a\nfile '/etc/passwd'"), 1.0)])


@pytest.mark.parametrize("name", ["fonts\nrm", "fonts\r"])
def test_paths_no_escaping_can_carry_are_refused_before_the_job_runs(name, tmp_path):
    """A real folder whose name holds a line break is refused at submit (preflight), not
    when the first chunk burns."""
    from vidgen_ray.pipeline.preflight import check_paths

    folder = tmp_path / name
    folder.mkdir()
    settings = RenderSettings(burn_subtitles=True, subtitle_fonts_dir=str(folder))
    with pytest.raises(SettingsError, match="line break") as info:
        check_paths(settings)
    assert info.value.field == "settings.subtitle_fonts_dir"
    check_paths(RenderSettings(burn_subtitles=True, subtitle_fonts_dir=str(tmp_path)))


@pytest.mark.parametrize("bad", ["Sans,Bold", "Sans\nStyle: x", "{\\b1}Sans", "Sans\\N"])
def test_a_subtitle_font_that_would_break_the_ass_style_line_is_refused(bad):
    """The family name is a field of the ASS style line: a comma or line break would shift
    or add fields."""
    with pytest.raises(SettingsError, match="subtitle_font"):
        load_settings(subtitle_font=bad)
    assert load_settings(subtitle_font="Noto Sans CJK JP").subtitle_font == "Noto Sans CJK JP"
