"""The language model's rate limit shared by a whole Ray cluster: one named actor's window,
used by callers in separate worker processes, and by the job service's analysis."""

import os

import pytest

from vidgen_ray.config import load_settings
from vidgen_ray.testing.fake_llm_server import FakeLLMServer

pytestmark = pytest.mark.ray


def test_callers_in_separate_processes_share_one_window(ray_local):
    # Defined here so that Ray ships it by value: workers cannot import the tests.
    def admissions(name: str, count: int) -> tuple[int, list[float]]:
        from vidgen_ray.farm.actors.rate_limiter import RayRateLimiter

        limiter = RayRateLimiter(name, limit=3, window=1.0)
        return os.getpid(), [limiter.acquire() for _ in range(count)]

    ray = ray_local
    task = ray.remote(admissions).options(num_cpus=0)
    results = ray.get([task.remote("shared-test", 3) for _ in range(3)], timeout=120)
    pids = {pid for pid, _ in results}
    assert len(pids) >= 2 and os.getpid() not in pids  # worker processes, not this one
    admitted = sorted(t for _, stamps in results for t in stamps)
    assert len(admitted) == 9
    # At most 3 admissions in any 1-second window: the 4th after any one is a second later.
    assert all(later - first >= 1.0 for first, later in zip(admitted, admitted[3:],
                                                             strict=False))
    assert admitted[-1] - admitted[0] >= 2.0


def test_farm_limiter_only_for_a_model_and_only_with_ray(ray_local):
    from vidgen_ray.farm.actors.rate_limiter import RayRateLimiter, farm_limiter

    assert farm_limiter(load_settings()) is None  # the local analyser calls no model
    limiter = farm_limiter(load_settings(llm="gemini", llm_requests_per_minute=90))
    assert isinstance(limiter, RayRateLimiter)
    assert (limiter.name, limiter.limit, limiter.window) == ("gemini", 90, 60.0)


def test_the_service_paces_its_analysis_with_the_clusters_limiter(ray_local, tmp_path,
                                                                   monkeypatch):
    from vidgen_ray.farm.actors.rate_limiter import farm_limiter, window_actor
    from vidgen_ray.service.requests import JobRequest, Limits, prepare

    monkeypatch.setenv("GEMINI_API_KEY", "service-key")
    monkeypatch.setenv("VIDGEN_LLM_CACHE_DIR", str(tmp_path))
    with FakeLLMServer(api_key="service-key") as server:
        monkeypatch.setenv("VIDGEN_LLM_BASE_URL", server.url)
        before = ray_local.get(window_actor().stamps.remote("gemini"))
        request = JobRequest(script="The tide came in.\n\nMARA: It is late.\n",
                             settings={"llm": "gemini"})
        storyboard = prepare(request, Limits(), farm_limiter).storyboard
        after = ray_local.get(window_actor().stamps.remote("gemini"))
    assert storyboard.scenes and len(server.requests) == 1
    assert len(after) == len(before) + 1  # the request was counted in the cluster's window
    assert not (tmp_path / "ratelimit-gemini.json").exists()  # not in the machine's file


def test_a_render_on_a_cluster_paces_its_analysis_with_the_clusters_limiter(
        ray_local, tmp_path, monkeypatch):
    from vidgen_ray.errors import OutputError
    from vidgen_ray.farm.actors.rate_limiter import window_actor
    from vidgen_ray.farm.connect import render

    monkeypatch.setenv("GEMINI_API_KEY", "render-key")
    script = tmp_path / "tide.md"
    script.write_text("The tide came in.\n\nMARA: It is late.\n", encoding="utf-8")
    (tmp_path / "a-file").write_text("")
    with FakeLLMServer(api_key="render-key") as server:
        # Joined already (ray_local), so the address only says "a cluster"; the output folder
        # cannot be made, so the render stops right after the analysis.
        settings = load_settings(llm="gemini", llm_base_url=server.url, ray_address="auto",
                                 llm_cache_dir=str(tmp_path / "cache"))
        before = ray_local.get(window_actor().stamps.remote("gemini"))
        with pytest.raises(OutputError):
            render(script, tmp_path / "a-file" / "out", settings)
        after = ray_local.get(window_actor().stamps.remote("gemini"))
    assert len(server.requests) == 1 and len(after) == len(before) + 1
    assert not (tmp_path / "cache" / "ratelimit-gemini.json").exists()
