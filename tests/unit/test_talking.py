"""Talking shots' pure parts (motion/talking.py): the WAV read, the clip's frame count from the
speech, the model's frame grid, FFmpeg arguments, the request checks, the log-mel, and the
LTX-2 options."""

from __future__ import annotations

import io
import subprocess
import sys
import wave

import numpy as np
import pytest
from pydantic import ValidationError

from vidgen_ray.config.backends.ltx2 import Ltx2Settings
from vidgen_ray.errors import MediaError, SettingsError
from vidgen_ray.motion.talking import (
    SpeechPcm,
    TalkingOptions,
    TalkingRequest,
    check_talking_request,
    grid_frames,
    read_speech,
    recompress_args,
    resample_args,
    talking_frames,
)


def _wav(frames: int, rate: int = 22050, channels: int = 1, width: int = 2) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(bytes(frames * channels * width))
    return buffer.getvalue()


def _speech(frames: int, rate: int = 22050) -> SpeechPcm:
    return read_speech(_wav(frames, rate))


def test_a_wav_is_read_as_it_came():
    speech = read_speech(_wav(441, rate=22050, channels=2))
    assert (speech.rate, speech.channels, speech.frames, len(speech.pcm)) == (22050, 2, 441, 1764)
    assert speech.seconds == pytest.approx(0.02)


@pytest.mark.parametrize("data, words", [
    (b"not a wav", "not a readable WAV"),
    (_wav(100, width=1), "8-bit with 1 channels"),
    (_wav(100, channels=3), "16-bit with 3 channels"),
    (_wav(0), "empty"),
])
def test_a_bad_wav_is_a_media_error_that_says_what_is_wanted(data, words):
    with pytest.raises(MediaError, match=words) as caught:
        read_speech(data)
    assert caught.value.public and "WAV bytes" not in caught.value.public


def test_the_frame_count_covers_every_sample_exactly():
    assert talking_frames(_speech(22050), 24) == 24  # exactly 1 s: no extra frame
    assert talking_frames(_speech(22051), 24) == 25  # one sample more: one frame more
    assert talking_frames(_speech(43281), 24) == 48  # 1.9628 s (an espeak-ng line)
    assert talking_frames(_speech(1), 25) == 1
    # 6720 samples at 24 kHz are 7 frames at 25 fps; in floats 6720 / 24000 * 25 is
    # 7.000000000000001, whose ceiling is 8
    assert talking_frames(_speech(6720, rate=24000), 25) == 7


@pytest.mark.parametrize("frames, step, grid", [
    (1, 8, 9), (9, 8, 9), (10, 8, 17), (48, 8, 49), (49, 8, 49), (50, 8, 57), (3, 2, 3),
    (4, 2, 5)])
def test_the_model_samples_the_smallest_8k_plus_1_that_holds_the_frames(frames, step, grid):
    assert grid_frames(frames, step) == grid


def test_the_speech_is_resampled_to_stereo_and_padded_to_the_canvas():
    args = " ".join(resample_args(SpeechPcm(b"", 22050, 1, 0), 16000, 48000))
    for part in ("-f s16le -ar 22050 -ac 1 -i -", "aresample=16000,apad=whole_len=48000",
                 "-ac 2", "-t 3.000000", "-f f32le"):
        assert part in args


def test_the_portrait_is_recompressed_as_one_h264_frame():
    args = " ".join(recompress_args(64, 32, 33))
    for part in ("-f rawvideo -pix_fmt rgb24 -s 64x32 -i -", "-frames:v 1", "-c:v libx264",
                 "-crf 33", "-f h264 -"):
        assert part in args


def _request(**values) -> TalkingRequest:
    return TalkingRequest(**{"portrait": b"png", "speech": b"wav", "prompt": "a man speaks",
                             "width": 64, "height": 32, **values})


@pytest.mark.parametrize("values, fps, field", [
    ({"width": 60}, 24, "width"), ({"height": 4096}, 24, "height"),
    ({"prompt": "  "}, 24, "prompt"), ({"seed": -1}, 24, "seed"), ({}, 0, "fps")])
def test_a_bad_request_is_refused_naming_the_field(values, fps, field):
    with pytest.raises(SettingsError) as caught:
        check_talking_request(_request(**values), _speech(100), fps, 20.0, size_multiple=32)
    assert caught.value.field == field


def test_a_line_longer_than_the_limit_is_refused_with_the_fix():
    check_talking_request(_request(), _speech(22050 * 5), 24, 5.0, size_multiple=32)
    with pytest.raises(MediaError, match=r"lasts 5\.00 s, over the 4\.5 s.*split the line"):
        check_talking_request(_request(), _speech(22050 * 5), 24, 4.5, size_multiple=32)


def test_the_log_mel_has_the_audio_vaes_layout():
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from vidgen_ray.motion.talking import LOG_FLOOR, log_mel

    tone = torch.sin(torch.arange(16000) / 16000 * 2 * torch.pi * 440.0)
    mel = log_mel(torch, torch.stack([tone, torch.zeros(16000)]), 16000, 64, 160)
    assert mel.shape == (1, 2, 101, 64)  # centred STFT: 1 + samples // hop frames
    assert float(mel[0, 1].max()) == pytest.approx(np.log(LOG_FLOOR))  # silence: the floor
    loudest = int(mel[0, 0, 50].argmax())
    assert 5 <= loudest <= 15  # 440 Hz sits low on a 0-8 kHz Slaney scale


def test_the_options_come_from_the_settings():
    options = TalkingOptions.from_settings(Ltx2Settings(
        ltx2_model="/models/ltx2", ltx2_fps=25, ltx2_sigmas=[1.0, 0.5], ltx2_image_crf=0))
    assert (options.model, options.fps, options.sigmas, options.image_crf) == (
        "/models/ltx2", 25, (1.0, 0.5), 0)
    assert set(Ltx2Settings.LOAD_FIELDS) <= set(Ltx2Settings.model_fields)


@pytest.mark.parametrize("values", [
    {"ltx2_sigmas": [0.5, 1.0]}, {"ltx2_sigmas": [1.0, 0.0]}, {"ltx2_image_crf": 52},
    {"ltx2_max_seconds": 30.0}, {"ltx2_fps": 0}])
def test_bad_ltx2_settings_are_refused(values):
    with pytest.raises(ValidationError):
        Ltx2Settings(**values)


def test_import_vidgen_ray_leaves_talking_torch_and_diffusers_out():
    code = ("import sys, vidgen_ray; import vidgen_ray.motion.talking; "
            "print(sorted(m for m in ('torch', 'diffusers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
