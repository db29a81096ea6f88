"""Generated beds' prompts, requests and fitting (pure: no model, no FFmpeg)."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import wave
from typing import get_args

import numpy as np
import pytest

from vidgen_ray.audio.ambience import AMBIENCE as PROCEDURAL_AMBIENCE
from vidgen_ray.audio.music import MOODS
from vidgen_ray.beds.base import AMBIENCE, MUSIC, NEGATIVE, BedRequest, bed_prompt, check_request
from vidgen_ray.beds.fit import loop_to_length, resample_args, wav_bytes
from vidgen_ray.config.backends.stable_audio import StableAudioSettings
from vidgen_ray.errors import SettingsError
from vidgen_ray.storyboard import Ambience, Mood
from vidgen_ray.timeline import AUDIO_RATE


@pytest.mark.parametrize("mood", get_args(Mood))
def test_every_mood_has_music_whose_tempo_is_the_procedural_beds(mood):
    prompt = bed_prompt(mood, "none", "music")
    bpm = int(re.search(r"(\d+) BPM", prompt).group(1))
    low, high = MOODS[mood].tempo
    assert low <= bpm <= high, (mood, bpm)
    assert "instrumental" in prompt and MUSIC[mood][1] in prompt


def test_moods_sound_different():
    prompts = {bed_prompt(mood, "none", "music") for mood in get_args(Mood)}
    assert len(prompts) == len(get_args(Mood))
    assert "piano" in bed_prompt("sad", "none", "music")
    assert "orchestral" in bed_prompt("epic", "none", "music")


@pytest.mark.parametrize("place", [a for a in get_args(Ambience) if a != "none"])
def test_every_ambience_says_what_the_place_sounds_like(place):
    prompt = bed_prompt("neutral", place, "ambience")
    assert prompt.startswith(AMBIENCE[place]) and prompt.endswith("field recording")
    assert place in PROCEDURAL_AMBIENCE  # the same names as the procedural beds


def test_ambience_none_has_no_bed_and_the_mood_does_not_change_an_ambience():
    assert bed_prompt("tense", "none", "ambience") is None
    assert bed_prompt("tense", "rain", "ambience") == bed_prompt("calm", "rain", "ambience")
    assert bed_prompt("calm", "rain", "music") == bed_prompt("calm", "city", "music")


def test_negative_prompts_keep_voices_out_of_music_and_music_out_of_ambience():
    assert "vocals" in NEGATIVE["music"] and "music" in NEGATIVE["ambience"]


@pytest.mark.parametrize(("args", "words"), [
    (("gloomy", "rain", "music"), ["mood 'gloomy'", "calm", "epic"]),
    (("calm", "desert", "ambience"), ["ambience 'desert'", "rain", "crowd"]),
    (("calm", "rain", "sfx"), ["bed kind 'sfx'", "music, ambience"]),
])
def test_unknown_values_are_refused_naming_the_choices(args, words):
    with pytest.raises(SettingsError) as caught:
        bed_prompt(*args)
    assert all(word in str(caught.value) for word in words), str(caught.value)


def _request(**values) -> BedRequest:
    return BedRequest(**{"kind": "music", "prompt": "calm piano", "seconds": 3.0, **values})


@pytest.mark.parametrize(("values", "words"), [
    ({"prompt": " "}, ["music prompt is empty", "BPM"]),
    ({"kind": "ambience", "prompt": ""}, ["ambience prompt is empty", "rain"]),
    ({"prompt": "x" * 1001}, ["1001 characters", "shorten"]),
    ({"negative_prompt": "x" * 1001}, ["negative prompt is 1001"]),
    ({"seconds": 0}, ["bed length 0 s", "scene's length"]),
    ({"seconds": 4000.0}, ["bed length 4000.0 s", "3600"]),
    ({"seed": -1}, ["seed -1", "0..4294967295"]),
    ({"steps": 0}, ["0 steps", "1..500", "100-200"]),
    ({"guidance_scale": 0.5}, ["guidance scale 0.5", "outside 1..20"]),
    ({"kind": "speech"}, ["bed kind 'speech'"]),
])
def test_a_bad_request_is_refused_naming_the_fix(values, words):
    with pytest.raises(SettingsError) as caught:
        check_request(_request(**values))
    assert all(word in str(caught.value) for word in words), str(caught.value)


def test_a_request_counts_its_samples_at_the_projects_rate():
    check_request(_request())
    assert _request(seconds=2.5).samples == 120_000
    assert _request(seconds=1 / 3).samples == round(AUDIO_RATE / 3)


def test_the_options_have_bounds_and_the_real_model_by_default():
    settings = StableAudioSettings()
    assert settings.stable_audio_model == "stabilityai/stable-audio-open-1.0"
    assert (settings.stable_audio_steps, settings.stable_audio_guidance_scale) == (100, 7.0)
    assert "stable_audio_model" in StableAudioSettings.LOAD_FIELDS
    assert "stable_audio_steps" not in StableAudioSettings.LOAD_FIELDS
    with pytest.raises(ValueError, match="stable_audio_steps"):
        StableAudioSettings(stable_audio_steps=0)


# ---- fitting a piece to a bed ------------------------------------------------------------

def test_a_piece_longer_than_the_bed_is_cut_to_exactly_its_samples():
    piece = np.linspace(-1, 1, 1000, dtype=np.float32)
    assert np.array_equal(loop_to_length(piece, 400), piece[:400])


def test_a_short_piece_loops_to_exactly_the_samples_with_equal_power_crossfades():
    piece = np.ones(1000, dtype=np.float32)
    out = loop_to_length(piece, 10_000, crossfade=100)
    assert out.shape == (10_000,) and out.dtype == np.float32
    assert np.array_equal(out[:900], piece[:900])  # the first pass untouched to its fade
    seam = out[900:1000]  # sin + cos of the same angle: a bump of at most sqrt(2), no dip
    assert seam.min() >= 1.0 - 1e-6 and seam.max() <= 2 ** 0.5 + 1e-6
    assert np.array_equal(out[1000:1800], piece[100:900])  # the second pass after the seam


def test_the_crossfade_is_at_most_a_quarter_of_the_piece():
    ramp = np.arange(1, 101, dtype=np.float32)
    out = loop_to_length(ramp, 500, crossfade=10_000)
    assert out.shape == (500,)
    assert out[100] == ramp[25]  # a 25-sample fade: the second pass resumes at sample 25


def test_a_loop_refuses_an_empty_or_stereo_piece():
    with pytest.raises(ValueError, match="cannot loop"):
        loop_to_length(np.zeros(0, np.float32), 10)
    with pytest.raises(ValueError, match="cannot loop"):
        loop_to_length(np.zeros((2, 10), np.float32), 10)


def test_a_wav_is_16_bit_mono_at_the_projects_rate_and_clipped():
    data = wav_bytes(np.array([0.0, 0.5, 2.0, -3.0], dtype=np.float32))
    with wave.open(io.BytesIO(data)) as read:
        assert (read.getnchannels(), read.getsampwidth(), read.getframerate()) == (1, 2, AUDIO_RATE)
        pcm = np.frombuffer(read.readframes(4), dtype="<i2")
    assert pcm.tolist() == [0, 16384, 32767, -32768]


def test_resampling_averages_the_channels_and_changes_rate_only_when_needed():
    args = resample_args(44_100, 2)
    assert args[args.index("-af") + 1] == f"pan=mono|c0=0.5*c0+0.5*c1,aresample={AUDIO_RATE}"
    assert args[-5:] == ["-f", "f32le", "-ac", "1", "-ar", str(AUDIO_RATE), "-"][-5:]
    assert "-af" not in resample_args(AUDIO_RATE, 1)
    mono = resample_args(44_100, 1)
    assert mono[mono.index("-af") + 1] == f"aresample={AUDIO_RATE}"


def test_import_vidgen_ray_leaves_beds_torch_and_diffusers_out():
    code = ("import sys, vidgen_ray; print('vidgen_ray.beds' in sys.modules); "
            "import vidgen_ray.beds.stable_audio; "
            "print(sorted(m for m in ('torch', 'diffusers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["False", "[]"]
