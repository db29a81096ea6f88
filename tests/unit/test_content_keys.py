"""Content keys are the parts store's addresses: a part stored by an earlier version must be
found again. These keys were computed by the job flow before its stages moved into their
own modules (issue 16); any change to a key's fields or their order breaks them."""

import pytest

from vidgen_ray.config import RenderSettings
from vidgen_ray.pipeline import chunks
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
        "first": "chunk/7df3f45b5414e10e3c56241be9170f945f3dfcbde20ef721a51905e2478b41ae",
        "last": "chunk/5724702a96c298379ad028dfca47857773ffda73e14b4ac4e4979c1e70864e63"},
    True: {
        "images": ["image/53ccbca989c404c280918228ffcdcd01fb38bad4800a076950a5fc863f9087d2",
                   "image/de2edb93e2d738712f26274704716cd99e9329fe7fd47b9d4ec2bdd604ef42cf"],
        "first": "chunk/c98ed26b8bdbe635a6d86b39932b58341e62eb6965475d2b7a45347c771bbf85",
        "last": "chunk/4c61ada679baa1012f1b8ea0351cf4ac16d24de28184c1af234acad490bbc962"},
}
SOUNDTRACK = "soundtrack/b2b3e93d30f23b74939638b4079bf5cf244800c592f11016c957726ac6ea1fa6"
LOUDNESS = "loudness/0cffe3ef8b8bc877a7d37618081b73945be957f52cbf7eb8139dc24b228e29a2"
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
