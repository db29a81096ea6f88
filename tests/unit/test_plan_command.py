"""``vidgen plan`` through the command line: the GPU packing for a named card."""

import json
from pathlib import Path

from typer.testing import CliRunner

from vidgen_ray.cli.app import app

runner = CliRunner()


def test_plan_on_an_l4_packs_sdxl_and_bark_into_24_gb():
    done = runner.invoke(app, ["plan", "--gpu", "L4", "--images", "sdxl", "--voice", "bark"],
                         env={"COLUMNS": "200"})
    assert done.exit_code == 0, done.output
    assert "0 L4 (24 GB)" in done.output
    assert "1 x SDXL, batch 1, 13.1 GB each" in done.output
    assert "1 x Bark, batch 16, 6.6 GB each" in done.output
    data = json.loads(runner.invoke(app, ["plan", "--gpu", "L4", "--images", "sdxl",
                                          "--voice", "bark", "--json"]).output)
    card = data["gpus"]["cards"][0]
    used = card["image_workers"] * card["image"]["gb"] + card["speech_workers"] * card[
        "speech"]["gb"]
    assert data["fits"] and used <= 24


def test_plan_says_when_the_models_cannot_fit():
    done = runner.invoke(app, ["plan", "--gpu", "T4", "--images", "sdxl", "--voice", "bark"],
                         env={"COLUMNS": "200"})
    assert done.exit_code == 2
    assert "the models cannot fit: SDXL (13.1 GB per worker) and Bark" in done.output
    two = runner.invoke(app, ["plan", "--gpu", "T4", "--gpus", "2", "--images", "sdxl",
                              "--voice", "bark"], env={"COLUMNS": "200"})
    assert two.exit_code == 0 and "1 T4 (16 GB)" in two.output


def test_plan_names_the_cards_it_knows_and_the_backends_that_take_no_gpu():
    unknown = runner.invoke(app, ["plan", "--gpu", "Z9", "--images", "sdxl"])
    assert unknown.exit_code == 2 and "4090" in unknown.output and "H200" in unknown.output
    embedded = runner.invoke(app, ["plan", "--gpu", "H100"], env={"COLUMNS": "200"})
    assert embedded.exit_code == 0 and "no worker takes GPU" in embedded.output


def test_plan_with_ltx_on_an_l4_gives_its_motion_worker_a_card_and_says_it_is_an_estimate():
    alone = runner.invoke(app, ["plan", "--gpu", "L4", "--video-model", "ltx"],
                          env={"COLUMNS": "250"})
    assert alone.exit_code == 0, alone.output
    assert "1 x LTX-Video, batch 1, 19.0 GB each (estimate, not measured)" in alone.output
    assert "│ 19.0    │ 5.0 " in alone.output  # GB used, GB left
    said = " ".join(alone.output.split())
    assert "one 5.0 s clip (121 frames at 24 fps)" in said and "3 at most" in said
    assert "GPU time per clip is not measured yet" in said
    crowded = runner.invoke(app, ["plan", "--gpu", "L4", "--images", "sdxl", "--voice",
                                  "bark", "--video-model", "ltx"], env={"COLUMNS": "250"})
    assert crowded.exit_code == 2
    assert ("LTX-Video (19.0 GB per worker, an estimate, not measured) does not fit beside "
            "the image and speech workers on 1 x L4 (24 GB)") in " ".join(crowded.output.split())
    two = json.loads(runner.invoke(app, ["plan", "--gpu", "L4", "--gpus", "2", "--images",
                                         "sdxl", "--voice", "bark", "--video-model", "ltx",
                                         "--max-clips-per-scene", "2", "--json"]).output)
    assert two["fits"] and two["gpus"]["motion"]["key"] == "ltx"
    cards = two["gpus"]["cards"]  # as the farm's first fit puts them: LTX first, largest
    assert [(c["image_workers"], c["speech_workers"], c["motion_workers"]) for c in cards] == [
        (0, 0, 1), (1, 1, 0)]
    assert cards[0]["motion"]["estimate"] and not cards[0]["motion"]["measured"]
    assert "2 at most" in two["notes"][-1]


def test_plan_with_ltx_on_an_h100_packs_all_three_models_on_the_card():
    done = runner.invoke(app, ["plan", "--gpu", "H100", "--images", "sdxl", "--voice", "bark",
                               "--video-model", "ltx"], env={"COLUMNS": "250"})
    assert done.exit_code == 0, done.output
    assert "2 x SDXL, batch 3, 22.6 GB each" in done.output
    assert "2 x Bark, batch 16, 6.6 GB each" in done.output
    assert "1 x LTX-Video, batch 1, 19.0 GB each (estimate, not measured)" in done.output
    assert "│ 77.5    │ 2.5 " in done.output
    without = runner.invoke(app, ["plan", "--gpu", "H100", "--images", "sdxl", "--voice",
                                  "bark"], env={"COLUMNS": "250"})
    assert "motion workers" not in without.output and "clip" not in without.output


def test_plan_of_a_script_with_talking_shots_and_generated_beds_lists_their_costs():
    script = str(Path(__file__).resolve().parents[2] / "examples" / "lighthouse.md")
    done = runner.invoke(app, ["plan", script, "--gpu", "H200", "--shots", "talking",
                               "--music-model", "stable_audio", "--json"])
    assert done.exit_code == 0, done.output
    data = json.loads(done.output)
    assert data["talking"]["lines"] and all(s > 0 for s in data["talking"]["seconds"])
    assert data["talking"]["gpu_seconds_per_second"] is None  # not measured: no number
    assert data["beds"]["music"] and data["beds"]["gpu_seconds_per_bed"] is None
    assert {"talking", "beds"} <= {p["kind"] for p in data["placement"]}
    shown = runner.invoke(app, ["plan", script, "--gpu", "H200", "--shots", "talking",
                                "--music-model", "stable_audio"], env={"COLUMNS": "200"})
    assert "Talking shots" in shown.output and "Generated beds" in shown.output
