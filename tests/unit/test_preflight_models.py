"""The video, talking and bed models are checked at submit like the image and speech ones:
their packages installed here, their folders there (pipeline/preflight.py)."""

from __future__ import annotations

import pytest

from vidgen_ray.config import RenderSettings
from vidgen_ray.errors import DependencyError, SettingsError
from vidgen_ray.pipeline import preflight


def test_every_model_a_job_loads_is_named_by_the_setting_that_asks_for_it():
    plain = preflight.backends_used(RenderSettings())
    assert plain == {"tts_model": "espeak", "image_model": "cards", "video_model": "none",
                     "shots": "none", "ambience_model": "procedural"}
    asked = preflight.backends_used(RenderSettings(
        video_model="ltx", shots="talking", music_model="stable_audio"))
    assert asked | {"tts_model": "espeak"} == {
        "tts_model": "espeak", "image_model": "cards", "video_model": "ltx", "shots": "ltx2",
        "music_model": "stable_audio"}


@pytest.mark.parametrize("settings, field, said", [
    ({"shots": "talking"}, "settings.shots", "shots 'talking'"),
    ({"video_model": "ltx"}, "settings.video_model", "video_model 'ltx'"),
    ({"ambience_model": "stable_audio"}, "settings.ambience_model",
     "ambience_model 'stable_audio'")])
def test_a_model_whose_packages_are_missing_is_refused_naming_its_setting(
        monkeypatch, settings, field, said):
    # A package name no Python has: find_spec answers as it would for a missing torch.
    for backend in ("ltx", "ltx2", "stable_audio"):
        monkeypatch.setitem(preflight.BACKEND_MODULES, backend, ("vidgen_no_such_package",))
    job = RenderSettings(**settings)
    with pytest.raises(SettingsError) as client:
        preflight.check_backends(job)
    assert client.value.field == field and said in client.value.message
    assert "pip" not in client.value.message  # the operator's fix goes to the log
    with pytest.raises(DependencyError, match="vidgen_no_such_package.*pip install"):
        preflight.check_backends(job, for_client=False)
    preflight.check_backends(RenderSettings())  # nothing asked: nothing missing


def test_a_model_folder_that_does_not_exist_is_refused_only_when_used(tmp_path):
    gone = str(tmp_path / "no-ltx2")
    preflight.check_paths(RenderSettings(ltx2_model=gone))  # no talking shots: not read
    with pytest.raises(SettingsError, match="does not exist") as info:
        preflight.check_paths(RenderSettings(ltx2_model=gone, shots="talking"))
    assert info.value.field == "settings.ltx2_model"
    preflight.check_paths(RenderSettings(ltx2_model=str(tmp_path), shots="talking"))
