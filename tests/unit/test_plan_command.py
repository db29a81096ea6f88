"""``vidgen plan`` through the command line: the GPU packing for a named card."""

import json

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
