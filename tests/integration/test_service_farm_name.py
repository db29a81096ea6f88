"""One name, two journals: the service refuses a Farm without a job home that holds the name
(it keeps no durable jobs) and says what to do; a render joins the service's farm."""

from __future__ import annotations

import time

import pytest

from vidgen_ray.errors import RenderError

pytestmark = pytest.mark.ray


def _gone(ray, name: str, namespace: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            ray.get_actor(name, namespace=namespace)
        except ValueError:
            return
        time.sleep(0.2)
    raise AssertionError(f"actor {name} still registered after {timeout} s")


def test_the_service_refuses_a_plain_farm_and_a_render_joins_the_services(ray_local, tmp_path):
    from vidgen_ray.config import ServiceSettings
    from vidgen_ray.farm.connect import FARM_NAME, FARM_NAMESPACE, farm_actor
    from vidgen_ray.service.api import service_journal

    settings = ServiceSettings(storage=str(tmp_path / "home"), api_open=True)
    plain = farm_actor()  # what `vidgen render --address` does
    assert ray_local.get(plain.list_jobs.remote()) == []
    assert not ray_local.get(plain.keeps_home.remote())
    with pytest.raises(RenderError, match="without a job home .* start the service first"):
        farm_actor(service_journal(settings))
    ray_local.kill(plain)
    _gone(ray_local, FARM_NAME, FARM_NAMESPACE)

    durable = farm_actor(service_journal(settings))
    joined = farm_actor()  # what `vidgen render --address` does
    assert ray_local.get(joined.keeps_home.remote())
    assert ray_local.get(joined.list_jobs.remote()) == []
    ray_local.kill(durable)
