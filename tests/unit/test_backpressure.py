import asyncio
import math

import pytest

from vidgen_ray.errors import SettingsError
from vidgen_ray.farm.backpressure import Backpressure, assembly_slots
from vidgen_ray.pipeline.slots import SlotGate, Span, most_at_once


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


# ---- FFmpeg slots --------------------------------------------------------------------------

def test_assembly_slots_count_only_the_assembly_nodes_when_there_are_any():
    head = {"CPU": 0.0, "memory": 1e9}
    gpu = {"CPU": 8.0, "GPU": 1.0}
    cpu = {"CPU": 16.0, "assembly": 16.0}
    assert assembly_slots([head, gpu, cpu], threads=1) == 16
    assert assembly_slots([head, gpu, cpu], threads=3) == 5  # 16 // 3: no partial task
    assert assembly_slots([head, gpu, cpu, cpu], threads=2) == 16


def test_an_assembly_node_runs_no_more_than_its_assembly_count():
    assert assembly_slots([{"CPU": 16.0, "assembly": 4.0}], threads=1) == 4
    assert assembly_slots([{"CPU": 4.0, "assembly": 8.0}], threads=2) == 2


def test_without_assembly_nodes_every_cpu_node_counts():
    assert assembly_slots([{"CPU": 0.0}, {"CPU": 8.0, "GPU": 1.0}, {"CPU": 3.0}], 2) == 5


def test_there_is_always_one_slot_and_threads_must_be_positive():
    assert assembly_slots([{"CPU": 0.0}], threads=1) == 1  # CPU nodes not up yet
    assert assembly_slots([], threads=4) == 1
    with pytest.raises(SettingsError, match="ffmpeg_threads"):
        assembly_slots([{"CPU": 4.0}], threads=0)


def _hold(gate: SlotGate, log: list, name: str, release: asyncio.Event):
    async def holder():
        async with gate.slot():
            log.append(name)
            await release.wait()
    return asyncio.ensure_future(holder())


def test_the_gate_lets_in_at_most_its_size_first_come_first_served():
    async def scenario():
        gate, log = SlotGate(2), []
        releases = [asyncio.Event() for _ in range(5)]
        holders = [_hold(gate, log, f"h{i}", releases[i]) for i in range(5)]
        await asyncio.sleep(0)
        assert log == ["h0", "h1"] and gate.in_flight == 2
        releases[1].set()
        await asyncio.sleep(0.01)
        assert log == ["h0", "h1", "h2"] and gate.in_flight == 2
        gate.resize(4)  # nodes joined: the waiters go in at once
        await asyncio.sleep(0)
        assert log == ["h0", "h1", "h2", "h3", "h4"] and gate.in_flight == 4
        for release in releases:
            release.set()
        await asyncio.gather(*holders)
        assert gate.in_flight == 0
    asyncio.run(scenario())


def test_a_cancelled_waiter_gives_its_turn_on():
    async def scenario():
        gate, log = SlotGate(1), []
        first, never, last = asyncio.Event(), asyncio.Event(), asyncio.Event()
        holders = [_hold(gate, log, "first", first), _hold(gate, log, "gone", never),
                   _hold(gate, log, "last", last)]
        await asyncio.sleep(0)
        holders[1].cancel()
        first.set()
        last.set()
        await asyncio.gather(holders[0], holders[2])
        assert log == ["first", "last"] and gate.in_flight == 0
        # A waiter cancelled just as it was handed a slot gives it back.
        blocker = asyncio.Event()
        holder = _hold(gate, log, "blocker", blocker)
        await asyncio.sleep(0)
        waiter = _hold(gate, log, "handed", asyncio.Event())
        await asyncio.sleep(0)
        gate.resize(2)  # hands the second slot to the waiter...
        waiter.cancel()  # ...which is cancelled before it runs
        await asyncio.gather(waiter, return_exceptions=True)
        assert gate.in_flight == 1 and "handed" not in log
        blocker.set()
        await holder
        assert gate.in_flight == 0
    asyncio.run(scenario())


def test_most_at_once_counts_overlapping_spans():
    spans = [Span("chunk", "n", 0.0, 0.5, 2.0), Span("chunk", "n", 1.0, 1.0, 3.0),
             Span("chunk", "n", 2.0, 2.0, 4.0), Span("mix", "n", 2.5, 2.5, 2.6)]
    assert most_at_once(spans) == 3  # at 2.5: the second, third and the mix
    assert most_at_once(spans[:1]) == 1 and most_at_once([]) == 0
