"""SDXL as a user runs it: `vidgen render --images sdxl --sdxl-model DIR` of a three-scene
script and `vidgen portraits` on the tiny models, checked with ffprobe; and a worker actor that
answers its progress while it draws."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from PIL import Image

from vidgen_ray.storyboard import Character, Line, Scene, Storyboard
from vidgen_ray.testing import tiny_sdxl

pytestmark = pytest.mark.ffmpeg

TINY_FLAGS = ("--images", "sdxl", "--image-resolution", "64x64", "--steps", "2", "--offline",
              "--no-safety-checker", "--style", "storybook")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    return {"sdxl": tiny_sdxl.build_sdxl(root / "sdxl"),
            "ip_adapter": tiny_sdxl.build_ip_adapter(root / "ip")}


@pytest.fixture(scope="module")
def script(tmp_path_factory):
    board = Storyboard(
        title="Three scenes",
        characters=[Character(name="MARA", description="a tall woman in a red coat"),
                    Character(name="ELIAS", description="a young man with wet dark hair")],
        scenes=[Scene(title="Storm", description="a lighthouse in a storm",
                      characters=["MARA"], lines=[Line(speaker="MARA", text="Not one ship.")]),
                Scene(title="Door", description="a stranger at the door",
                      characters=["MARA", "ELIAS"],
                      lines=[Line(speaker="ELIAS", text="Please, let me in.")]),
                Scene(title="Dawn", description="a calm sea at dawn",
                      lines=[Line(text="By dawn the storm had passed.")])])
    path = tmp_path_factory.mktemp("script") / "three.json"
    path.write_text(board.model_dump_json(), encoding="utf-8")
    return path


def vidgen(*args):
    return subprocess.run([sys.executable, "-m", "vidgen_ray", *map(str, args)],
                          capture_output=True, text=True, timeout=600,
                          env={**_env(), "OMP_NUM_THREADS": "1"})


def _env():
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("VIDGEN_")}


def _probe(path) -> dict:
    done = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_streams",
                           "-show_format", str(path)], capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def rendered(models, script, tmp_path_factory):
    out = tmp_path_factory.mktemp("render")
    done = vidgen("render", script, "-o", out, "--sdxl-model", models["sdxl"],
                  "--ip-adapter", models["ip_adapter"], *TINY_FLAGS)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def test_render_with_sdxl_makes_a_checked_video(rendered):
    info = _probe(rendered / "video.mp4")
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    assert (video["width"], video["height"]) == (1280, 720)
    assert any(s["codec_type"] == "audio" for s in info["streams"])
    assert float(info["format"]["duration"]) > 1.0
    errors = subprocess.run(["ffmpeg", "-v", "error", "-xerror", "-i",
                             str(rendered / "video.mp4"), "-f", "null", "-"],
                            capture_output=True, text=True)
    assert errors.returncode == 0 and errors.stderr == ""


def test_pictures_are_video_sized_and_the_manifest_names_seeds_and_portraits(rendered):
    manifest = json.loads((rendered / "manifest.json").read_text())
    assert manifest["backends"]["images"].startswith("sdxl-2 ")
    pictures = manifest["pictures"]
    assert set(pictures["portraits"]) == {"MARA", "ELIAS"}
    seeds = [int(s["seed"]) for s in pictures["scenes"]]
    mara_seed = next(int(s["seed"]) for s in pictures["scenes"] if s["scene"] == 1)
    assert seeds[0] == mara_seed and len(seeds) == 3 and pictures["safety_redrawn_scenes"] == []
    assert all(key in manifest["parts"] for key in pictures["portraits"].values())
    portraits = sorted((rendered / "parts" / "portrait").glob("*.png"))
    assert len(portraits) == 2 and all(Image.open(p).size == (64, 64) for p in portraits)
    pngs = sorted((rendered / "parts" / "image").glob("*.png"))
    assert len(pngs) == 3 and all(Image.open(p).size == (1280, 720) for p in pngs)


def test_portraits_and_their_sheet(models, script, tmp_path):
    out = tmp_path / "cast"
    done = vidgen("portraits", script, "-o", out, "--sdxl-model", models["sdxl"], *TINY_FLAGS)
    assert done.returncode == 0, done.stderr[-3000:]
    assert Image.open(out / "MARA.png").size == (64, 64)
    assert Image.open(out / "ELIAS.png").size == (64, 64)
    assert Image.open(out / "cast.png").size == (2 * 256, 256 + 32)


def test_offline_render_without_the_model_says_how_to_get_it(script, tmp_path):
    # `vidgen cast`, the old name of `vidgen portraits`, still runs it
    done = vidgen("cast", script, "-o", tmp_path, "--images", "sdxl", "--offline",
                  "--sdxl-model", "nobody/no-such-sdxl", "--no-safety-checker")
    assert done.returncode == 1
    text = " ".join(done.stderr.split())  # rich wraps the message
    assert "VIDGEN_SDXL_MODEL=nobody/no-such-sdxl vidgen models download sdxl" in text


@pytest.mark.ray
def test_worker_answers_progress_while_it_draws(ray_local, models):
    from vidgen_ray.config import load_settings
    from vidgen_ray.farm.actors.image_worker import ImageWorker
    from vidgen_ray.farm.placement import worker_options

    settings = load_settings(image_model="sdxl", sdxl_model=str(models["sdxl"]), offline=True,
                             image_resolution="64x64", image_inference_steps=60,
                             image_safety_checker=False)
    options = worker_options("image", settings, {"CPU": 2.0})
    worker = ray_local.remote(ImageWorker).options(**options).remote("sdxl", settings)
    ray_local.get(worker.ready.remote(), timeout=120)
    from vidgen_ray.images import picture_sampling
    from vidgen_ray.images.base import ImageRequest

    # The job's steps and size travel with the request, as the pipeline sends them.
    call = worker.generate.remote([ImageRequest(1, "", "sea", (), "calm", 64, 64, 1,
                                                sampling=picture_sampling(settings, 64, 64))])
    seen = []
    while not ray_local.wait([call], timeout=0.02)[0]:
        seen.append(ray_local.get(worker.progress.remote(), timeout=30))
    ray_local.get(call, timeout=120)
    assert any(0 < s["done"] < s["total"] == 60 for s in seen), seen
    assert ray_local.get(worker.progress.remote()) == {"done": 60, "total": 60}
