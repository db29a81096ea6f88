"""What travels with each request now that pools are keyed by the model (issue 17): SDXL's
drawing values and their grouping into pipeline calls, the order and trimming of prompts,
Bark's temperature; and the content keys that still follow every value that shapes a part."""

from __future__ import annotations

from vidgen_ray.config import RenderSettings, backend_options, load_settings
from vidgen_ray.images import picture_sampling
from vidgen_ray.images.base import CharacterLook, ImageRequest, Sampling
from vidgen_ray.images.prompts import MOOD_WORDS, STYLES, scene_prompt
from vidgen_ray.images.sdxl_sampling import call_group, pipeline_calls, sampling_for
from vidgen_ray.pipeline.pictures import plan_pictures
from vidgen_ray.pipeline.source import load_storyboard
from vidgen_ray.pipeline.speech_parts import speech_parts

SCRIPT = """# Two scenes

## Harbour

Waves broke on the harbour wall under a grey sky.

MARA: The boats are late tonight.

## Morning

The sun rose over a calm sea.
"""


def test_requests_of_one_group_share_a_call_cut_at_the_batch_size():
    a, b, c = ("a",), ("b",), ("c",)
    assert pipeline_calls([a, b, a, c, a], 2) == [[0, 2], [4], [1], [3]]
    assert pipeline_calls([a, b, a, c, a], 4) == [[0, 2, 4], [1], [3]]
    assert pipeline_calls([], 4) == []


def test_style_and_negative_prompt_share_a_call_size_and_steps_do_not():
    base = Sampling(1344, 768, 30, 7.5, "cinematic", "blurry")
    assert call_group(base) == call_group(Sampling(1344, 768, 30, 7.5, "anime", "fog"))
    for other in (Sampling(768, 1344, 30, 7.5, "cinematic"), Sampling(1344, 768, 4, 7.5, "none"),
                  Sampling(1344, 768, 30, 1.0, "none"),
                  Sampling(1344, 768, 30, 7.5, "none", refiner_start=0.5),
                  Sampling(1344, 768, 30, 7.5, "none", ip_adapter_scale=0.1)):
        assert call_group(base) != call_group(other)


def test_landscape_and_portrait_jobs_share_a_pool_and_draw_at_their_own_size():
    wide = load_settings(image_model="sdxl", aspect="16:9")
    tall = load_settings(image_model="sdxl", aspect="9:16", image_style="anime",
                         image_inference_steps=20)
    assert backend_options(wide, "image") == backend_options(tall, "image")
    drawn = sampling_for(wide, *wide.size), sampling_for(tall, *tall.size)
    assert [(s.width, s.height) for s in drawn] == [(1344, 768), (768, 1344)]
    assert (drawn[1].style, drawn[1].steps) == ("anime", 20)
    portrait = sampling_for(tall, 1024, 1024, portrait=True)
    assert (portrait.width, portrait.height) == (1024, 1024)


def test_the_job_fills_each_request_and_keys_follow_what_it_asks(tmp_path):
    keys = {}
    for name, settings in {
            "wide": load_settings(image_model="sdxl", aspect="16:9"),
            "tall": load_settings(image_model="sdxl", aspect="9:16"),
            "anime": load_settings(image_model="sdxl", aspect="16:9", image_style="anime"),
            "wide again": load_settings(image_model="sdxl", aspect="16:9")}.items():
        board = load_storyboard(SCRIPT, settings)
        plan = plan_pictures(board, settings, "sdxl-2 loaded")
        expected = sampling_for(settings, *settings.picture_size)
        assert all(r.sampling == expected for r in plan.requests), name
        assert plan.portrait_sampling == sampling_for(settings, plan.side, plan.side, True)
        keys[name] = plan.image_keys
    assert keys["wide"] == keys["wide again"]
    assert len({tuple(k) for k in keys.values()}) == 3  # shape and style change the keys
    cards = RenderSettings()
    assert picture_sampling(cards, 1280, 720) is None  # cards sample nothing


def test_bark_lines_carry_the_temperature_and_keys_follow_it():
    def parts(**job):
        settings = load_settings(tts_model="bark", **job)
        board = load_storyboard(SCRIPT, settings)
        voices = {"MARA": "v2/en_speaker_1", "NARRATOR": "v2/en_speaker_6"}
        return speech_parts(board, settings, voices, "bark m (transformers 5, float32, fast "
                            "decoding)")

    requests, keys = parts(tts_temperature=0.3)
    assert {r.temperature for r in requests} == {0.3}
    assert keys != parts(tts_temperature=0.9)[1]
    assert keys == parts(tts_temperature=0.3)[1]
    espeak = load_settings()
    requests, _ = speech_parts(load_storyboard(SCRIPT, espeak), espeak,
                               {"MARA": "en+f2", "NARRATOR": "en+m1"}, "espeak")
    assert {r.temperature for r in requests} == {None}


def _words_fit(limit: int):
    """A stand-in for the tokenizers: one token per word."""
    return lambda prompt: len(prompt.split()) <= limit


LONG = ("A lighthouse on a black cliff in a storm. Rain lashes the lantern room while waves "
        "climb the rocks and a small fishing boat fights its way towards the harbour mouth, "
        "its single lamp swinging wildly.")
MARA = CharacterLook("MARA", "a tall woman in a red oilskin coat with grey braided hair", 1)


def _request(**values) -> ImageRequest:
    return ImageRequest(1, "Storm", LONG, ("MARA",), "tense", 1344, 768, 1, looks=(MARA,),
                        **values)


def test_a_prompt_that_fits_is_whole_in_its_order():
    prompt = scene_prompt(_request(), "cinematic", _words_fit(1000))
    assert prompt == scene_prompt(_request(), "cinematic")
    assert prompt.startswith("A lighthouse on a black cliff in a storm")
    assert prompt.index("Mara (a tall woman") < prompt.index(MOOD_WORDS["tense"])
    assert prompt.endswith(STYLES["cinematic"])


def test_a_long_prompt_loses_the_mood_then_the_later_sentences_never_the_style():
    whole = scene_prompt(_request(), "cinematic")
    limit = len(whole.split()) - 3
    prompt = scene_prompt(_request(), "cinematic", _words_fit(limit))
    assert len(prompt.split()) <= limit and prompt.endswith(STYLES["cinematic"])
    assert MOOD_WORDS["tense"] not in prompt
    assert "Mara (a tall woman in a red oilskin coat" in prompt  # the look is kept
    shorter = scene_prompt(_request(), "cinematic", _words_fit(40))
    assert len(shorter.split()) <= 40 and shorter.endswith(STYLES["cinematic"])
    assert shorter.startswith("A lighthouse on a black cliff in a storm")  # the subject
    assert "Mara (a tall woman" in shorter and "harbour" not in shorter  # the tail went


def test_when_even_the_subject_is_too_long_the_names_and_style_stay():
    prompt = scene_prompt(_request(), "anime", _words_fit(20))
    assert prompt.endswith(STYLES["anime"]) and "featuring Mara" in prompt
    assert "oilskin" not in prompt and prompt.startswith("A lighthouse")


def test_offline_loads_switch_the_hub_client_off_for_the_load_only():
    from huggingface_hub import constants

    from vidgen_ray.config.environment import hub_offline

    before = constants.is_offline_mode()
    with hub_offline(True):
        assert constants.is_offline_mode()
    assert constants.is_offline_mode() is before
    with hub_offline(False):
        assert constants.is_offline_mode() is before
