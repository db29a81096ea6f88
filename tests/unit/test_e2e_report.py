"""The e2e benchmark's sums (benchmarks/e2e_report.py, e2e_models.py) on numbers made up so the
answers are known, and the worker's call timings they are made from."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from vidgen_ray.config import RenderSettings
from vidgen_ray.farm.actors.image_worker import ImageWorker
from vidgen_ray.images.base import ImageRequest
from vidgen_ray.testing.fake_backends import SlowImageBackend
from vidgen_ray.testing.full_size import line_budget

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import e2e_models  # noqa: E402
import e2e_report  # noqa: E402

T0 = 1000.0


def test_the_timeline_counts_from_the_job_start_in_event_order():
    timeline = e2e_report.stage_timeline(T0, T0 + 30, [T0 + 5, T0 + 12, T0 + 8],
                                         [T0 + 3, T0 + 4], [T0 + 9, T0 + 20, T0 + 15])
    assert list(timeline) == list(e2e_report.EVENTS)
    assert timeline == {"first_picture": 5, "last_picture": 12, "speech_done": 4,
                        "first_chunk": 9, "last_chunk": 20, "finished": 30}


def test_a_timeline_without_chunks_is_refused_with_the_counts():
    with pytest.raises(ValueError, match="0 chunks"):
        e2e_report.stage_timeline(T0, T0 + 1, [T0], [T0], [])


def test_union_counts_overlaps_once_and_clips_to_the_window():
    spans = [(0, 4), (2, 6), (8, 9), (-5, -1), (9.5, 20)]
    assert e2e_report.union_seconds(spans, 0, 10) == pytest.approx(6 + 1 + 0.5)
    assert e2e_report.union_seconds([], 0, 10) == 0


def test_a_card_is_busy_while_any_of_its_workers_is():
    workers = [
        {"kind": "image", "index": 0, "gpu_ids": ["0"],
         "calls": [{"start": T0, "end": T0 + 6}, {"start": T0 + 6, "end": T0 + 8}]},
        {"kind": "speech", "index": 0, "gpu_ids": ["0"],
         "calls": [{"start": T0 + 1, "end": T0 + 3}]},
        {"kind": "image", "index": 1, "gpu_ids": ["1"], "calls": [{"start": T0, "end": T0 + 2}]},
    ]
    timeline = {"last_picture": 8.0, "finished": 16.0}
    numbers = e2e_report.busy(workers, T0, timeline)
    assert numbers["gpus"]["0"] == {"busy_of_wall": 0.5, "busy_until_last_picture": 1.0}
    assert numbers["gpus"]["1"] == {"busy_of_wall": 0.125, "busy_until_last_picture": 0.25}
    assert [w["calls"] for w in numbers["workers"]] == [2, 1, 1]


def test_a_projection_puts_one_image_worker_on_each_card_and_speech_on_the_first():
    rows = [{"kind": "image", "index": i, "gpu_ids": ["0"], "calls": []} for i in range(3)]
    rows.append({"kind": "speech", "index": 0, "gpu_ids": ["2"], "calls": []})
    cards = e2e_report.as_cards(rows)
    assert [w["gpu_ids"] for w in cards] == [["0"], ["1"], ["2"], ["0"]]
    assert cards[3]["logical_gpu_ids"] == ["2"]


def test_the_critical_path_names_the_longest_link():
    timeline = {"last_picture": 20.0, "speech_done": 5.0, "last_chunk": 24.0, "finished": 27.0}
    path = e2e_report.critical_path(timeline, mix_done=6.0)
    assert [link["stage"] for link in path["links"]] == [
        "pictures", "chunks after the last input", "finishing"]
    assert path["bound_by"] == "pictures" and path["bound_share"] == pytest.approx(20 / 27, 1e-3)
    late_mix = e2e_report.critical_path({**timeline, "last_picture": 2.0}, mix_done=26.0)
    assert late_mix["links"][0]["stage"] == "speech"
    assert late_mix["links"][2] == {"stage": "soundtrack after the last chunk", "seconds": 2.0}
    assert late_mix["links"][3] == {"stage": "finishing", "seconds": 1.0}


def test_peak_memory_is_the_gpu_peak_where_there_is_one():
    rows = e2e_report.peak_memory([
        {"kind": "image", "index": 0, "stats": {"gpu_peak_allocated_bytes": 3 * 2**30,
                                                "peak_rss_bytes": 2**30}},
        {"kind": "speech", "index": 0, "stats": {"peak_rss_bytes": 2**29}}])
    assert rows == [{"worker": "image[0]", "gpu_peak_gib": 3.0, "rss_peak_gib": 1.0},
                    {"worker": "speech[0]", "gpu_peak_gib": None, "rss_peak_gib": 0.5}]


def test_latencies_fitted_to_calls_recover_fixed_and_per_request_parts():
    points = [(1, 1.5), (4, 3.0), (8, 5.0)]  # 1.0 s + 0.5 s a request
    assert e2e_models.fit_line(points) == {"fixed_s": 1.0, "per_request_s": 0.5}
    assert e2e_models.fit_line([(4, 2.0), (4, 2.0)]) == {"fixed_s": 0.0, "per_request_s": 0.5}
    calls = [{"requests": n, "start": 0.0, "end": s} for n, s in points]
    report = {"runs": [{"workers": [{"kind": "image", "calls": calls},
                                    {"kind": "speech", "calls": calls[:2]}]}]}
    fitted = e2e_models.fitted_latency(report)
    assert fitted["image"] == {"fixed_s": 1.0, "per_request_s": 0.5}
    with pytest.raises(ValueError, match="speech: the JSON holds no timed calls"):
        e2e_models.fitted_latency({"runs": [{"workers": [{"kind": "image", "calls": calls}]}]})


def test_bark_budgets_grow_with_the_text():
    short, long = line_budget("Hold the rail."), line_budget("Hold the rail. " * 6)
    assert 0 < short < long and long == pytest.approx(6 * short, rel=0.2)


def test_a_worker_times_each_call_and_sums_its_busy_seconds():
    worker = ImageWorker("cards", RenderSettings(), lambda: SlowImageBackend(latency_s=0.05))
    request = ImageRequest(1, "t", "d", (), "calm", 16, 16, 1)
    worker.generate([request])
    worker.generate([request, request])
    calls = worker.calls()
    assert [c["requests"] for c in calls] == [1, 2]
    assert all(c["end"] - c["start"] >= 0.05 for c in calls)
    assert calls[0]["end"] <= calls[1]["start"]
    assert worker.calls(since=calls[0]["end"]) == calls[1:]
    stats = worker.stats()
    assert stats["busy_s"] >= 0.1 and stats["peak_rss_bytes"] > 10_000_000
