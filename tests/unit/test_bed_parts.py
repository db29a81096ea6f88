"""Generated beds' requests and keys (pipeline/bed_parts.py), how they enter the soundtrack's
key, and where their workers go (farm/placement.py): pure, no model, no Ray."""

from __future__ import annotations

from vidgen_ray.config import load_settings
from vidgen_ray.farm import budget
from vidgen_ray.farm.memory import MEASURED, WORKER_OVERHEAD_GB
from vidgen_ray.farm.placement import bed_gb, on_gpu, pool_size, worker_options
from vidgen_ray.pipeline import bed_parts
from vidgen_ray.pipeline.soundtrack import soundtrack_key
from vidgen_ray.storyboard import Line, Scene, Storyboard
from vidgen_ray.timeline import AUDIO_RATE, Pacing, plan_timeline

BOARD = Storyboard(scenes=[
    Scene(title="A", mood="calm", ambience="rain", lines=[Line(text="one")]),
    Scene(title="B", mood="epic", ambience="none", lines=[Line(text="two")])])
BEDS = {"music_model": "stable_audio", "ambience_model": "stable_audio"}


def timeline(settings):
    return plan_timeline(BOARD, [[1.0], [2.0]], Pacing(fps=settings.fps,
                                                       crossfade=settings.crossfade))


def test_each_bed_is_as_long_as_its_scene_and_keyed_by_what_makes_it():
    settings = load_settings(**BEDS)
    plan = bed_parts.plan_beds(BOARD, settings, timeline(settings), "v1")
    assert plan.made == [("music", 0), ("music", 1), ("ambience", 0)]
    frames = {c.scene: c.frames for c in timeline(settings).clips}
    for (_, scene), request in zip(plan.made, plan.requests, strict=True):
        assert request.samples == round(frames[scene] / settings.fps * AUDIO_RATE)
    assert all(k.startswith("bed/") for k in plan.keys) and len(set(plan.keys)) == 3
    assert plan.by_scene() == {"music": {0: plan.keys[0], 1: plan.keys[1]},
                               "ambience": {0: plan.keys[2]}}
    # Same inputs, same keys; the version, steps or seed change them.
    assert bed_parts.plan_beds(BOARD, settings, timeline(settings), "v1").keys == plan.keys
    assert bed_parts.plan_beds(BOARD, settings, timeline(settings), "v2").keys[0] != plan.keys[0]
    fewer = load_settings(**BEDS, stable_audio_steps=8)
    assert bed_parts.plan_beds(BOARD, fewer, timeline(fewer), "v1").keys[0] != plan.keys[0]
    other = load_settings(**BEDS, seed=3)
    assert bed_parts.plan_beds(BOARD, other, timeline(other), "v1").keys[0] != plan.keys[0]


def test_the_soundtrack_key_names_beds_only_when_a_render_has_them():
    settings = load_settings()
    line = timeline(settings)
    plain = soundtrack_key(BOARD, settings, line, ["speech/a", "speech/b"])
    assert soundtrack_key(BOARD, settings, line, ["speech/a", "speech/b"], None) == plain
    assert soundtrack_key(BOARD, settings, line, ["speech/a", "speech/b"], {}) == plain
    beds = {"music": {0: "bed/" + "0" * 64}}
    with_beds = soundtrack_key(BOARD, settings, line, ["speech/a", "speech/b"], beds)
    assert with_beds != plain
    assert soundtrack_key(BOARD, settings, line, ["speech/a", "speech/b"],
                          {"music": {0: "bed/" + "1" * 64}}) != with_beds


def test_the_bed_pool_takes_a_share_of_its_own_on_gpus_and_none_by_default():
    gpu = {"CPU": 8.0, "GPU": 1.0}
    default = load_settings()
    assert not on_gpu("beds", default, gpu) and bed_gb(default) == 0.0
    assert not budget.takes_gpu(default)
    settings = load_settings(ambience_model="stable_audio")
    # The table's estimate and a worker's overhead.
    expected = MEASURED["stable_audio"].peak_gb[1] + WORKER_OVERHEAD_GB
    assert bed_gb(settings) == expected and budget.takes_gpu(settings)
    assert on_gpu("beds", settings, gpu) and pool_size("beds", settings, gpu) == 1
    options = worker_options("beds", settings, gpu)
    assert 0 < options["num_gpus"] < 1 and options["num_cpus"] == 0
    assert not on_gpu("beds", settings, {"CPU": 8.0})
    assert worker_options("beds", settings, {"CPU": 8.0})["num_cpus"] == 1
    # A bark job's bed pool is not Bark's: the bed model is read by its own name.
    bark = load_settings(tts_model="bark", music_model="stable_audio")
    assert bed_gb(bark) == bed_gb(settings)
    from vidgen_ray.farm.memory import Card

    assert "bed model" in budget.never_fits([Card(4.0)], settings)
    assert budget.never_fits([Card(24.0)], settings) is None
