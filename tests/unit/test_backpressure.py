import math

import pytest

from vidgen_ray.errors import SettingsError
from vidgen_ray.farm.backpressure import Backpressure


def test_capacity_is_workers_times_per_worker():
    assert Backpressure(per_worker=2).capacity(3) == 6
    assert Backpressure(per_worker=5).capacity(0) == 0


def test_pick_prefers_the_least_loaded_worker_and_the_lowest_index_on_ties():
    policy = Backpressure(per_worker=2)
    assert policy.pick([0, 0, 0]) == 0
    assert policy.pick([1, 0, 0]) == 1
    assert policy.pick([1, 1, 0]) == 2
    assert policy.pick([2, 1, 1]) == 1
    assert policy.pick([1, 2, 0]) == 2


def test_pick_is_none_when_every_worker_is_full():
    assert Backpressure(per_worker=2).pick([2, 2, 2]) is None
    assert Backpressure(per_worker=1).pick([1]) is None
    assert Backpressure().pick([]) is None


def test_filling_a_pool_spreads_calls_round_robin_and_stops_at_capacity():
    policy = Backpressure(per_worker=2)
    loads, order = [0, 0, 0], []
    while (index := policy.pick(loads)) is not None:
        loads[index] += 1
        order.append(index)
    assert order == [0, 1, 2, 0, 1, 2]
    assert sum(loads) == policy.capacity(3)


def test_batch_is_the_queue_up_to_batch_size():
    policy = Backpressure(batch_size=4)
    assert [policy.batch(q) for q in (0, 1, 3, 4, 5, 100)] == [0, 1, 3, 4, 4, 4]


@pytest.mark.parametrize(("total", "batch", "workers", "expected"), [
    (48, 4, 8, 3),  # 16 calls of 3: two full rounds, instead of 12 calls of 4
    (48, 4, 1, 4),  # one worker: full batches
    (48, 8, 8, 6),  # 8 calls of 6, one round
    (200, 4, 3, 4),
    (5, 4, 8, 1),  # fewer requests than workers: one each
    (0, 4, 2, 0),
])
def test_balanced_batch_keeps_every_worker_busy_in_the_last_round(total, batch, workers,
                                                                 expected):
    size = Backpressure(batch_size=batch).balanced_batch(total, workers)
    assert size == expected
    if total:
        assert size <= batch
        fixed_rounds = math.ceil(math.ceil(total / batch) / workers)
        assert math.ceil(math.ceil(total / size) / workers) == fixed_rounds  # no extra round


def test_a_policy_that_admits_nothing_is_refused():
    with pytest.raises(SettingsError, match="max_in_flight=0"):
        Backpressure(per_worker=0)
    with pytest.raises(SettingsError, match="at least 1"):
        Backpressure(batch_size=0)


def test_policy_is_immutable():
    with pytest.raises(AttributeError):
        Backpressure().per_worker = 3
