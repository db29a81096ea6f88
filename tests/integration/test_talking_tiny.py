"""Talking shots through the real loader, on a tiny random-weight LTX-2 pipeline (built once
per module, offline): a portrait and an espeak-ng line in, an MP4 out, checked with ffprobe.
The frames are noise; what is checked is the path real weights take: loading, the speech
to audio latents, the frame count from the speech, seeds, the encode, and that the frozen
speech reaches the picture (another line of the same length gives another clip)."""

from __future__ import annotations

import io
import json
import wave

import numpy as np
import pytest
from PIL import Image

from vidgen_ray.config.backends.ltx2 import Ltx2Settings
from vidgen_ray.errors import DependencyError, MediaError, SettingsError
from vidgen_ray.motion.talking import (
    TalkingBackend,
    TalkingOptions,
    TalkingRequest,
    create_talking_backend,
    read_speech,
)
from vidgen_ray.programs import run_tool

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")
pytestmark = [pytest.mark.ffmpeg]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    from vidgen_ray.testing.tiny_ltx2 import build_ltx2

    torch.set_num_threads(1)
    return str(build_ltx2(tmp_path_factory.mktemp("tiny") / "ltx2"))


@pytest.fixture(scope="module")
def backend(model):
    return TalkingBackend(TalkingOptions(model=model, offline=True, sigmas=(1.0, 0.5)))


@pytest.fixture(scope="module")
def line(tmp_path_factory) -> bytes:
    """A real espeak-ng line (22050 Hz mono, ~1 s)."""
    path = tmp_path_factory.mktemp("speech") / "line.wav"
    run_tool("espeak-ng", ["-w", str(path), "Hello there, friend."])
    return path.read_bytes()


def _backwards(wav: bytes) -> bytes:
    """The same line played backwards: the same length, other sounds."""
    speech = read_speech(wav)
    samples = np.frombuffer(speech.pcm, dtype="<i2")[::-1]
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(speech.rate)
        out.writeframes(samples.tobytes())
    return buffer.getvalue()


def _portrait(width=48, height=64) -> bytes:
    """A PNG taller than the clip (the fit crops it): a face-ish gradient."""
    ramp = np.linspace(0, 255, height, dtype=np.uint8)[:, None]
    pixels = np.stack([np.tile(ramp, (1, width)), np.full((height, width), 120, np.uint8),
                       np.tile(ramp[::-1], (1, width))], axis=-1)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _request(line: bytes, **values) -> TalkingRequest:
    return TalkingRequest(**{"portrait": _portrait(), "speech": line, "prompt": "a woman "
                             "speaks to the camera", "seed": 3, "width": 64, "height": 32,
                             **values})


def _stream(mp4: bytes, tmp_path) -> dict:
    path = tmp_path / "clip.mp4"
    path.write_bytes(mp4)
    out = json.loads(run_tool("ffprobe", [
        "-v", "error", "-count_frames", "-show_entries", "stream=codec_type,codec_name,pix_fmt,"
        "width,height,r_frame_rate,nb_read_frames", "-of", "json", str(path)]))
    return out["streams"]


def test_a_talking_clip_lasts_its_line_to_the_frame(backend, line, tmp_path):
    speech = read_speech(line)
    steps = []
    mp4 = backend.make_clip(_request(line), on_step=lambda done, total: steps.append(done))
    frames = -(-speech.frames * 24 // speech.rate)  # ceil(duration * fps)
    assert backend.frames_for(_request(line)) == frames
    assert _stream(mp4, tmp_path) == [{  # one video stream, no audio
        "codec_type": "video", "codec_name": "h264", "pix_fmt": "yuv420p", "width": 64,
        "height": 32, "r_frame_rate": "24/1", "nb_read_frames": str(frames)}]
    assert (frames - 1) / 24 < speech.seconds <= frames / 24
    assert steps == [1, 2]
    at_25 = _stream(backend.make_clip(_request(line, fps=25, width=32)), tmp_path)[0]
    assert (at_25["width"], at_25["r_frame_rate"], at_25["nb_read_frames"]) == (
        32, "25/1", str(-(-speech.frames * 25 // speech.rate)))


def test_the_same_seed_gives_the_same_bytes_and_other_speech_another_clip(backend, line):
    first = backend.make_clip(_request(line))
    assert backend.make_clip(_request(line)) == first
    backwards = _request(_backwards(line))
    assert backend.frames_for(backwards) == backend.frames_for(_request(line))
    assert backend.make_clip(backwards) != first  # only the audio latents differ


def test_bad_inputs_are_refused_before_sampling(backend, line):
    with pytest.raises(MediaError, match="not a readable WAV"):
        backend.make_clip(_request(b"RIFF...."))
    with pytest.raises(MediaError, match="picture cannot be read"):
        backend.make_clip(_request(line, portrait=b"not a png"))
    with pytest.raises(SettingsError) as caught:
        backend.make_clip(_request(line, width=40))
    assert caught.value.field == "width"
    short = TalkingBackend(TalkingOptions(model=backend.options.model, offline=True,
                                          max_seconds=0.5), pipeline=backend.pipe)
    with pytest.raises(MediaError, match="split the line"):
        short.make_clip(_request(line))


def test_a_missing_or_empty_model_folder_says_what_to_give(tmp_path):
    with pytest.raises(SettingsError, match="does not exist") as caught:
        create_talking_backend(Ltx2Settings(ltx2_model=str(tmp_path / "nowhere")))
    assert caught.value.field == "ltx2_model"
    with pytest.raises(DependencyError, match="saved with save_pretrained"):
        TalkingBackend(TalkingOptions(model=str(tmp_path), offline=True))
