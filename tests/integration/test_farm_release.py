"""`vidgen farm release` and `vidgen farm status`: workers drop their models, show
``loaded: false``, and the next render loads them again and works. On the tiny SDXL and
Bark models (the real loading path), and on the embedded backends through the cluster's
named Farm actor, driven by the CLI."""

import asyncio
import json

import pytest
import ray
from typer.testing import CliRunner

from vidgen_ray.cli.app import app
from vidgen_ray.config import load_settings
from vidgen_ray.farm.connect import farm_actor
from vidgen_ray.farm.scheduler import Farm
from vidgen_ray.storyboard import Line, Scene, Storyboard
from vidgen_ray.testing.tiny_bark import build_bark
from vidgen_ray.testing.tiny_sdxl import build_sdxl

pytestmark = [pytest.mark.ray, pytest.mark.ffmpeg, pytest.mark.slow]

BOARD = Storyboard(scenes=[Scene(title="Harbour", description="boats at dawn",
                                 lines=[Line(text="The boats come home.")])])


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    return {"sdxl": build_sdxl(root / "sdxl"), "bark": build_bark(root / "bark")}


# One model backend at a time: a model worker on a CPU holds one CPU, and FFmpeg needs one
# of this machine's two.
@pytest.mark.parametrize("backends", [{"image_model": "sdxl"}, {"tts_model": "bark"}],
                         ids=["sdxl", "bark"])
def test_released_model_workers_reload_on_the_next_render(ray_local, models, tmp_path,
                                                          backends):
    settings = load_settings(
        fps=12, sdxl_model=str(models["sdxl"]), image_resolution="64x64",
        image_inference_steps=2, image_safety_checker=False, bark_model=str(models["bark"]),
        offline=True, image_workers=1, speech_workers=1, **backends)

    async def scenario():
        farm = Farm()
        try:
            first = await farm.wait(await farm.submit(BOARD, str(tmp_path / "a"), settings))
            before = {r["kind"]: r for r in await farm.workers()}
            assert {k: r["loaded"] for k, r in before.items()} == {"image": True,
                                                                   "speech": True}
            released = {r["kind"]: r for r in await farm.release()}
            for kind, row in released.items():
                assert row["ok"] and not row["loaded"] and row["releases"] == 1, kind
                assert row["rss_bytes"] > 0
            assert {r["kind"]: r["loaded"] for r in await farm.workers()} == {
                "image": False, "speech": False}
            second = await farm.wait(await farm.submit(BOARD, str(tmp_path / "b"), settings))
            after = {r["kind"]: r for r in await farm.workers()}
            for kind, row in after.items():  # the same worker process, model loaded again
                assert row["loaded"] and row["pid"] == before[kind]["pid"], kind
                assert row["calls"] > before[kind]["calls"], kind
            return first, second
        finally:
            await farm.shutdown()

    first, second = asyncio.run(scenario())
    assert second.video.stat().st_size > 0
    assert second.duration == pytest.approx(first.duration, abs=0.2)


def test_farm_status_and_release_talk_to_the_running_farm(ray_local, tmp_path):
    runner = CliRunner()
    address = ray_local.get_runtime_context().gcs_address
    missing = runner.invoke(app, ["farm", "status", "--address", address])
    assert missing.exit_code == 1 and "no farm is running" in missing.output
    no_address = runner.invoke(app, ["farm", "status"])  # and no farm kept on this machine
    assert no_address.exit_code == 1, no_address.output
    assert "vidgen farm start" in no_address.output and "--address" in no_address.output

    farm = farm_actor()
    try:
        settings = load_settings(fps=12, image_workers=1, speech_workers=1)
        job = ray.get(farm.submit.remote(BOARD, str(tmp_path / "a"), settings))
        ray.get(farm.wait.remote(job), timeout=300)

        shown = runner.invoke(app, ["farm", "status", "--address", address, "--json"])
        assert shown.exit_code == 0, shown.output
        rows = json.loads(shown.stdout)
        assert {(r["backend"], r["loaded"]) for r in rows} == {("cards", True),
                                                               ("espeak", True)}
        assert all(r["node_ip"] == "127.0.0.1" and r["gpu_share"] == 0.0 for r in rows)
        table = runner.invoke(app, ["farm", "status", "--address", address],
                              env={"COLUMNS": "200"})
        assert "image:cards" in table.stdout and "speech:espeak" in table.stdout

        freed = runner.invoke(app, ["farm", "release", "--address", address, "--json"])
        assert freed.exit_code == 0, freed.output
        assert [r["loaded"] for r in json.loads(freed.stdout)] == [False, False]

        again = ray.get(farm.submit.remote(BOARD, str(tmp_path / "b"), settings))
        result = ray.get(farm.wait.remote(again), timeout=300)
        assert result.video.exists()
        rows = json.loads(runner.invoke(app, ["farm", "status", "--address", address,
                                              "--json"]).stdout)
        assert all(r["loaded"] and r["releases"] == 1 for r in rows)
    finally:
        ray.get(farm.shutdown.remote(), timeout=60)
        ray.kill(farm)
