"""A scene's motion (issue 21, the storyboard side): still, camera or a generated clip; what
the timeline makes of each while no video model is set, and the note that says so."""

import pytest
from pydantic import ValidationError

from vidgen_ray.analysis import analyze_script
from vidgen_ray.analysis import llm_prompt as prompts
from vidgen_ray.config import RenderSettings
from vidgen_ray.farm.plan import plan_render
from vidgen_ray.pipeline.manifest import build_manifest
from vidgen_ray.storyboard import Media, Scene, Storyboard
from vidgen_ray.testing.fake_llm_server import SCRIPT
from vidgen_ray.timeline import MOTIONS, Pacing, motion_notes, plan_timeline


def motions(*scenes: Scene, seed: int = 0) -> list[str]:
    story = Storyboard(scenes=list(scenes))
    return [c.motion for c in plan_timeline(story, [[]] * len(scenes), Pacing(), seed).clips]


# ---- the field ------------------------------------------------------------------------------

def test_motion_is_empty_by_default_and_takes_three_values():
    scene = Scene()
    assert (scene.motion, scene.motion_prompt) == (None, "")
    for value in ("still", "camera", "clip"):
        assert Scene(motion=value).motion == value
    with pytest.raises(ValidationError, match="motion"):
        Scene(motion="spin")


def test_a_still_scene_with_a_camera_move_is_refused_with_the_fix():
    with pytest.raises(ValidationError) as caught:
        Scene(motion="still", camera="zoom_in")
    message = str(caught.value)
    assert "motion 'still' holds the picture but camera is 'zoom_in'" in message
    assert "set camera to 'static' or leave it out, or set motion to 'camera'" in message
    assert Scene(motion="still", camera="static").camera == "static"  # says the same twice


def test_a_generated_clip_for_a_scene_showing_own_media_is_refused():
    """Media wins: the user's picture or clip is what the scene shows; asking for a clip too
    is refused, not ignored (a clip made from one's own picture may come later)."""
    with pytest.raises(ValidationError) as caught:
        Scene(motion="clip", media=Media(path="clips/waves.mp4"))
    assert ("motion 'clip' asks for a generated clip but media shows your own video "
            "'clips/waves.mp4': leave motion out (or set it to 'still' or 'camera'), or remove "
            "media") in str(caught.value)
    held = Scene(motion="still", media=Media(path="quay.jpg"))  # a held picture of one's own
    assert motions(held) == ["static"]


# ---- the timeline ---------------------------------------------------------------------------

def test_still_holds_the_picture_and_camera_and_clip_move_as_before():
    plain = motions(Scene(), Scene(), Scene(camera="pan_up"), seed=3)
    assert motions(Scene(motion="still"), Scene(motion="camera"),
                   Scene(motion="clip", camera="pan_up"), seed=3) == ["static", plain[1],
                                                                        "pan_up"]
    assert motions(Scene(), Scene(motion="clip"), seed=3)[1] == plain[1] in MOTIONS


def test_scenes_asking_for_clips_are_noted_by_number():
    assert motion_notes(Storyboard(scenes=[Scene(), Scene(motion="still")])) == []
    assert motion_notes(Storyboard(scenes=[Scene(), Scene(motion="clip")])) == [
        "scene 2 asks for a generated motion clip; no video model is set yet, so it gets a "
        "camera move"]
    story = Storyboard(scenes=[Scene(), Scene(motion="clip"), Scene(), Scene(),
                               Scene(motion="clip", motion_prompt="rain streaks the window")])
    assert motion_notes(story) == [
        "scenes 2, 5 ask for a generated motion clip; no video model is set yet, so they get "
        "camera moves"]


def test_the_note_is_in_the_manifest_and_the_plan():
    story = Storyboard(scenes=[Scene(motion="clip")])
    settings = RenderSettings()
    data = build_manifest(version="0", storyboard=story, settings=settings, backends={},
                          voices={}, video={}, timings={}, artifacts=[], parts={},
                          loudness={}, notes=motion_notes(story))
    assert data["notes"] == motion_notes(story)
    plan = plan_render(story, settings, {"CPU": 16.0})
    assert motion_notes(story)[0] in plan.notes
    assert not set(motion_notes(story)) & set(plan_render(Storyboard(scenes=[Scene()]), settings,
                                                          {"CPU": 16.0}).notes)


# ---- the analysers --------------------------------------------------------------------------

def test_the_local_analyser_leaves_motion_empty():
    board = analyze_script(SCRIPT, "harbour.md")
    assert board.scenes and all((s.motion, s.motion_prompt) == (None, "") for s in board.scenes)


def test_the_prompt_asks_for_motion_and_the_schema_carries_it():
    text = prompts.build_prompt(analyze_script(SCRIPT, "harbour.md"))
    assert 'set a scene\'s "motion" to "clip" only where movement matters' in text
    assert '"motion_prompt": one\n  sentence of camera and subject motion' in text
    assert '"still" where the picture should hold' in text
    assert 'Never "clip" for a scene with "media"' in text
    scene = prompts.response_schema()["$defs"]["Scene"]["properties"]
    assert scene["motion"]["anyOf"][0]["enum"] == ["still", "camera", "clip"]
    assert scene["motion_prompt"]["type"] == "string"
    # An empty motion is left out of the parsed script the model sees.
    assert '"motion"' not in text.split("The parsed script:\n", 1)[1]
