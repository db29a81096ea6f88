"""Moving shots' pure rules (issue 21): the clip size a render asks the video model for, the
keys of clips, fitted clips and the chunks that show them, the clip scenes' camera, the
notes, the settings' checks, and the LTX entry of the memory table (an estimate)."""

from __future__ import annotations

import pytest

from vidgen_ray.config import RenderSettings, load_settings
from vidgen_ray.errors import ScriptError, SettingsError
from vidgen_ray.farm.memory import gpu_model
from vidgen_ray.farm.placement import on_gpu, pool_size, worker_options
from vidgen_ray.motion.base import native_size
from vidgen_ray.pipeline import chunks, motion_parts
from vidgen_ray.storyboard import Line, Scene, Storyboard
from vidgen_ray.timeline import Pacing, motion_notes, plan_timeline

BOARD = Storyboard(scenes=[
    Scene(title="Harbour", description="boats at dawn", lines=[Line(text="The boats.")]),
    Scene(title="Window", description="a window in the storm", motion="clip",
          motion_prompt="rain streaks the window", lines=[Line(text="It rains.")]),
    Scene(title="Lamp", description="a lamp", lines=[Line(text="Light it.")])])
LTX = RenderSettings(video_model="ltx", chunk_seconds=1.0)
PICTURES = [f"image/{i:064x}" for i in range(3)]


@pytest.mark.parametrize(("video", "side", "size"), [
    ((1920, 1080), 768, (768, 512)), ((1080, 1920), 768, (512, 768)),
    ((1080, 1080), 768, (512, 512)), ((1280, 960), 768, (768, 512)),
    ((1920, 1080), 96, (96, 64)), ((1080, 1920), 96, (64, 96)), ((640, 640), 96, (64, 64)),
    ((1920, 1080), 1024, (1024, 672)),
])
def test_a_clip_takes_the_native_shape_nearest_the_videos_on_the_models_grid(video, side,
                                                                             size):
    assert native_size(video, side) == size
    assert all(s % 32 == 0 for s in native_size(video, side))


def test_the_fitted_clip_is_the_generated_one_cropped_to_the_videos_shape():
    assert motion_parts.clip_size(LTX) == (768, 512)
    assert motion_parts.fit_size(LTX) == (768, 432)  # 16:9 inside 768x512
    tall = RenderSettings(video_model="ltx", aspect="9:16")
    assert motion_parts.clip_size(tall) == (512, 768)
    assert motion_parts.fit_size(tall) == (432, 768)


def test_only_clip_scenes_with_a_video_model_are_animated():
    assert motion_parts.clip_scenes(BOARD, LTX) == [1]
    assert motion_parts.clip_scenes(BOARD, RenderSettings()) == []


def test_a_clips_key_names_its_picture_request_and_model_not_the_scenes_length():
    key = motion_parts.clip_key(BOARD, LTX, 1, 0, PICTURES[1], "ltx-1 v")
    assert key.startswith("motion/")
    assert key == motion_parts.scene_clips(BOARD, LTX, 1, 30, PICTURES[1], "ltx-1 v").clip_keys[0]
    assert key == motion_parts.scene_clips(BOARD, LTX, 1, 300, PICTURES[1],
                                           "ltx-1 v").clip_keys[0]
    others = {motion_parts.clip_key(BOARD, LTX, 1, 1, PICTURES[1], "ltx-1 v"),
              motion_parts.clip_key(BOARD, LTX, 1, 0, PICTURES[0], "ltx-1 v"),
              motion_parts.clip_key(BOARD, LTX, 1, 0, PICTURES[1], "ltx-2 v"),
              motion_parts.clip_key(BOARD, LTX.model_copy(update={"ltx_steps": 8}), 1, 0,
                                    PICTURES[1], "ltx-1 v")}
    assert key not in others and len(others) == 4
    # Each clip of a chain has its own seed, the first the scene's.
    seeds = [motion_parts.clip_seed(BOARD, 1, i) for i in range(3)]
    assert seeds[0] == BOARD.scene_seed(1) and len(set(seeds)) == 3


def test_the_prompt_is_the_motion_prompt_else_the_description_else_an_error():
    assert motion_parts.clip_prompt(BOARD, 1) == "rain streaks the window"
    plain = Storyboard(scenes=[Scene(description="fog rolls in", motion="clip")])
    assert motion_parts.clip_prompt(plain, 0) == "fog rolls in"
    with pytest.raises(ScriptError, match="scene 1 .*motion_prompt"):
        motion_parts.clip_prompt(Storyboard(scenes=[Scene(motion="clip")]), 0)


def test_the_fitted_key_follows_the_scenes_frames_and_its_clips():
    a = motion_parts.scene_clips(BOARD, LTX, 1, 200, PICTURES[1], "v")
    b = motion_parts.scene_clips(BOARD, LTX, 1, 201, PICTURES[1], "v")
    c = motion_parts.scene_clips(BOARD, LTX, 1, 200, PICTURES[0], "v")
    assert a.fitted_key.startswith("motion-fit/")
    assert len({a.fitted_key, b.fitted_key, c.fitted_key}) == 3
    assert a.plan.clips == 2 and a.plan.scene_frames == 200  # 151 frames a clip at 30 fps


def test_a_chunk_names_the_fitted_clip_it_shows_and_only_then():
    timeline = plan_timeline(BOARD, [[1.0], [2.0], [1.0]], chunks.pacing(LTX), generated=True)
    fitted = {1: "motion-fit/" + "f" * 64}
    clip = timeline.clips[1]
    for a, b in timeline.chunks(LTX.chunk_seconds):
        plain = chunks.chunk_key(timeline, a, b, LTX.size, PICTURES, BOARD, LTX)
        keyed = chunks.chunk_key(timeline, a, b, LTX.size, PICTURES, BOARD, LTX, fitted)
        assert (keyed != plain) == (a < clip.end and b > clip.start), (a, b)
    other = chunks.chunk_key(timeline, clip.start, clip.end, LTX.size, PICTURES, BOARD, LTX,
                             {1: "motion-fit/" + "e" * 64})
    assert other != chunks.chunk_key(timeline, clip.start, clip.end, LTX.size, PICTURES, BOARD,
                                     LTX, fitted)


def test_a_generated_clip_holds_the_camera_still_and_the_notes_say_nothing():
    moves = [c.motion for c in plan_timeline(BOARD, [[1.0]] * 3, Pacing(), generated=True).clips]
    assert moves[1] == "static" and moves[0] != "static"
    without = [c.motion for c in plan_timeline(BOARD, [[1.0]] * 3, Pacing()).clips]
    assert without[1] != "static" and without[0] == moves[0]
    assert "no video model" in motion_notes(BOARD)[0]
    assert motion_notes(BOARD, "ltx") == []


def test_bad_clip_settings_are_refused_naming_the_fix():
    with pytest.raises(SettingsError, match="ltx_frames 120 is not 8\\*k\\+1: use 113 or 121"):
        load_settings(ltx_frames=120)
    with pytest.raises(SettingsError, match="ltx_clip_side"):
        load_settings(ltx_clip_side=100)
    short = RenderSettings(video_model="ltx", ltx_frames=9, clip_crossfade=1.0)
    with pytest.raises(SettingsError, match="clip_crossfade 1 s does not fit") as info:
        motion_parts.plan_fit(short, 100)
    assert info.value.field == "clip_crossfade"


def test_the_ltx_worker_takes_a_gpu_share_from_an_estimate_not_a_measurement():
    need = gpu_model("motion", LTX).need(1)
    assert not need.measured and "estimate" in need.source
    assert gpu_model("motion", RenderSettings()) is None
    cluster = {"GPU": 2.0, "CPU": 8.0}
    assert on_gpu("motion", LTX, cluster) and pool_size("motion", LTX, cluster) == 2
    share = worker_options("motion", LTX, cluster)["num_gpus"]
    assert 0 < share < 1 and worker_options("motion", LTX, cluster)["num_cpus"] == 0
    assert pool_size("motion", LTX, {"CPU": 8.0}) == 1
