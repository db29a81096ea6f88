"""Content keys are the parts store's addresses: a part stored by an earlier version must be
found again. These keys were computed by the job flow before its stages moved into their
own modules (issue 16); any change to a key's fields or their order breaks them.

Chunk keys hold the assembly version on purpose: when the pixels a chunk renders change
(assembly-7: camera moves by crops and swscale, issue 20), no stored chunk of the old graph
may be joined to a new one. The chunk keys below are those of ``CHUNK_ASSEMBLY``; every other
key is unchanged since issue 16."""

import pytest

from vidgen_ray.config import RenderSettings
from vidgen_ray.pipeline import assembly, chunks
from vidgen_ray.pipeline.pictures import plan_pictures
from vidgen_ray.pipeline.soundtrack import soundtrack_key
from vidgen_ray.pipeline.source import load_storyboard
from vidgen_ray.pipeline.speech_parts import cast_voices, speech_parts
from vidgen_ray.storage import content_key
from vidgen_ray.timeline import plan_timeline

SCRIPT = """# Two scenes

## Harbour

Waves broke on the harbour wall under a grey sky.

MARA: The boats are late tonight.

## Morning

The sun rose over a calm sea, and the gulls came back.
"""
SPEECH = ["speech/1055416eb98cc284f73a88d91348531afad2ec34487d1ab957052cfcbca119fc",
          "speech/47e1f32b0fa030fe144000f2725d1894843cf252000d5ac161b43a04c5aff612",
          "speech/adfb5c5555a22b516d18cd261e7a4129c2d8799c017dee2d868606e13dbe17d4"]
PINNED = {
    False: {  # burn_subtitles
        "images": ["image/57261fd2d407e5ef970b3e277ca602e76bef6a51bd4967dc707b12c53274c203",
                   "image/1baeb48fde1b6f6ccccf2ba02ee13f62fb2cd7cb215c31fe073911f435118f7f"],
        "first": "chunk/34ddd78077497519a614847e7f1d5fd8b95ee2629a8b954e5c9d53bc8201b6c9",
        "last": "chunk/5c2cc978048fc05f180eaadc9ba1029f71d6ae555db143191de8f708d5564363"},
    True: {
        "images": ["image/53ccbca989c404c280918228ffcdcd01fb38bad4800a076950a5fc863f9087d2",
                   "image/de2edb93e2d738712f26274704716cd99e9329fe7fd47b9d4ec2bdd604ef42cf"],
        "first": "chunk/edf58d0db5cbf416f76d6cb0aa4be1f9571cad8f249f704c4bc0e58a3fc07fb8",
        "last": "chunk/3784749136599b71f4532486294ae387f94f4e50fba162cecafa8629a57692a7"},
}
SOUNDTRACK = "soundtrack/b2b3e93d30f23b74939638b4079bf5cf244800c592f11016c957726ac6ea1fa6"
LOUDNESS = "loudness/0cffe3ef8b8bc877a7d37618081b73945be957f52cbf7eb8139dc24b228e29a2"
CHUNK_ASSEMBLY = "assembly-7"
DURATIONS = [[1.3, 0.9], [1.7]]  # each scene's lines' seconds


@pytest.mark.parametrize(("burn", "encoder"), [(False, None), (True, None), (False, "x264")])
def test_keys_are_the_ones_parts_were_stored_under(burn, encoder, tmp_path):
    """An x264 job's keys are those of before the encoder setting (pipeline/encoders.py)."""
    settings = RenderSettings(chunk_seconds=1.0, burn_subtitles=burn,
                              **({"encoder": encoder} if encoder else {}))
    board = load_storyboard(SCRIPT, settings)
    voices = cast_voices(board, settings, tmp_path)
    assert voices == {"MARA": "en+f2", "NARRATOR": "en+m1"}
    _, speech_keys = speech_parts(board, settings, voices, "SPV1")
    assert speech_keys == SPEECH
    plan = plan_pictures(board, settings, "IMV1")
    assert plan.image_keys == PINNED[burn]["images"]
    timeline = plan_timeline(board, DURATIONS, chunks.pacing(settings), seed=settings.seed)
    assert assembly.ASSEMBLY_VERSION == CHUNK_ASSEMBLY, "re-pin the chunk keys with the bump"
    keys = [chunks.chunk_key(timeline, a, b, settings.size, plan.image_keys, board, settings)
            for a, b in timeline.chunks(settings.chunk_seconds)]
    assert (len(keys), keys[0], keys[-1]) == (6, PINNED[burn]["first"], PINNED[burn]["last"])
    sound = soundtrack_key(board, settings, timeline, speech_keys)
    assert (sound, content_key("loudness", soundtrack=sound)) == (SOUNDTRACK, LOUDNESS)


def test_an_early_chunk_burns_the_cut_before_the_next_scene(tmp_path):
    """Chunks made while later scenes are still voiced see only the first scenes."""
    settings = RenderSettings(chunk_seconds=1.0, burn_subtitles=True)
    board = load_storyboard(SCRIPT, settings)
    prefix = board.model_copy(update={"scenes": board.scenes[:1]})
    timeline = plan_timeline(prefix, DURATIONS[:1], chunks.pacing(settings), seed=settings.seed)
    key = chunks.chunk_key(timeline, 0, 30, settings.size, PINNED[True]["images"], board,
                           settings)
    assert key == PINNED[True]["first"]


@pytest.mark.parametrize("motion", [{"motion": None}, {"motion": "camera"},
                                    {"motion": "clip", "motion_prompt": "slow dolly in"}])
def test_motion_that_renders_as_before_keeps_every_key(motion, tmp_path):
    """A scene's motion (issue 21) is in no key: empty, ``camera`` and (while no video model
    is set) ``clip`` render the camera moves of before, so every part is found again."""
    settings = RenderSettings(chunk_seconds=1.0)
    board = load_storyboard(SCRIPT, settings)
    moved = board.model_copy(update={"scenes": [s.model_copy(update=motion)
                                                for s in board.scenes]})
    moved = type(board).model_validate(moved.model_dump())  # as a storyboard.json loads
    assert [s.motion for s in moved.scenes] == [motion["motion"]] * 2
    _, speech_keys = speech_parts(moved, settings, cast_voices(moved, settings, tmp_path),
                                  "SPV1")
    assert speech_keys == SPEECH
    plan = plan_pictures(moved, settings, "IMV1")
    assert plan.image_keys == PINNED[False]["images"]
    timeline = plan_timeline(moved, DURATIONS, chunks.pacing(settings), seed=settings.seed)
    keys = [chunks.chunk_key(timeline, a, b, settings.size, plan.image_keys, moved, settings)
            for a, b in timeline.chunks(settings.chunk_seconds)]
    assert (keys[0], keys[-1]) == (PINNED[False]["first"], PINNED[False]["last"])
    assert soundtrack_key(moved, settings, timeline, speech_keys) == SOUNDTRACK
