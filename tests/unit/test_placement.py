import pytest

from vidgen_ray.config import RenderSettings
from vidgen_ray.errors import SettingsError
from vidgen_ray.farm.placement import (
    assembly_options,
    gpu_fraction,
    gpu_memory_gb,
    pool_size,
    worker_options,
)

CPU_ONLY = {"CPU": 8.0, "memory": 1e10}
ONE_GPU = {"CPU": 16.0, "GPU": 1.0}


@pytest.mark.parametrize(("need", "card", "share"), [
    (8, 16, 0.5),
    (8, 24, 0.3333),  # 1/3 down to Ray's 1e-4: three still fit on one card
    (4, 24, 0.1666),
    (5, 24, 0.25),  # 0.208 rounded up to 1/4, not to 0.21: four pack, no sliver left
    (0.1, 0.3, 0.3333),  # 0.3 / 0.1 is 2.999... in floats: still three per card
    (24, 24, 1.0),
    (30, 24, 1.0),  # bigger than the card: a whole card, never more
    (1, 80, 0.0125),
])
def test_gpu_fraction_rounds_up_to_one_nth(need, card, share):
    assert gpu_fraction(need, card) == share


@pytest.mark.parametrize(("need", "card"), [(8, 24), (4, 24), (5, 24), (3, 80), (7, 10)])
def test_gpu_fraction_covers_the_need_and_packs_exactly(need, card):
    share = gpu_fraction(need, card)
    per_card = int(1 / share + 1e-6)
    assert share >= need / card - 1e-4
    assert per_card * share <= 1.0
    assert per_card == card // need


def test_gpu_fraction_refuses_nonsense():
    with pytest.raises(SettingsError, match="positive"):
        gpu_fraction(0, 24)


def test_gpu_memory_comes_from_the_setting_then_the_card_type_then_24():
    assert gpu_memory_gb(RenderSettings(gpu_memory_gb=16), ONE_GPU) == 16
    assert gpu_memory_gb(RenderSettings(), {**ONE_GPU, "accelerator_type:H100": 1.0}) == 80
    mixed = {**ONE_GPU, "accelerator_type:H100": 1.0, "accelerator_type:T4": 1.0}
    assert gpu_memory_gb(RenderSettings(), mixed) == 16  # the smallest card bounds the share
    assert gpu_memory_gb(RenderSettings(), {**ONE_GPU, "accelerator_type:XYZ": 1.0}) == 24
    assert gpu_memory_gb(RenderSettings(), ONE_GPU) == 24


def test_worker_on_a_gpu_cluster_asks_for_its_share_and_no_cpu():
    settings = RenderSettings(gpu_memory_gb=16, image_gpu_gb=8, speech_gpu_gb=4)
    assert worker_options("image", settings, ONE_GPU) == {
        "num_gpus": 0.5, "num_cpus": 0, "max_restarts": -1, "max_task_retries": -1,
        "max_concurrency": 3}
    assert worker_options("speech", settings, ONE_GPU)["num_gpus"] == 0.25


def test_embedded_backends_without_gpus_hold_no_cpu():
    # cards and espeak work for milliseconds: FFmpeg keeps every CPU.
    assert worker_options("image", RenderSettings(), CPU_ONLY) == {
        "num_cpus": 0, "max_restarts": -1, "max_task_retries": -1,
        "max_concurrency": 3}
    assert "num_gpus" not in worker_options("speech", RenderSettings(), {"GPU": 0.0})


def test_model_backend_without_gpus_holds_one_cpu():
    settings = RenderSettings(image_model="sdxl")
    assert worker_options("image", settings, CPU_ONLY)["num_cpus"] == 1


@pytest.mark.parametrize(("cpus", "workers", "held"), [
    (2.0, None, 0),  # a 2-core laptop: one SDXL and one Bark worker would hold both cores
    (8.0, None, 0),  # four of each: all eight
    (3.0, 1, 1), (8.0, 2, 1)])  # a core or more stays for FFmpeg
def test_model_workers_never_take_the_last_cpu_from_ffmpeg(cpus, workers, held):
    settings = RenderSettings(image_model="sdxl", tts_model="bark", image_workers=workers,
                              speech_workers=workers)
    cluster = {"CPU": cpus}
    options = [worker_options(k, settings, cluster) for k in ("image", "speech")]
    assert [o["num_cpus"] for o in options] == [held, held]
    models = pool_size("image", settings, cluster) + pool_size("speech", settings, cluster)
    assert cpus - held * models >= settings.ffmpeg_threads  # FFmpeg can always be placed


def test_pool_size_is_the_setting_when_given():
    settings = RenderSettings(image_workers=7, speech_workers=3)
    assert pool_size("image", settings, CPU_ONLY) == 7
    assert pool_size("speech", settings, ONE_GPU) == 3


def test_pool_size_splits_gpu_memory_two_to_one_and_fills_the_card():
    settings = RenderSettings()  # 8 GB pictures, 6 GB speech, 24 GB card
    images, speech = pool_size("image", settings, ONE_GPU), pool_size("speech", settings,
                                                                      ONE_GPU)
    assert (images, speech) == (2, 1)  # 16 GB + 6 GB
    used = images * gpu_fraction(8, 24) + speech * gpu_fraction(6, 24)
    assert used <= 1.0
    assert pool_size("image", settings, {"GPU": 4.0}) == 8


def test_pool_size_gives_every_kind_a_worker_even_when_memory_is_short():
    settings = RenderSettings(gpu_memory_gb=16)  # an 8 GB model does not fit in 2/3 of 16
    assert pool_size("image", settings, ONE_GPU) == 1
    big = RenderSettings(gpu_memory_gb=8, image_gpu_gb=8)  # whole cards, 2/3 of them
    assert pool_size("image", big, {"GPU": 3.0}) == 2


@pytest.mark.parametrize(("cpus", "workers"), [(1, 1), (2, 1), (5, 2), (8, 4), (64, 4)])
def test_pool_size_without_gpus_is_half_the_cpus_capped(cpus, workers):
    cluster = {"CPU": float(cpus)}
    assert pool_size("image", RenderSettings(), cluster) == workers
    assert pool_size("speech", RenderSettings(), cluster) == workers


def test_assembly_goes_to_assembly_nodes_when_there_are_any():
    assert assembly_options({"CPU": 8.0, "assembly": 2.0}, 2) == {
        "resources": {"assembly": 1}, "num_cpus": 2}
    assert assembly_options(CPU_ONLY, 1) == {"num_cpus": 1}
    assert assembly_options({"CPU": 8.0, "assembly": 0.0}, 1) == {"num_cpus": 1}
