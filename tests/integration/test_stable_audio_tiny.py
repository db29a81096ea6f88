"""Stable Audio Open beds through the real loader, on a tiny random-weight pipeline (built
once per module, offline): a prompt and a length in, a WAV out, checked with the wave module
and ffprobe. The sound is noise; what is checked is the path real weights take: loading,
the model's window, seeds, the resampling to 48 kHz, the crossfaded loop past the window."""

from __future__ import annotations

import importlib.util
import io
import json
import shutil
import wave

import numpy as np
import pytest

from vidgen_ray.beds.base import BedRequest, bed_prompt
from vidgen_ray.beds.stable_audio import (
    StableAudioBackend,
    StableAudioOptions,
    create_stable_audio_backend,
)
from vidgen_ray.config.backends.stable_audio import StableAudioSettings
from vidgen_ray.errors import DependencyError, SettingsError
from vidgen_ray.programs import run_tool
from vidgen_ray.timeline import AUDIO_RATE

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")
pytestmark = [pytest.mark.ffmpeg]
HAS_TORCHSDE = importlib.util.find_spec("torchsde") is not None


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    from vidgen_ray.testing.tiny_stable_audio import build_stable_audio

    torch.set_num_threads(1)
    return str(build_stable_audio(tmp_path_factory.mktemp("tiny") / "stable_audio"))


@pytest.fixture(scope="module")
def backend(model):
    return StableAudioBackend(StableAudioOptions(model=model, offline=True, steps=2))


def _request(**values) -> BedRequest:
    return BedRequest(**{"kind": "music", "prompt": bed_prompt("calm", "rain", "music"),
                         "seconds": 2.5, "seed": 7, **values})


def _read(data: bytes) -> tuple[int, int, int, np.ndarray]:
    with wave.open(io.BytesIO(data)) as read:
        frames = read.getnframes()
        return (read.getnchannels(), read.getframerate(), frames,
                np.frombuffer(read.readframes(frames), dtype="<i2"))


def test_a_music_bed_is_a_48k_mono_wav_of_exactly_the_samples_asked(backend, tmp_path):
    steps = []
    data = backend.make_bed(_request(), on_step=lambda done, total: steps.append((done, total)))
    channels, rate, frames, pcm = _read(data)
    assert (channels, rate, frames) == (1, AUDIO_RATE, 120_000)
    assert steps == [(1, 2), (2, 2)]
    assert np.abs(pcm).max() > 0  # random weights make noise, not silence
    path = tmp_path / "bed.wav"
    path.write_bytes(data)
    stream = json.loads(run_tool("ffprobe", [
        "-v", "error", "-show_entries", "stream=codec_name,sample_rate,channels,duration_ts",
        "-of", "json", str(path)]))["streams"][0]
    assert stream == {"codec_name": "pcm_s16le", "sample_rate": "48000", "channels": 1,
                      "duration_ts": 120_000}


def test_an_ambience_past_the_models_window_loops_to_exactly_its_length(backend):
    assert backend.max_seconds < 3  # the tiny model's window: 64 latents of 2048 samples
    request = _request(kind="ambience", prompt=bed_prompt("calm", "rain", "ambience"),
                       seconds=60.0)
    channels, rate, frames, pcm = _read(backend.make_bed(request))
    assert (channels, rate, frames) == (1, AUDIO_RATE, 60 * AUDIO_RATE)
    # Past the first crossfade (a quarter of the ~2.97 s piece, resampled), each repeat
    # plays the same piece: the loop is the model's one piece, not silence or new noise.
    piece = round(backend.max_seconds * AUDIO_RATE)
    fade = piece // 4
    second = pcm[piece:piece + 1000]
    assert np.abs(second).max() > 0
    assert np.array_equal(second, pcm[2 * piece - fade:2 * piece - fade + 1000])


def test_the_same_seed_gives_the_same_bed_and_another_seed_another(backend):
    first = backend.make_bed(_request())
    assert backend.make_bed(_request()) == first
    assert backend.make_bed(_request(seed=8)) != first


def test_a_bad_request_is_refused_before_the_model_runs(backend):
    with pytest.raises(SettingsError, match="music prompt is empty"):
        backend.make_bed(_request(prompt=""))
    with pytest.raises(SettingsError, match="guidance scale 0.5"):
        backend.make_bed(_request(guidance_scale=0.5))


def test_loads_through_the_settings_and_reads_the_models_window(model):
    backend = create_stable_audio_backend(StableAudioSettings(
        stable_audio_model=model, offline=True, stable_audio_steps=1))
    assert backend.rate == 44_100 and backend.max_seconds == pytest.approx(64 * 2048 / 44_100)
    assert backend.device == "cpu" and backend.dtype_name == "float32"
    assert backend.version().startswith("stable-audio-1 diffusers-")


def test_a_missing_model_says_where_to_get_it(tmp_path):
    with pytest.raises(SettingsError, match="does not exist"):
        StableAudioBackend(StableAudioOptions(model=str(tmp_path / "nowhere"), offline=True))
    with pytest.raises(DependencyError, match="save_pretrained"):
        StableAudioBackend(StableAudioOptions(model=str(tmp_path), offline=True))
    with pytest.raises(DependencyError, match="not in the Hugging Face cache"):
        StableAudioBackend(StableAudioOptions(model="nobody/no-such-audio", offline=True))


def test_gpu_only_options_are_refused_on_a_cpu(model):
    with pytest.raises(SettingsError, match="cpu_offload"):
        StableAudioBackend(StableAudioOptions(model=model, offline=True, cpu_offload=True),
                           cuda=False)
    with pytest.raises(SettingsError, match="attention=eager"):
        StableAudioBackend(StableAudioOptions(model=model, offline=True, attention="eager"),
                           cuda=False)


@pytest.mark.skipif(HAS_TORCHSDE, reason="torchsde is installed: the real sampler loads")
def test_the_real_sampler_without_torchsde_says_what_to_install(model, tmp_path):
    folder = tmp_path / "cosine"
    shutil.copytree(model, folder)  # the real repository's sampler, named as it names it
    for name, key in (("model_index.json", "scheduler"),
                      ("scheduler/scheduler_config.json", "_class_name")):
        config = json.loads((folder / name).read_text())
        config[key] = (["diffusers", "CosineDPMSolverMultistepScheduler"] if key == "scheduler"
                       else "CosineDPMSolverMultistepScheduler")
        (folder / name).write_text(json.dumps(config))
    with pytest.raises(DependencyError, match="needs torchsde, which is not installed"):
        StableAudioBackend(StableAudioOptions(model=str(folder), offline=True))


@pytest.mark.skipif(not HAS_TORCHSDE, reason="the real sampler needs torchsde")
def test_the_real_sampler_makes_the_same_bed_for_the_same_seed(tmp_path):
    from vidgen_ray.testing.tiny_stable_audio import build_stable_audio

    folder = build_stable_audio(tmp_path / "cosine", cosine=True)
    backend = StableAudioBackend(StableAudioOptions(model=str(folder), offline=True, steps=2))
    first = backend.make_bed(_request())
    assert _read(first)[:3] == (1, AUDIO_RATE, 120_000)
    assert backend.make_bed(_request()) == first
