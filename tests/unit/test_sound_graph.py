"""Sound, as data: cue placement, music variations, the mix graph, loudness presets, stems."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from vidgen_ray import audio
from vidgen_ray.audio import music
from vidgen_ray.audio.stems import export_args, export_names
from vidgen_ray.config import load_settings
from vidgen_ray.errors import ScriptError, SettingsError
from vidgen_ray.storyboard import EFFECTS, Line, Scene, SoundCue, Storyboard
from vidgen_ray.timeline import EFFECT_LEAD, Pacing, place_effects, plan_timeline

PACING = Pacing(fps=30, crossfade=0.5, lead_in=0.4, line_gap=0.35, tail=0.6)


def board_with(*sounds: SoundCue, lines: int = 2) -> Storyboard:
    return Storyboard(scenes=[
        Scene(lines=[Line(text="opening")]),
        Scene(lines=[Line(text=f"line {k}") for k in range(lines)], sfx=list(sounds)),
    ])


def placed(board: Storyboard) -> tuple[list[float], object]:
    timeline = plan_timeline(board, [[1.0], [1.0] * len(board.scenes[1].lines)], PACING)
    return [cue.start for cue in place_effects(board, timeline)], timeline


def test_a_cue_between_lines_sits_in_the_middle_of_the_pause():
    (at,), timeline = placed(board_with(SoundCue(name="knock", line=1)))
    first, second = timeline.cues[1], timeline.cues[2]
    assert first.end < at < second.start
    assert at == pytest.approx((first.end + second.start) / 2)


def test_a_cue_before_the_first_line_and_after_the_last():
    (before, after), timeline = placed(board_with(SoundCue(name="door", line=0),
                                                  SoundCue(name="bell", line=2)))
    assert before == pytest.approx(timeline.cues[1].start - EFFECT_LEAD)
    assert after == pytest.approx(timeline.cues[2].end + EFFECT_LEAD)


def test_a_cue_without_a_place_sounds_when_the_scene_is_on_screen():
    (at,), timeline = placed(board_with(SoundCue(name="phone"), lines=0))
    clip = timeline.clips[1]
    assert at == pytest.approx((clip.start + clip.fade_in) / 30)


def test_an_offset_counts_from_the_scene_start_and_must_fall_inside_it():
    (at,), timeline = placed(board_with(SoundCue(name="thunder", offset=1.25)))
    assert at == pytest.approx(timeline.clips[1].start / 30 + 1.25)
    with pytest.raises(ScriptError, match="scene 2: sound 'thunder' at 60 s is past the scene's"):
        placed(board_with(SoundCue(name="thunder", offset=60)))


def test_cues_come_out_in_time_order():
    times, _ = placed(board_with(SoundCue(name="bell", line=2), SoundCue(name="knock", line=0)))
    assert times == sorted(times)


def test_a_cue_needs_a_known_name_and_one_place():
    with pytest.raises(ValidationError, match="thunder"):
        SoundCue(name="gulls")
    with pytest.raises(ValidationError, match="both a line and an offset"):
        SoundCue(name="bell", line=0, offset=1.0)
    with pytest.raises(ValidationError, match="before line 3 but the scene has 1 lines"):
        Scene(lines=[Line(text="hi")], sfx=[SoundCue(name="bell", line=3)])


def test_every_effect_and_mood_has_a_recipe():
    assert set(audio.EFFECT_RECIPES) == set(EFFECTS)
    assert set(audio.MOODS) == set(Scene.model_fields["mood"].annotation.__args__)


@pytest.mark.parametrize("mood", sorted(music.MOODS))
def test_music_is_a_chord_progression_in_the_moods_key(mood):
    spec = music.MOODS[mood]
    arrangement = music.arrange(mood, seed=5)
    assert spec.tempo[0] <= arrangement.bpm <= spec.tempo[1]
    assert len(arrangement.chords) == len(spec.progressions[0])
    notes = {note % 12 for chord in arrangement.chords for note in chord}
    keys = [{(spec.root + shift + step) % 12 for step in spec.scale} for shift in range(-3, 4)]
    assert any(notes <= key for key in keys)  # every chord within one transposed key
    assert all(len(chord) == 3 for chord in arrangement.chords)


def test_the_seed_varies_the_music_and_the_same_seed_repeats_it():
    variations = {music.arrange("joyful", seed) for seed in range(20)}
    assert len(variations) > 5  # key, progression, voicing and tempo differ between seeds
    assert music.arrange("joyful", 7) == music.arrange("joyful", 7)
    assert music.music_source("joyful", 7) == music.music_source("joyful", 7)


def test_joyful_can_play_i_v_vi_iv():
    key = music.MOODS["joyful"]
    assert (0, 4, 5, 3) in key.progressions


BOARD = Storyboard(scenes=[
    Scene(lines=[Line(text="one")], mood="calm", ambience="rain",
          sfx=[SoundCue(name="thunder", line=1)]),
    Scene(lines=[Line(text="two")], mood="calm", ambience="night"),
])
TIMELINE = plan_timeline(BOARD, [[1.0], [1.0]], PACING)


def test_music_and_ambience_are_ducked_by_the_speech_and_effects_are_not():
    graph, outputs = audio.mix_graph(BOARD, TIMELINE, seed=0)
    ducked = [c for c in graph.split(";") if "sidechaincompress" in c]
    assert sorted(c.split("]")[0] for c in ducked) == ["[ambience_bed", "[music_bed"]
    assert all("[key_" in c for c in ducked)  # keyed by the speech
    assert not any("effects" in c for c in ducked)
    assert outputs == ["[mix]"]
    assert "aloop" in graph and graph.count("aevalsrc=exprs='st(0") == 1  # one mood, looped


def test_an_effect_lands_at_its_cue_time_in_the_graph():
    graph, _ = audio.mix_graph(BOARD, TIMELINE, seed=0)
    (cue,) = place_effects(BOARD, TIMELINE)
    assert f"adelay=delays={round(cue.start * 48000)}S:all=1[fx0]" in graph


def test_stems_add_one_output_per_bus_without_changing_the_mix():
    plain = audio.mix_args(Path("/s.wav"), BOARD, TIMELINE, 0, Path("/m.wav"))
    stems = {bus: Path(f"/{bus}.wav") for bus in audio.BUSES}
    split = audio.mix_args(Path("/s.wav"), BOARD, TIMELINE, 0, Path("/m.wav"), stems)
    assert plain.count("-map") == 1 and split.count("-map") == 5
    assert [split[i + 1] for i, a in enumerate(split) if a == "-map"] == [
        "[mix]", "[speech]", "[music]", "[ambience]", "[effects]"]


def test_export_names_and_gain():
    assert export_names(audio.BUSES, "aac") == {
        "mix": "mix.m4a", "speech": "stems/speech.m4a", "music": "stems/music.m4a",
        "ambience": "stems/ambience.m4a", "effects": "stems/effects.m4a"}
    args = export_args(Path("/a.wav"), "mp3", 2.5, 480, Path("/a.mp3"))
    assert "volume=2.5000dB,apad=whole_len=480,atrim=end_sample=480" in args
    assert "libmp3lame" in args


@pytest.mark.parametrize(("given", "target"), [
    ("web", -14.0), ("podcast", -16.0), ("default", -16.0), ("Broadcast", -23.0),
    ("-18.5", -18.5), (-20, -20.0)])
def test_loudness_takes_a_number_or_a_preset(given, target):
    assert load_settings(loudness=given).loudness == target


def test_unknown_loudness_preset_names_the_presets():
    with pytest.raises(SettingsError, match="use one of web, podcast, default, broadcast"):
        load_settings(loudness="loud")
    with pytest.raises(SettingsError, match="loudness"):
        load_settings(loudness=-40)


def test_stems_are_off_unless_asked():
    assert load_settings().stems is None
    assert load_settings(stems="flac").stems == "flac"
    with pytest.raises(SettingsError, match="stems"):
        load_settings(stems="ogg")


def test_peaks_the_gain_would_push_over_the_ceiling_are_limited_first():
    from vidgen_ray.audio.mix import peak_guard

    quiet = {"input_i": "-26.0", "input_tp": "-12.0", "input_lra": "3", "input_thresh": "-36",
             "target_offset": "0.1"}
    limiter, after = peak_guard(-23.0, quiet)  # +3 dB: peaks land at -9 dBTP, no limiter
    assert (limiter, after) == ("", quiet)
    limiter, after = peak_guard(-14.0, quiet)  # +12 dB would put peaks at 0 dBTP
    assert limiter.startswith("alimiter=limit=0.2") and "latency=1" in limiter
    assert float(after["input_tp"]) + 12.0 <= -1.8  # so loudnorm stays linear
    assert audio.loudnorm_filter(-14.0, after).count("measured_TP=-13.9") == 1
