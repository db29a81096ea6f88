"""The GPU budget's decisions (farm/budget.py): room, retirements, refusal, idle expiry."""

import pytest

from vidgen_ray.config import RenderSettings
from vidgen_ray.farm.budget import (
    Ask,
    Hold,
    cards_of,
    expired,
    fit,
    free_shares,
    make_room,
    never_fits,
)
from vidgen_ray.farm.memory import Card

ONE = [Card(24, "L4", "n:0")]
TWO = [Card(24, "L4", "n:0"), Card(24, "L4", "n:1")]


def hold(name, share, cards, users=(), last_used=0.0, timeout=None):
    return Hold(("image", name, ()), list(cards), share, set(users), last_used, timeout)


def test_cards_come_from_live_nodes_and_their_accelerator_type():
    nodes = [{"NodeID": "a", "Alive": True,
              "Resources": {"GPU": 2.0, "accelerator_type:H100": 1.0}},
             {"NodeID": "b", "Alive": False, "Resources": {"GPU": 1.0}},
             {"NodeID": "c", "Alive": True, "Resources": {"CPU": 8.0}}]
    cards = cards_of(nodes, RenderSettings())
    assert [(c.id, c.gb, c.name) for c in cards] == [("a:0", 80.0, "H100"),
                                                     ("a:1", 80.0, "H100")]
    assert {c.gb for c in cards_of(nodes, RenderSettings(gpu_memory_gb=40))} == {40.0}


def test_free_shares_and_a_job_gets_one_worker_of_each_pool_first():
    free = free_shares(TWO, [hold("a", 0.55, ["n:0"])])
    assert free == pytest.approx({"n:0": 0.45, "n:1": 1.0})
    counts, placed = fit(free, [Ask(0.55, 2), Ask(0.28, 3)])
    assert counts == [1, 2] and placed == [["n:1"], ["n:0", "n:1"]]
    assert fit({"n:0": 0.5}, [Ask(0.55, 1), Ask(0.1, 1)]) is None


def test_idle_pools_are_retired_least_recently_used_first_and_only_as_needed():
    holds = [hold("old", 0.55, ["n:0"], last_used=1.0),
             hold("new", 0.55, ["n:1"], last_used=2.0)]
    retire, counts, _ = make_room(TWO, holds, [Ask(0.55, 1)])
    assert retire == [("image", "old", ())] and counts == [1]
    busy = [hold("old", 0.55, ["n:0"], users={"job"}, last_used=1.0),
            hold("new", 0.55, ["n:1"], last_used=2.0)]
    assert make_room(TWO, busy, [Ask(0.55, 1)])[0] == [("image", "new", ())]
    assert make_room(ONE, [hold("x", 0.55, ["n:0"], users={"job"})], [Ask(0.55, 1)]) is None
    assert make_room(TWO, holds, [Ask(0.2, 1)])[0] == []  # it fits: nothing retired


def test_a_job_that_fits_no_card_is_named_and_one_without_models_always_fits():
    sdxl = RenderSettings(image_model="sdxl", gpu_memory_gb=8)
    assert never_fits(cards_of([{"NodeID": "a", "Resources": {"GPU": 1.0}}], sdxl),
                      sdxl).startswith("SDXL needs 13.1 GB per worker")
    assert never_fits(ONE, RenderSettings()) is None
    assert never_fits([], RenderSettings(image_model="sdxl")) is None  # runs on CPUs


def test_a_job_whose_gpu_pools_fit_alone_but_not_together_is_named_with_the_fix():
    from vidgen_ray.farm.memory import Card

    talking = RenderSettings(image_model="sdxl", tts_model="bark", shots="talking")
    said = never_fits([Card(80.0, "H100")], talking)
    assert said.startswith("one worker of each of its GPU pools (image ")
    assert "talking 71.0 GB) does not fit on 1 x 80 GB at once: use more or larger cards" in said
    assert never_fits([Card(80.0, "H100")] * 2, talking) is None  # LTX-2 takes a card alone
    clips = RenderSettings(image_model="sdxl", tts_model="bark", video_model="ltx")
    assert "motion 19.0 GB" in never_fits([Card(24.0, "L4")], clips)
    assert never_fits([Card(24.0, "L4")] * 2, clips) is None
    assert never_fits([Card(80.0, "H100")], clips) is None  # all three on one card


def test_pools_idle_past_their_timeout_expire():
    holds = [hold("a", 0.5, ["n:0"], last_used=10.0, timeout=5.0),
             hold("b", 0.5, ["n:0"], last_used=10.0, timeout=None),
             hold("c", 0.5, ["n:0"], users={"job"}, last_used=0.0, timeout=1.0)]
    assert expired(holds, 14.0) == []
    assert expired(holds, 15.0) == [("image", "a", ())]
