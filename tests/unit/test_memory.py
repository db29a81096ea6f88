"""The measured memory table and the packing of model workers onto cards (farm/memory.py)."""

import pytest

from vidgen_ray.config import RenderSettings
from vidgen_ray.farm.memory import (
    MEASURED,
    SDXL_EXTRAS_GB,
    WORKER_OVERHEAD_GB,
    Card,
    gpu_model,
    pack,
)

MODELS = RenderSettings(image_model="sdxl", tts_model="bark")


def models(settings=MODELS):
    return gpu_model("image", settings), gpu_model("speech", settings)


def test_the_table_is_benchmarks_md_and_between_points_it_interpolates():
    assert MEASURED["sdxl"].peak_gb == {1: 11.53, 4: 25.79}
    assert MEASURED["bark"].peak_gb == {1: 3.98, 8: 4.74, 16: 5.61}
    image, speech = models(RenderSettings(image_model="sdxl", tts_model="bark",
                                          image_safety_checker=False))
    assert image.need(1).gb == 11.53 + WORKER_OVERHEAD_GB and image.need(1).measured
    two = image.need(2)
    assert two.gb == pytest.approx(11.53 + (25.79 - 11.53) / 3 + WORKER_OVERHEAD_GB, abs=0.01)
    assert not two.measured
    assert speech.need(12).gb == pytest.approx((4.74 + 5.61) / 2 + WORKER_OVERHEAD_GB,
                                               abs=0.01)
    assert image.need(5).gb > image.need(4).gb  # past the last point: extrapolated


def test_what_a_job_loads_adds_to_sdxl_and_transformers_bark_is_smaller():
    base = gpu_model("image", MODELS).need(1).gb
    refined = gpu_model("image", MODELS.model_copy(update={"sdxl_refiner": "x"})).need(1).gb
    assert refined == pytest.approx(base + SDXL_EXTRAS_GB["sdxl_refiner"])
    slow = gpu_model("speech", MODELS.model_copy(update={"bark_decoding": "transformers"}))
    assert slow.key == "bark-transformers" and slow.need(16).gb < models()[1].need(16).gb


def test_embedded_backends_and_kokoro_have_no_gpu_model():
    assert gpu_model("image", RenderSettings()) is None
    assert gpu_model("speech", RenderSettings()) is None
    assert gpu_model("speech", RenderSettings(tts_model="kokoro")) is None
    assert gpu_model("beds", RenderSettings()) is None


def test_a_kind_without_a_model_is_refused_not_taken_for_speech():
    with pytest.raises(ValueError, match="'assembly'"):
        gpu_model("assembly", MODELS)


def test_a_24_gb_card_holds_one_sdxl_and_one_bark_with_room_left():
    # Issue 17: the old defaults put two SDXL workers and a Bark worker on 24 GB.
    packing = pack([Card(24, "L4")], *models())
    card = packing.cards[0]
    assert packing.fits
    assert (card.image_workers, card.image.batch) == (1, 1)
    assert (card.speech_workers, card.speech.batch) == (1, 16)
    assert card.used_gb <= 24 and card.left_gb == pytest.approx(24 - 13.13 - 6.61)


def test_a_big_card_takes_larger_batches_and_more_workers():
    card = pack([Card(141, "H200")], *models()).cards[0]
    assert (card.image_workers, card.image.batch) == (3, 4)
    assert card.speech.batch == 16 and card.used_gb <= 141
    assert card.image_workers * card.image.gb <= 141 * 2 / 3


def test_the_users_batch_and_memory_are_taken_as_given():
    settings = RenderSettings(image_model="sdxl", tts_model="bark", image_batch_size=2,
                              speech_gpu_gb=3.0)
    card = pack([Card(80, "H100")], *models(settings)).cards[0]
    assert card.image.batch == 2
    assert card.speech.gb == 3.0 and card.speech_workers == int(80 / 3 / 3.0)


def test_a_model_bigger_than_every_card_is_named_with_the_cards():
    packing = pack([Card(8, "P4"), Card(8, "P4")], *models())
    assert not packing.fits
    assert packing.problem.startswith("SDXL needs 13.1 GB per worker (batch 1); the largest "
                                      "card here is a P4 (8 GB), of 2 x P4 (8 GB)")


def test_two_models_that_share_no_card_take_one_each_or_cannot_fit_on_one():
    one = pack([Card(16, "T4")], *models())
    assert not one.fits and "need 18.1 GB on one card" in one.problem
    two = pack([Card(16, "T4"), Card(16, "T4")], *models())
    assert two.fits
    assert [(c.image_workers, c.speech_workers) for c in two.cards] == [(1, 0), (0, 2)]
    assert all(c.used_gb <= 16 for c in two.cards)


def test_nothing_on_the_gpu_packs_nothing():
    assert pack([Card(24)], None, None).fits
    assert pack([], *models()).problem == "no GPU in the cluster"
