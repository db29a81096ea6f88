"""The e2e render benchmark as a user runs it, on the CPU: ``benchmarks/e2e_render.py --tiny`` on
two scenes of its script (tiny SDXL and Bark through the real Farm, one logical GPU shared by
both workers, real FFmpeg), twice on one farm; its JSON's timeline is complete and in order,
and the GPU suite lists its steps without running them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.ray, pytest.mark.ffmpeg, pytest.mark.slow]

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _run(*args: str, timeout: float = 500) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDGEN_")}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          timeout=timeout, env={**env, "OMP_NUM_THREADS": "1"})


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    results = tmp_path_factory.mktemp("results")
    done = _run(str(BENCHMARKS / "e2e_render.py"), "--tiny", "--scenes", "2",
                "--resolution", "360p", "--fps", "12", "--results", str(results))
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout, json.loads((results / "e2e_render_tiny.json").read_text())


def test_the_timeline_is_complete_and_in_order(tiny_run):
    _, result = tiny_run
    assert result["models"] == "tiny" and not result["projection"]
    (run,) = result["runs"]
    timeline = run["timeline"]
    assert list(timeline) == ["first_picture", "last_picture", "speech_done", "first_chunk",
                              "last_chunk", "finished"]
    assert 0 < timeline["first_picture"] <= timeline["last_picture"] < timeline["finished"]
    assert 0 < timeline["speech_done"] < timeline["first_chunk"] <= timeline["last_chunk"]
    assert timeline["last_chunk"] < timeline["finished"] == run["wall_s"]
    assert run["scenes"] == 2 and run["video_s"] > 1 and run["size"] == "640x360@12"


def test_both_workers_share_the_logical_gpu_and_their_calls_are_in_the_job(tiny_run):
    _, result = tiny_run
    (run,) = result["runs"]
    kinds = {w["kind"]: w for w in run["workers"]}
    assert set(kinds) == {"image", "speech"}
    assert kinds["image"]["gpu_ids"] == kinds["speech"]["gpu_ids"] == ["0"]
    assert 0 < kinds["image"]["gpu_share"] + kinds["speech"]["gpu_share"] <= 1
    assert all(w["calls"] for w in run["workers"])  # this render's calls, not the first's
    busy = run["busy"]["gpus"]["0"]
    assert 0 < busy["busy_of_wall"] <= 1 and 0 < busy["busy_until_last_picture"] <= 1
    assert run["critical_path"]["bound_by"] in {link["stage"]
                                                for link in run["critical_path"]["links"]}
    assert all(row["rss_peak_gib"] > 0 for row in run["memory"])


def test_the_table_names_the_models_and_the_machine(tiny_run):
    stdout, _ = tiny_run
    assert "tiny random-weight SDXL and Bark on the CPU" in stdout
    assert "machine: " in stdout and "critical path: " in stdout


def test_the_fast_path_and_moving_shots_run_through_the_same_farm(tmp_path):
    """--fast and --motion clip in one run (one scene): the few-step SDXL path, and the
    scene a clip of the tiny LTX-Video made by a motion worker on the same logical GPU."""
    done = _run(str(BENCHMARKS / "e2e_render.py"), "--tiny", "--fast", "--motion", "clip",
                "--scenes", "1", "--results", str(tmp_path), timeout=400)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((tmp_path / "e2e_render_tiny_clip.json").read_text())
    (run,) = report["runs"]
    assert run["settings"]["image_fast_path"] == "lightning"
    assert report["motion"] == "clip" and run["settings"]["video_model"] == "ltx"
    assert run["label"].endswith("every scene a clip") and "LTX-Video" in report["note"]
    motion = [w for w in run["workers"] if w["kind"] == "motion"]
    assert len(motion) == 1 and motion[0]["gpu_ids"] == ["0"] and motion[0]["calls"]
    assert run["stage_seconds"]["clips"] > 0


def test_budgeted_bark_gives_each_line_the_share_its_text_earns(tmp_path):
    from transformers import BarkModel, BarkProcessor

    from vidgen_ray.speech.bark import BarkOptions
    from vidgen_ray.testing.full_size import BudgetedBark, line_budget
    from vidgen_ray.testing.tiny_bark import build_bark

    folder = build_bark(tmp_path / "bark")
    backend = BudgetedBark.from_loaded(BarkModel.from_pretrained(folder),
                                       BarkProcessor.from_pretrained(folder),
                                       BarkOptions(device="cpu", decoding="transformers"))
    texts = ["Hold the rail.", "Hold the rail. Hold the rail. Hold the rail."]
    short, long = backend.generate(texts, "v2/en_speaker_0")
    budgets = [line_budget(t) for t in texts]
    rate = backend.sample_rate()
    # The batch ran for the longest budget (the tiny model's own limit is 40 tokens)...
    assert len(long) / rate == pytest.approx(budgets[1] / 49.9, rel=0.05)
    # ...and the short line keeps its own share of it.
    assert len(short) / len(long) == pytest.approx(budgets[0] / budgets[1], rel=0.02)


def test_a_projection_is_labelled_and_lays_one_picture_worker_on_each_card(tmp_path):
    done = _run(str(BENCHMARKS / "e2e_render.py"), "--projection", "--scenes", "2",
                "--resolution", "360p", "--fps", "12", "--results", str(tmp_path))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "PROJECTION: model calls sleep for latencies measured on a GPU" in done.stdout
    result = json.loads((tmp_path / "e2e_render_projection.json").read_text())
    assert result["projection"] and result["gpus"] == 8
    (run,) = result["runs"]
    assert run["label"].startswith("PROJECTION for 8 cards")
    images = [w for w in run["workers"] if w["kind"] == "image"]
    assert [w["gpu_ids"] for w in images] == [[str(i)] for i in range(8)]
    # Each call slept for the fitted cost of its batch: fixed part plus a part per picture.
    latency = result["latency"]["image"]
    for call in (c for w in images for c in w["calls"]):
        expected = latency["fixed_s"] + latency["per_request_s"] * call["requests"]
        assert call["end"] - call["start"] == pytest.approx(expected, abs=0.5)
