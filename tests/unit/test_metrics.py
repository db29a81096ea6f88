"""/metrics: the Prometheus families built from the farm's records and stats, read back with
prometheus_client's own parser (what a Prometheus server would see)."""

from prometheus_client.parser import text_string_to_metric_families

from vidgen_ray.farm.jobs import JobRecord
from vidgen_ray.service.metrics import metrics_text


def parse(text: str) -> dict[str, dict]:
    """``{family: {"help", "type", "samples": {(name, sorted labels): value}}}``."""
    return {family.name: {"help": family.documentation, "type": family.type,
                          "samples": {(s.name, tuple(sorted(s.labels.items()))): s.value
                                      for s in family.samples}}
            for family in text_string_to_metric_families(text)}


def test_metrics_count_states_queue_workers_and_scene_seconds():
    done = JobRecord(out_dir="/x", status="done", started=10.0, finished=16.0,
                     scenes=["done"] * 3)
    queued = JobRecord(out_dir="/x", created=90.0)
    families = parse(metrics_text([done, queued], {"queued": 1, "running": 0,
                                                   "workers": {'image:"cards"': 2}}, now=100.0))
    jobs = families["vidgen_jobs"]["samples"]
    assert jobs[("vidgen_jobs", (("state", "done"),))] == 1
    assert jobs[("vidgen_jobs", (("state", "failed"),))] == 0
    assert len(jobs) == 5  # every state, even those with no job
    assert families["vidgen_queue_depth"]["samples"] == {("vidgen_queue_depth", ()): 1}
    assert families["vidgen_jobs_running"]["samples"] == {("vidgen_jobs_running", ()): 0}
    # A label with a quote comes back whole: the exposition escaped it.
    assert families["vidgen_workers"]["samples"] == {
        ("vidgen_workers", (("pool", 'image:"cards"'),)): 2}
    scenes = families["vidgen_scene_seconds"]
    assert scenes["type"] == "histogram"
    bucket = {dict(labels)["le"]: value for (name, labels), value in scenes["samples"].items()
              if name.endswith("_bucket")}
    assert bucket["1"] == 0 and bucket["2"] == 1 and bucket["+Inf"] == 1  # 6 s / 3 scenes
    assert scenes["samples"][("vidgen_scene_seconds_sum", ())] == 2.0
    assert scenes["samples"][("vidgen_scene_seconds_count", ())] == 1
    assert families["vidgen_oldest_queued_seconds"]["samples"] == {
        ("vidgen_oldest_queued_seconds", ()): 10.0}


def test_metrics_keep_their_help_text_and_types():
    families = parse(metrics_text([], {"queued": 0, "running": 0, "workers": {}}, now=5.0))
    assert {name: (f["type"], f["help"]) for name, f in families.items()} == {
        "vidgen_jobs": ("gauge", "Jobs the farm knows, by state."),
        "vidgen_queue_depth": ("gauge", "Jobs waiting to run."),
        "vidgen_jobs_running": ("gauge", "Jobs rendering now."),
        "vidgen_workers": ("gauge", "Ready workers per pool."),
        "vidgen_scene_seconds": ("histogram", "Seconds per scene of finished jobs."),
        "vidgen_oldest_queued_seconds": ("gauge", "Age of the oldest waiting job."),
    }
    # No job waits: the oldest waiting job is zero seconds old.
    assert families["vidgen_oldest_queued_seconds"]["samples"] == {
        ("vidgen_oldest_queued_seconds", ()): 0.0}


def test_each_scrape_starts_from_nothing():
    first = metrics_text([JobRecord(out_dir="/x")], {"queued": 1, "running": 0,
                                                     "workers": {"image": 1}}, now=1.0)
    second = metrics_text([], {"queued": 0, "running": 0, "workers": {}}, now=1.0)
    assert 'pool="image"' in first and "pool=" not in second
    assert parse(second)["vidgen_jobs"]["samples"][("vidgen_jobs", (("state", "queued"),))] == 0
