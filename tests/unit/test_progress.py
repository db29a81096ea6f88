"""The throttled reporter: status at once, counts at most four a second, none lost."""

from vidgen_ray.pipeline.job_record import JobRecord
from vidgen_ray.pipeline.progress import ThrottledReporter


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Timers:
    """Timers the test fires by hand (the reporter's ``later``)."""

    def __init__(self):
        self.pending: list[list] = []

    def __call__(self, seconds, then):
        timer = [seconds, then, False]
        self.pending.append(timer)

        class Handle:
            def cancel(self):
                timer[2] = True
        return Handle()

    def fire(self):
        live = [t for t in self.pending if not t[2]]
        self.pending = []
        for _, then, _ in live:
            then()


def _reporter():
    heard, clock, timers = [], Clock(), Timers()
    reporter = ThrottledReporter(lambda record, state: heard.append(
        (state, record.progress["speech"].done)), clock=clock, later=timers)
    return reporter, heard, clock, timers


def _count(record: JobRecord, done: int) -> JobRecord:
    record.report("speech", done, 100)
    return record


def test_counts_pass_at_most_four_times_a_second_and_the_last_at_the_stage_end():
    reporter, heard, clock, _ = _reporter()
    record = JobRecord(out_dir="/tmp/x", scenes=["queued"])
    for done in range(1, 101):  # 100 counts over one second
        reporter.progress(_count(record, done))
        clock.now += 0.01
    assert 3 <= len(heard) <= 5
    assert all(state is False for state, _ in heard)
    reporter.flush()
    assert heard[-1] == (False, 100)
    reporter.flush()  # nothing held back: nothing more
    assert heard[-1] == (False, 100) and heard.count((False, 100)) == 1


def test_a_status_change_passes_at_once_and_carries_the_counts_held_back():
    reporter, heard, clock, _ = _reporter()
    record = JobRecord(out_dir="/tmp/x", scenes=["queued"])
    reporter.progress(_count(record, 1))
    clock.now += 0.05
    reporter.progress(_count(record, 2))  # held back
    assert heard == [(False, 1)]
    record.set_scene(0, "running")
    reporter.state(record)
    assert heard == [(False, 1), (True, 2)]
    reporter.flush()  # the status change delivered the counts: nothing pending
    assert heard == [(False, 1), (True, 2)]


def test_counts_held_back_are_passed_on_when_the_interval_is_over():
    reporter, heard, clock, timers = _reporter()
    record = JobRecord(out_dir="/tmp/x", scenes=["queued"])
    reporter.progress(_count(record, 1))
    clock.now += 0.1
    reporter.progress(_count(record, 2))
    reporter.progress(_count(record, 3))
    assert len(timers.pending) == 1  # one timer, however many counts wait
    assert abs(timers.pending[0][0] - 0.15) < 1e-9  # due when the interval is over
    clock.now += 0.15
    timers.fire()
    assert heard == [(False, 1), (False, 3)]


def test_counts_far_apart_all_pass():
    reporter, heard, clock, _ = _reporter()
    record = JobRecord(out_dir="/tmp/x", scenes=["queued"])
    for done in range(1, 4):
        reporter.progress(_count(record, done))
        clock.now += 0.3
    assert heard == [(False, 1), (False, 2), (False, 3)]
