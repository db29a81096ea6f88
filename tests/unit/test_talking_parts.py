"""Which lines cut to a talking shot, and what a talking clip's key hashes (pure)."""

from __future__ import annotations

from vidgen_ray.config import PREVIEW, RenderSettings
from vidgen_ray.pipeline import talking_parts as tp
from vidgen_ray.storyboard import Character, Line, Scene, Storyboard

BOARD = Storyboard(
    characters=[Character(name="MARA", description="a keeper with grey hair")],
    scenes=[Scene(title="Tower", description="a tower", characters=["MARA"],
                  lines=[Line(text="Night falls."), Line(speaker="MARA", text="Light it.")]),
            Scene(title="Sea", description="the sea",
                  lines=[Line(speaker="MARA", text="Ships!"), Line(text="She waits.")])])
TALKING = RenderSettings(**{**PREVIEW, "shots": "talking"})


def test_only_characters_lines_cut_to_talking_shots_and_only_when_asked():
    assert tp.talking_lines(BOARD, TALKING) == {(0, 1), (1, 0)}
    assert tp.talking_lines(BOARD, RenderSettings(**PREVIEW)) == frozenset()
    assert TALKING.talking_model == "ltx2" and RenderSettings().talking_model == "none"
    assert [tp.line_index(BOARD, s, n) for s, n in [(0, 0), (0, 1), (1, 0), (1, 1)]] == [
        0, 1, 2, 3]


def test_a_clip_is_made_at_the_videos_rate_in_the_models_shape():
    fields = tp.talking_fields(BOARD, TALKING, 0, 1)
    assert fields["fps"] == TALKING.fps  # clip frame k is video frame F + k
    assert (fields["width"], fields["height"]) == (768, 512)  # 16:9 -> LTX's 3:2
    assert fields["width"] % 32 == fields["height"] % 32 == 0
    tall = RenderSettings(**{**PREVIEW, "shots": "talking", "aspect": "9:16"})
    assert tp.talking_size(tall) == (512, 768)
    assert "a keeper with grey hair" in fields["prompt"] and "speaking" in fields["prompt"]
    unknown = Storyboard(scenes=[Scene(title="x", characters=["BO"],
                                       lines=[Line(speaker="BO", text="Hi.")])],
                         characters=[Character(name="BO")])
    assert "Bo," in tp.talking_fields(unknown, TALKING, 0, 0)["prompt"]


def test_the_key_follows_the_portrait_the_speech_and_the_version():
    def key(portrait="portrait/" + "a" * 64, speech="speech/" + "b" * 64, version="v1",
            scene=0, line=1, settings=TALKING):
        return tp.talking_key(BOARD, settings, scene, line, portrait, speech, version)

    base = key()
    assert base.startswith("talking/") and key() == base
    assert len({base, key(portrait="portrait/" + "c" * 64), key(speech="speech/" + "d" * 64),
                key(version="v2"), key(scene=1, line=0),
                key(settings=TALKING.model_copy(update={"ltx2_clip_side": 512}))}) == 6
    # Seeds are the line's own and stable.
    assert tp.talking_seed(BOARD, 0, 1) == tp.talking_seed(BOARD, 0, 1)
    assert tp.talking_seed(BOARD, 0, 1) != tp.talking_seed(BOARD, 1, 0)
