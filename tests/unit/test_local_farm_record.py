"""The farm `vidgen farm start` keeps: what a render on it may ask (the farm owns its
workers' settings), a record whose keeper is gone, and paths made absolute for its
processes. Without Ray: tests/integration/test_local_farm.py starts a real one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import vidgen_ray
from vidgen_ray.config import load_settings
from vidgen_ray.errors import RenderError, SettingsError
from vidgen_ray.farm import local_farm
from vidgen_ray.farm.connect import _absolute_paths


def _farm(**owned) -> local_farm.RunningFarm:
    defaults = local_farm.farm_settings(load_settings())
    return local_farm.RunningFarm(
        pid=os.getpid(), address="127.0.0.1:6379", started=time.time(),
        owned=defaults | owned, package=str(Path(vidgen_ray.__file__).resolve().parent),
        version=vidgen_ray.__version__)


def test_a_render_leaving_the_farm_settings_alone_fits_any_farm():
    local_farm.check_job(_farm(image_workers=3, max_in_flight=4), load_settings(fps=12))


def test_a_render_asking_the_farm_settings_it_has_fits():
    local_farm.check_job(_farm(image_workers=3), load_settings(image_workers=3))


def test_a_render_asking_other_farm_settings_is_refused_with_the_ways_out():
    with pytest.raises(SettingsError) as caught:
        local_farm.check_job(_farm(image_workers=3), load_settings(image_workers=1,
                                                                   image_batch_size=4))
    message = caught.value.message
    assert "image_workers 1 (the farm has 3)" in message
    assert "image_batch_size" not in message  # asked, but what the farm has
    assert "vidgen farm start --image-workers 1" in message and "--private-farm" in message
    assert caught.value.field == "image_workers"


def test_a_farm_running_another_install_is_refused():
    farm = _farm()
    farm.package = "/elsewhere/vidgen_ray"
    with pytest.raises(RenderError, match="--private-farm"):
        local_farm.check_job(farm, load_settings())


def test_a_record_whose_keeper_is_gone_is_not_a_running_farm(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDGEN_FARM_DIR", str(tmp_path))
    assert local_farm.running() is None  # no record
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    record = local_farm.RunningFarm(pid=int(gone.stdout), address="127.0.0.1:1",
                                    started=time.time())
    (tmp_path / local_farm.STATE).write_text(json.dumps(record.__dict__))
    assert local_farm.running() is None
    assert not (tmp_path / local_farm.STATE).exists()  # the stale record is removed
    # A live process that is not a keeper (a reused pid) is not one either.
    record.pid = os.getpid()
    (tmp_path / local_farm.STATE).write_text(json.dumps(record.__dict__))
    assert local_farm.running() is None


def test_stop_without_a_farm_says_none_ran(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDGEN_FARM_DIR", str(tmp_path))
    assert local_farm.stop() is None


def test_relative_paths_are_made_absolute_for_the_farms_processes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models" / "sdxl").mkdir(parents=True)
    (tmp_path / "anna.npz").write_bytes(b"")
    settings = load_settings(sdxl_model="./models/sdxl", tts_voice="anna.npz",
                             voices={"ANNA": "anna.npz", "BEN": "en+m3"})
    moved = _absolute_paths(settings)
    assert moved.sdxl_model == str(tmp_path / "models" / "sdxl")
    assert moved.tts_voice == str(tmp_path / "anna.npz")
    assert moved.voices == {"ANNA": str(tmp_path / "anna.npz"), "BEN": "en+m3"}
    assert _absolute_paths(load_settings()) == load_settings()  # hub ids and defaults stay
