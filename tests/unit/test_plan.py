import json
import math

import pytest

from vidgen_ray.config import RenderSettings
from vidgen_ray.farm.plan import (
    ENCODE_CPU_SECONDS,
    SPEECH_CHARS_PER_SECOND,
    estimate_timeline,
    plan_render,
)
from vidgen_ray.storyboard import Line, Scene, Storyboard
from vidgen_ray.timeline import Pacing, plan_timeline

NO_GPU = {"CPU": 16.0, "memory": 3e10}
TWO_GPUS = {"CPU": 32.0, "GPU": 2.0, "accelerator_type:A10G": 2.0}
ASSEMBLY = {"CPU": 48.0, "GPU": 2.0, "assembly": 4.0}


def board(scenes=12, lines=3, text="x" * 30):
    return Storyboard(title="Lighthouse", scenes=[
        Scene(title=f"s{i}", lines=[Line(text=text) for _ in range(lines)])
        for i in range(scenes)])


def by_kind(plan):
    return {p.kind: p for p in plan.placement}


def test_task_graph_counts_requests_calls_and_chunks():
    settings = RenderSettings(speech_batch_size=8, image_batch_size=5, chunk_seconds=10)
    plan = plan_render(board(scenes=12, lines=3), settings, NO_GPU)
    graph = plan.graph
    assert (graph.scenes, graph.lines) == (12, 36)
    assert (graph.speech_requests, graph.image_requests) == (36, 12)
    assert (graph.speech_calls, graph.image_calls) == (5, 3)  # ceil(36/8), ceil(12/5)
    assert graph.chunks == len(estimate_timeline(board(), settings).chunks(10))
    assert graph.chunks > 1


def test_timeline_assumes_fifteen_characters_a_second_scaled_by_speed():
    story = board(scenes=2, lines=2, text="y" * 45)
    settings = RenderSettings(tts_speed=1.5)
    rate = SPEECH_CHARS_PER_SECOND * 1.5
    expected = plan_timeline(story, [[45 / rate] * 2] * 2, Pacing(fps=30, crossfade=0.5))
    timeline = estimate_timeline(story, settings)
    assert timeline.total_frames == expected.total_frames
    assert timeline.cues[0].end - timeline.cues[0].start == pytest.approx(2.0)
    plan = plan_render(story, settings, NO_GPU)
    assert plan.estimate.speech_chars_per_second == rate
    assert plan.estimate.video_seconds == pytest.approx(expected.duration)


def test_encode_work_scales_with_pixels():
    story = board()
    small = plan_render(story, RenderSettings(), NO_GPU).estimate
    large = plan_render(story, RenderSettings(resolution="1080p"), NO_GPU).estimate
    assert small.encode_cpu_seconds == pytest.approx(ENCODE_CPU_SECONDS * small.video_seconds)
    assert large.encode_cpu_seconds == pytest.approx(small.encode_cpu_seconds * 2.25)
    assert (large.width, large.height) == (1920, 1080)
    assert large.frames == round(large.video_seconds * 30)


def _model_backends() -> RenderSettings:
    """Settings naming the model backends, batch sizes left to the farm."""
    return RenderSettings(image_model="sdxl", tts_model="bark")


def test_no_gpus_embedded_workers_leave_every_cpu_to_ffmpeg():
    plan = plan_render(board(), RenderSettings(), NO_GPU)
    kinds = by_kind(plan)
    for kind in ("image", "speech"):
        assert (kinds[kind].count, kinds[kind].gpus_each, kinds[kind].cpus_each) == (4, 0, 0)
        assert kinds[kind].per_gpu is None and kinds[kind].runs_on == "CPU"
    ffmpeg = kinds["ffmpeg"]
    assert ffmpeg.runs_on == "any CPU" and ffmpeg.count == 16
    assert any("no GPU" in note for note in plan.notes)


def test_no_gpus_model_workers_take_a_cpu_each_and_ffmpeg_gets_the_rest():
    kinds = by_kind(plan_render(board(), _model_backends(), NO_GPU))
    assert kinds["image"].cpus_each == kinds["speech"].cpus_each == 1
    assert kinds["ffmpeg"].count == 16 - 8


def test_model_workers_leave_a_small_machine_to_ffmpeg():
    plan = plan_render(board(), _model_backends(), {"CPU": 4.0})
    assert [by_kind(plan)[k].cpus_each for k in ("image", "speech")] == [0, 0]
    assert by_kind(plan)["ffmpeg"].count == 4 and plan.estimate.encode_wall_seconds


def test_a_machine_too_small_for_one_ffmpeg_task_says_so():
    settings = _model_backends().model_copy(update={"ffmpeg_threads": 8})
    plan = plan_render(board(), settings, {"CPU": 4.0})
    assert by_kind(plan)["ffmpeg"].count == 0
    assert plan.estimate.encode_wall_seconds is None
    assert any("no room for an FFmpeg task" in note for note in plan.notes)


def test_two_24_gb_gpus_share_each_card_by_measured_memory():
    plan = plan_render(board(), _model_backends(), TWO_GPUS)
    kinds = by_kind(plan)
    image, speech = kinds["image"], kinds["speech"]
    assert (image.count, image.gpus_each, image.per_gpu) == (2, 0.55, 1)  # SDXL 13.1 GB
    assert (speech.count, speech.gpus_each, speech.per_gpu) == (2, 0.28, 3)  # Bark 6.6 GB
    assert image.cpus_each == speech.cpus_each == 0 and image.runs_on == "GPU"
    assert image.count * image.gpus_each + speech.count * speech.gpus_each <= 2
    assert kinds["ffmpeg"].count == 32 and kinds["ffmpeg"].runs_on == "any CPU"
    assert plan.notes == ()
    # The batch sizes the farm chooses for those shares count the calls.
    assert (plan.graph.image_calls, plan.graph.speech_calls) == (12, 3)  # batch 1, 16
    rows = plan.rows()["GPU packing"]
    assert [r["card"] for r in rows] == ["0 A10G (24 GB)", "1 A10G (24 GB)"]
    assert rows[0]["image workers"] == "1 x SDXL, batch 1, 13.1 GB each (peak measured)"
    assert rows[0]["GB left"] == "4.3"


def test_embedded_backends_take_no_gpu_and_show_no_packing():
    plan = plan_render(board(), RenderSettings(), TWO_GPUS)
    assert {by_kind(plan)[k].gpus_each for k in ("image", "speech")} == {0.0}
    assert plan.gpus is None and "GPU packing" not in plan.rows()


def test_models_that_cannot_fit_are_noted():
    small = {**TWO_GPUS, "GPU": 1.0, "accelerator_type:A10G": 1.0}
    plan = plan_render(board(), _model_backends().model_copy(update={"gpu_memory_gb": 8}),
                       small)
    assert not plan.gpus.fits
    assert any(note.startswith("SDXL needs 13.1 GB per worker") for note in plan.notes)


def test_too_many_workers_for_the_gpus_is_noted():
    plan = plan_render(board(), _model_backends().model_copy(update={"image_workers": 9}),
                       TWO_GPUS)
    assert any("ask for 5.51 GPUs" in note for note in plan.notes)


def test_assembly_resource_sends_ffmpeg_to_assembly_nodes():
    settings = RenderSettings(ffmpeg_threads=2)
    plan = plan_render(board(), settings, ASSEMBLY)
    ffmpeg = by_kind(plan)["ffmpeg"]
    assert ffmpeg.runs_on == "assembly nodes"
    assert ffmpeg.options == {"resources": {"assembly": 1}, "num_cpus": 2}
    assert ffmpeg.count == 4  # the assembly resource, not the 24 CPU pairs, bounds it
    chunks, per_chunk = plan.graph.chunks, plan.estimate.encode_cpu_seconds / plan.graph.chunks
    assert plan.estimate.encode_wall_seconds == pytest.approx(
        math.ceil(chunks / 4) * per_chunk / 2)


def test_an_empty_storyboard_plans_nothing():
    plan = plan_render(Storyboard(), RenderSettings(), NO_GPU)
    assert (plan.graph.chunks, plan.graph.speech_calls, plan.graph.image_calls) == (0, 0, 0)
    assert plan.estimate.encode_wall_seconds == 0.0


def test_rows_are_tables_with_one_set_of_columns_each_and_to_dict_is_json():
    plan = plan_render(board(), RenderSettings(), ASSEMBLY)
    tables = plan.rows()
    assert list(tables) == ["Task graph", "Placement", "Estimate"]
    for rows in tables.values():
        assert rows and all(row.keys() == rows[0].keys() for row in rows)
        assert all(isinstance(v, str) for row in rows for v in row.values())
    assert tables["Task graph"][0] == {"stage": "speech", "requests": "36", "calls": "5",
                                       "runs on": "speech workers"}
    assert tables["Placement"][2]["runs on"] == "assembly nodes"
    data = json.loads(json.dumps(plan.to_dict()))
    assert data["graph"]["image_requests"] == 12 and data["title"] == "Lighthouse"
    assert "Notes" in plan_render(board(), RenderSettings(), NO_GPU).rows()


def test_clip_scenes_cost_clips_by_their_length_and_no_invented_gpu_time():
    words = "a b c d e f g h i j " * 20  # 400 characters: ~26.7 s at 15 characters/s
    story = Storyboard(scenes=[
        Scene(description="sea", motion="clip", lines=[Line(text="Waves roll in.")]),
        Scene(description="hall", lines=[Line(text="Inside.")]),
        Scene(description="sky", motion="clip", lines=[Line(text=words)])])
    settings = RenderSettings(video_model="ltx", max_clips_per_scene=4)
    plan = plan_render(story, settings, {"CPU": 16.0, "GPU": 1.0,
                                         "accelerator_type:H100": 1.0})
    assert plan.motion.scenes == (1, 3)
    assert plan.motion.clips[0] == 1 and plan.motion.clips[1] == 4  # capped
    assert plan.motion.gpu_seconds_per_clip is None
    rows = plan.rows()["Clip scenes"]
    assert {row["GPU time"] for row in rows} == {"not measured yet"}
    assert rows[-1]["clips"] == "5"
    motion = next(p for p in plan.placement if p.kind == "motion")
    assert motion.count == 1 and motion.gpus_each == pytest.approx(0.24)
    assert plan.gpus.workers("motion") == 1
    assert any("GPU time per clip is not measured yet" in note for note in plan.notes)
    stills = plan_render(Storyboard(scenes=[Scene(description="x", lines=[Line(text="a")])]),
                         settings, {"CPU": 16.0, "GPU": 1.0})
    assert stills.motion is None and stills.gpus is None  # no clip scene: no motion pool
    assert "motion" not in {p.kind for p in stills.placement}


def test_talking_shots_and_generated_beds_are_planned_without_invented_gpu_time():
    from vidgen_ray.storyboard import Character

    story = Storyboard(
        characters=[Character(name="MARA")],
        scenes=[Scene(description="tower", characters=["MARA"], ambience="wind",
                      lines=[Line(text="Night falls."), Line(speaker="MARA", text="Light it.")]),
                Scene(description="sea", lines=[Line(text="Waves.")])])
    settings = RenderSettings(shots="talking", music_model="stable_audio",
                              ambience_model="stable_audio", gpu_memory_gb=80.0)
    plan = plan_render(story, settings, {"CPU": 16.0, "GPU": 1.0,
                                         "accelerator_type:H100": 1.0})
    # One close-up: MARA's line, lasting it on screen (frames of the estimated timeline).
    assert plan.talking.lines == ((1, 2),)
    shot = estimate_timeline(story, settings).shots[0]
    assert plan.talking.seconds == (shot.frames / settings.fps,)
    talking = plan.rows()["Talking shots"]
    assert [r["line"] for r in talking] == ["2", "1"] and {r["GPU time"] for r in talking} == {
        "not measured yet"}
    # Beds: music for both scenes, ambience only where the scene has some.
    beds = plan.rows()["Generated beds"]
    assert [(r["scene"], r["music"] != "-", r["ambience"] != "-") for r in beds[:-1]] == [
        ("1", True, True), ("2", True, False)]
    assert beds[-1] == {"scene": "all", "music": "2", "ambience": "1",
                        "GPU time": "not measured yet"}
    kinds = {p.kind: p for p in plan.placement}
    assert kinds["talking"].gpus_each == pytest.approx(0.89)  # 71 GB of 80, an estimate
    assert kinds["beds"].count == 1 and kinds["beds"].gpus_each > 0
    plain = plan_render(story, RenderSettings(), {"CPU": 16.0})
    assert plain.talking is None and plain.beds is None
    assert {"talking", "beds"}.isdisjoint(p.kind for p in plain.placement)
