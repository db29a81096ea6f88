"""Settings, errors, storage keys, and the public surface."""

import pickle
import subprocess
import sys

import pytest

import vidgen_ray
from vidgen_ray.config import RenderSettings, load_settings
from vidgen_ray.errors import RenderError, SettingsError, ToolError, VidgenError
from vidgen_ray.storage import LocalStore, content_key
from vidgen_ray.storyboard import Character, Line, Scene, Storyboard


def test_public_surface_is_pinned():
    assert sorted(vidgen_ray.__all__) == ["RenderSettings", "Storyboard", "__version__",
                                          "analyze", "render"]


def test_import_stays_light():
    code = ("import sys, vidgen_ray, vidgen_ray.storyboard, vidgen_ray.timeline;"
            "heavy = {'ray', 'torch', 'diffusers', 'transformers'} & set(sys.modules);"
            "print(sorted(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize(("resolution", "aspect", "size"), [
    ("720p", "16:9", (1280, 720)), ("1080p", "16:9", (1920, 1080)),
    ("1440p", "16:9", (2560, 1440)), ("2160p", "16:9", (3840, 2160)),
    ("1080p", "9:16", (1080, 1920)), ("720p", "1:1", (720, 720)),
])
def test_sizes(resolution, aspect, size):
    assert RenderSettings(resolution=resolution, aspect=aspect).size == size


def test_bad_settings_name_the_field_and_value():
    with pytest.raises(SettingsError, match=r"resolution='4k'.*'720p'") as info:
        load_settings(resolution="4k")
    assert info.value.field == "resolution" and info.value.http_status == 422
    with pytest.raises(SettingsError, match="fps=5"):
        load_settings(fps=5)


def test_settings_from_environment(monkeypatch):
    monkeypatch.setenv("VIDGEN_FPS", "24")
    monkeypatch.setenv("RAY_ADDRESS", "ray://head:10001")
    settings = load_settings(resolution="1080p")
    assert (settings.fps, settings.resolution) == (24, "1080p")
    assert settings.ray_address == "ray://head:10001"
    assert "ray_address" not in settings.for_manifest()


def test_errors_survive_pickling_with_their_fields():
    for error in (RenderError("chunk 3 failed", stage="video"),
                  SettingsError("bad voice", field="tts_voice"),
                  ToolError("ffmpeg", ["-i", "x"], 1, "line 1\nNo such file")):
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error) and copy.__dict__ == error.__dict__
        assert str(copy) == str(error)
    assert issubclass(ToolError, VidgenError) and ToolError.retryable


def test_content_keys_are_stable_and_sensitive():
    a = content_key("speech", text="hi", voice="en+m1")
    assert a == content_key("speech", voice="en+m1", text="hi")
    assert a != content_key("speech", text="hi", voice="en+m2")
    assert a.startswith("speech/") and len(a.split("/")[1]) == 64


def test_local_store_writes_atomically_and_refuses_odd_keys(tmp_path):
    store = LocalStore(tmp_path, {"image": ".png"})
    key = content_key("image", n=1)
    path = store.put(key, b"png")
    assert path.suffix == ".png" and store.has(key) and store.get(key) == b"png"
    assert not list(path.parent.glob(".tmp-*"))
    for bad in ("image/../../etc", "image", "image/a/b"):
        with pytest.raises(ValueError):
            store.path(bad)


def test_storyboard_checks_speakers_and_derives_seeds():
    with pytest.raises(ValueError, match="speaker 'BOB' is not in the character list"):
        Storyboard(scenes=[Scene(lines=[Line(speaker="BOB", text="hi")])])
    board = Storyboard(characters=[Character(name="BOB")],
                       scenes=[Scene(lines=[Line(speaker="BOB", text="hi")])])
    assert board.characters[0].seed == Character(name="BOB").seed
    two = Storyboard(scenes=[Scene(lines=[Line(text="a")]), Scene(lines=[Line(text="b")])])
    assert two.scene_seed(0) == board.scene_seed(0) != two.scene_seed(1)
    with pytest.raises(ValueError, match="needs text"):
        Line(text="   ")


def test_farm_settings_from_environment(monkeypatch):
    from vidgen_ray.config import FarmSettings

    monkeypatch.setenv("VIDGEN_MAX_QUEUED_JOBS", "3")
    settings = FarmSettings()
    assert (settings.max_queued_jobs, settings.max_running_jobs) == (3, 2)


def test_a_string_naming_a_file_is_read_as_that_file(tmp_path, monkeypatch):
    from vidgen_ray.pipeline.source import load_storyboard

    (tmp_path / "story.md").write_text("# Title\n\nMARA: Hello there.\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    board = load_storyboard("story.md")
    assert board.characters[0].name == "MARA"
    text = load_storyboard("A lighthouse stood on the cliff.")
    assert text.scenes[0].lines[0].text == "A lighthouse stood on the cliff."


def test_render_refuses_to_block_a_running_event_loop(tmp_path):
    import asyncio

    from vidgen_ray.errors import RenderError
    from vidgen_ray.farm.connect import render

    async def inside_a_loop():
        render("Hello.", tmp_path, RenderSettings())

    with pytest.raises(RenderError, match="cannot run inside an event loop"):
        asyncio.run(inside_a_loop())
