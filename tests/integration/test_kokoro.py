"""Kokoro on a random-weight model in the hub's layout (config.json, kokoro-v1_0.pth,
voices/*.pt), loaded through the same KModel path as the real weights: phonemes from
espeak-ng, voices cast by gender and language, speed, offline loading, the model cache's
file choice; then a full ``vidgen render --voice kokoro`` of the demo. The voices are noise;
the mechanics are real."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vidgen_ray.analysis.local import analyze_markdown
from vidgen_ray.config import load_settings
from vidgen_ray.errors import SettingsError
from vidgen_ray.models.registry import models_for, pick, select_files
from vidgen_ray.speech import create_speech_backend
from vidgen_ray.speech.bark import OUTPUT_RATE
from vidgen_ray.speech.base import SpeechRequest
from vidgen_ray.speech.kokoro import KokoroBackend, KokoroOptions
from vidgen_ray.speech.kokoro_text import phonemize
from vidgen_ray.storyboard import NARRATOR, Character, Line, Scene, Storyboard
from vidgen_ray.testing.tiny_kokoro import FRAMES_PER_PHONEME, build_kokoro

torch = pytest.importorskip("torch")
if importlib.util.find_spec("kokoro") is None:  # importing it would pull misaki and spaCy
    pytest.skip("pip install --no-deps kokoro==0.9.4", allow_module_level=True)

ROOT = Path(__file__).parents[2]
SECONDS_PER_FRAME = 600 / 24_000  # a predicted frame is 600 samples at 24 kHz


@pytest.fixture(scope="module")
def tiny_kokoro(tmp_path_factory) -> Path:
    torch.set_num_threads(1)
    return build_kokoro(tmp_path_factory.mktemp("models") / "kokoro")


@pytest.fixture(scope="module")
def kokoro(tiny_kokoro) -> KokoroBackend:
    backend = KokoroBackend(KokoroOptions(model=str(tiny_kokoro), offline=True, device="cpu"))
    backend.load()
    return backend


def test_lines_are_spoken_at_48k_with_a_length_that_follows_the_phonemes_and_speed(kokoro):
    text = "Thirty years I have kept this light."
    normal, fast = kokoro.synthesize([SpeechRequest(text, "af_heart", "en"),
                                      SpeechRequest(text, "af_heart", "en", speed=2.0)])
    phonemes = phonemize(text, "en-us")
    expected = (len(phonemes) + 2) * FRAMES_PER_PHONEME * SECONDS_PER_FRAME  # + start, end
    assert normal.sample_rate == fast.sample_rate == OUTPUT_RATE
    assert normal.samples.dtype == np.int16 and np.abs(normal.samples).max() > 0
    assert normal.duration == pytest.approx(expected, rel=0.1)
    assert fast.duration < normal.duration * 0.75  # Kokoro's own duration scale


def test_voices_come_from_the_folder_and_other_languages_phonemize_in_theirs(kokoro):
    assert "af_heart" in kokoro.voices() and "ff_siwis" in kokoro.voices()
    assert kokoro.version().startswith("kokoro ")
    assert phonemize("Bonjour, je suis là.", "fr-fr").startswith("bɔ̃ʒˈuʁ,")
    speech, = kokoro.synthesize([SpeechRequest("Bonjour, je suis là.", "ff_siwis", "fr")])
    assert speech.duration > 0.3


def test_casting_follows_the_scripts_genders_and_language(kokoro):
    board = analyze_markdown((ROOT / "examples" / "lighthouse.md").read_text("utf-8"))
    cast = kokoro.cast(board, None)
    assert cast[NARRATOR] == "am_michael"
    assert cast["MARA"][1] == "f" and cast["ELIAS"][1] == "m"  # af_heart, am_fenrir
    assert len(set(cast.values())) == 3
    french = Storyboard(language="fr", characters=[Character(name="YSOLDE", gender="female")])
    assert kokoro.cast(french, None)["YSOLDE"] == "ff_siwis"


def test_bad_voices_languages_and_missing_models_are_named(kokoro, tmp_path, monkeypatch):
    with pytest.raises(SettingsError, match="no voice 'xx_nobody'"):
        kokoro.check_voice("xx_nobody")
    with pytest.raises(SettingsError, match="does not speak language 'de'"):
        kokoro.cast(Storyboard(language="de"), None)
    german_line = Storyboard(scenes=[Scene(lines=[Line(text="Guten Tag.", language="de")])])
    with pytest.raises(SettingsError, match="does not speak language 'de'"):
        kokoro.cast(german_line, None)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    missing = KokoroBackend(KokoroOptions(model="nobody-here/no-kokoro", offline=True))
    with pytest.raises(SettingsError, match="vidgen models download kokoro"):
        missing.voices()
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SettingsError, match="lacks config.json"):
        KokoroBackend(KokoroOptions(model=str(empty))).voices()


def test_the_model_cache_fetches_the_weights_config_and_voices_only():
    spec, = pick(models_for(load_settings()), "kokoro")
    repo = ["config.json", "kokoro-v1_0.pth", "voices/af_heart.pt", "voices/am_adam.pt",
            "samples/HEARME.wav", "README.md", "eval/ArenaElo.png"]
    assert spec.repo_id == "hexgrad/Kokoro-82M"
    assert select_files(spec, repo) == ["config.json", "kokoro-v1_0.pth",
                                        "voices/af_heart.pt", "voices/am_adam.pt"]


def test_the_backend_is_chosen_by_name(tiny_kokoro):
    settings = load_settings(tts_model="kokoro", kokoro_model=str(tiny_kokoro))
    backend = create_speech_backend("kokoro", settings)
    assert isinstance(backend, KokoroBackend) and backend.options.model == str(tiny_kokoro)


@pytest.mark.ray
@pytest.mark.ffmpeg
@pytest.mark.slow
def test_render_the_demo_with_kokoro_voices(tiny_kokoro, tmp_path):
    out = tmp_path / "out"
    script = tmp_path / "short.md"
    script.write_text("# Keeper\n\n## Night\n\nRain.\n\nMARA: Not one.\n\nELIAS: Let me in.\n",
                      encoding="utf-8")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "VIDGEN_KOKORO_MODEL": str(tiny_kokoro)}
    done = subprocess.run([sys.executable, "-m", "vidgen_ray", "render", str(script), "-o",
                           str(out), "--voice", "kokoro", "--offline", "--fps", "12"],
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["backends"]["speech"].startswith("kokoro ")
    cast = json.loads((out / "cast.json").read_text())
    assert cast["backend"] == "kokoro"
    # MARA is a known woman's name, ELIAS one of a man: Kokoro's voice names say the gender.
    assert cast["voices"]["MARA"][1] == "f" and cast["voices"]["ELIAS"][1] == "m"
    probe = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_streams",
                            str(out / "video.mp4")], capture_output=True, text=True, check=True)
    audio = next(s for s in json.loads(probe.stdout)["streams"] if s["codec_type"] == "audio")
    assert audio["sample_rate"] == "48000"


def test_a_job_in_a_language_kokoro_cannot_speak_is_refused_at_submit():
    from vidgen_ray.pipeline.preflight import check_voices

    settings = load_settings(tts_model="kokoro")
    board = Storyboard(language="fr", scenes=[Scene(lines=[Line(text="Hallo.", language="de")])])
    with pytest.raises(SettingsError, match="does not speak language 'de'") as info:
        check_voices(board, settings)
    assert info.value.field == "storyboard.scenes.0.lines.0.language"
    check_voices(Storyboard(language="fr"), settings)  # French it speaks
