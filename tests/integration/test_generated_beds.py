"""Generated beds in a render (issue 21), in process: music_model and ambience_model
stable_audio make each scene's music from its mood and its ambience from its place with a
tiny random-weight Stable Audio Open (built offline, CPU, one thread); the mix takes them
as it takes a user's music file (ducked, normalised, in the stems); a second run makes
nothing again and gives the same sound."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from vidgen_ray.config import PREVIEW, RenderSettings
from vidgen_ray.pipeline import bed_parts, flow
from vidgen_ray.storage import LocalStore
from vidgen_ray.storyboard import Line, Scene, Storyboard
from vidgen_ray.testing.jobs import Counter, run_job

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")
pytestmark = [pytest.mark.ffmpeg,
              pytest.mark.skipif(not (shutil.which("ffmpeg") and shutil.which("espeak-ng")),
                                 reason="needs ffmpeg and espeak-ng")]

BOARD = Storyboard(scenes=[
    Scene(title="Harbour", description="boats at dawn", mood="calm", ambience="ocean",
          lines=[Line(text="The boats.")]),
    Scene(title="Storm", description="a storm at night", mood="tense", ambience="rain",
          lines=[Line(text="It rains again.")])])


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    from vidgen_ray.testing.tiny_stable_audio import build_stable_audio

    torch.set_num_threads(1)
    return str(build_stable_audio(tmp_path_factory.mktemp("tiny") / "stable_audio"))


def settings_for(model: str | None, **more) -> RenderSettings:
    beds = {"music_model": "stable_audio", "ambience_model": "stable_audio",
            "stable_audio_model": model, "offline": True, "stable_audio_steps": 2} \
        if model else {}
    return RenderSettings(**{**PREVIEW, "stems": "wav", **beds, **more})


Counted = Counter()  # the requests the real backend was asked to make


def render(out, store, settings, board=BOARD):
    def build():  # the model packages only once a test runs (importorskip)
        from vidgen_ray.beds.stable_audio import create_stable_audio_backend

        return create_stable_audio_backend(settings)
    return run_job(board, settings, out, store,
                   {"beds": Counted.factory(build, "make_bed")})


def streams(video) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(video)],
                         capture_output=True, text=True, check=True)
    return {s["codec_type"]: s for s in json.loads(out.stdout)["streams"]}


def test_generated_beds_are_mixed_like_music_files_and_reused(model, tmp_path):
    settings = settings_for(model)
    store = LocalStore(tmp_path / "store", flow.PART_SUFFIXES)
    Counted.made = 0
    run, result, record = render(tmp_path / "out", store, settings)
    assert {"video", "audio"} <= set(streams(result.video))
    # A music bed and an ambience bed for each scene, each as long as its scene.
    assert Counted.made == 4 and sorted(run.beds.made) == [
        ("ambience", 0), ("ambience", 1), ("music", 0), ("music", 1)]
    assert record.progress["beds"].done == record.progress["beds"].total == 4
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert set(run.beds.keys) <= set(manifest["parts"])
    assert manifest["backends"]["beds"].startswith("stable-audio-1 ")
    # The soundtrack and the music stem differ from a procedural render's of the same script.
    plain_run, _, plain_record = render(tmp_path / "plain", LocalStore(
        tmp_path / "plain-store", flow.PART_SUFFIXES), settings_for(None))
    assert "beds" not in plain_record.progress and plain_run.beds.keys == []
    sound, plain_sound = (r.store.get(k) for r, k in (
        (run, run_key(run)), (plain_run, run_key(plain_run))))
    assert sound != plain_sound
    stem = (tmp_path / "out" / "stems" / "music.wav").read_bytes()
    assert stem != (tmp_path / "plain" / "stems" / "music.wav").read_bytes()
    assert (tmp_path / "out" / "stems" / "ambience.wav").read_bytes() != \
        (tmp_path / "plain" / "stems" / "ambience.wav").read_bytes()
    # Resumed: every bed comes from the store, and the sound is the same.
    again, _, _ = render(tmp_path / "again", store, settings)
    assert Counted.made == 4 and again.beds.keys == run.beds.keys
    assert again.store.get(run_key(again)) == sound
    assert (tmp_path / "again" / "stems" / "music.wav").read_bytes() == stem


def run_key(run) -> str:
    from vidgen_ray.pipeline.soundtrack import soundtrack_key

    timeline = run.video.plan(run.storyboard, run.speech_keys)
    return soundtrack_key(run.storyboard, run.settings, timeline, run.speech_keys,
                          run.beds.by_scene() or None)


def test_a_scene_with_its_own_music_or_none_keeps_it(model):
    board = Storyboard(scenes=[
        Scene(title="A", mood="calm", ambience="none", music="none", lines=[Line(text="a")]),
        Scene(title="B", mood="sad", ambience="wind", lines=[Line(text="b")])])
    settings = settings_for(model)
    assert bed_parts.bed_scenes(board, settings) == {"music": [1], "ambience": [1]}
    assert bed_parts.bed_scenes(board, settings_for(model, music="none")) == {"ambience": [1]}
    assert bed_parts.bed_scenes(board, settings_for(model, ambience_volume=0)) == {
        "music": [1]}
    assert bed_parts.bed_scenes(board, settings_for(None)) == {}
