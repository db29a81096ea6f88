import pytest

from vidgen_ray.config import RenderSettings
from vidgen_ray.errors import SettingsError
from vidgen_ray.farm.placement import (
    assembly_options,
    gpu_fraction,
    gpu_memory_gb,
    need_gb,
    pool_size,
    sized,
    worker_options,
)

CPU_ONLY = {"CPU": 8.0, "memory": 1e10}
ONE_GPU = {"CPU": 16.0, "GPU": 1.0}


@pytest.mark.parametrize(("need", "card", "share"), [
    (8, 16, 0.5),
    (8, 24, 0.3333),  # 1/3 down to Ray's 1e-4, not 0.34: three still fit on one card
    (4, 24, 0.1666),
    (5, 24, 0.21),  # 0.208 up to 1/100: four fit, and room is left for another model
    (13.13, 24, 0.55),  # one SDXL worker: not a whole card (1/1), so Bark fits beside it
    (0.1, 0.3, 0.3333),  # 0.3 / 0.1 is 2.999... in floats: still three per card
    (24, 24, 1.0),
    (30, 24, 1.0),  # bigger than the card: a whole card, never more
    (1, 80, 0.0125),
])
def test_gpu_fraction_rounds_up_to_a_hundredth_or_one_nth(need, card, share):
    assert gpu_fraction(need, card) == share


@pytest.mark.parametrize(("need", "card"), [(8, 24), (4, 24), (5, 24), (3, 80), (7, 10),
                                            (13.13, 24), (6.61, 24), (27.39, 141)])
def test_gpu_fraction_covers_the_need_and_packs_exactly(need, card):
    share = gpu_fraction(need, card)
    per_card = int(1 / share + 1e-6)
    assert share >= need / card - 1e-4  # Ray's precision: 1/3 is 0.3333
    assert per_card == card // need  # as many as fit in memory fit in shares


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


MODELS = {"image_model": "sdxl", "tts_model": "bark"}


def test_worker_on_a_gpu_cluster_asks_for_its_share_and_no_cpu():
    settings = RenderSettings(gpu_memory_gb=16, image_gpu_gb=8, speech_gpu_gb=4, **MODELS)
    assert worker_options("image", settings, ONE_GPU) == {
        "num_gpus": 0.5, "num_cpus": 0, "max_restarts": -1, "max_task_retries": -1,
        "max_concurrency": 3}
    assert worker_options("speech", settings, ONE_GPU)["num_gpus"] == 0.25


def test_model_workers_ask_for_the_measured_memory_of_their_batch():
    settings = RenderSettings(**MODELS)  # a 24 GB card: SDXL at batch 1, Bark at 16
    image, speech = (worker_options(k, settings, ONE_GPU) for k in ("image", "speech"))
    assert image["num_gpus"] == gpu_fraction(11.53 + 0.6 + 1.0, 24) == 0.55
    assert speech["num_gpus"] == gpu_fraction(5.61 + 1.0, 24) == 0.28
    assert image["num_gpus"] + speech["num_gpus"] <= 1.0  # both on the one card
    h100 = worker_options("image", settings, {**ONE_GPU, "accelerator_type:H100": 1.0})
    assert h100["num_gpus"] == gpu_fraction(need_gb("image", settings, {
        **ONE_GPU, "accelerator_type:H100": 1.0}), 80)


@pytest.mark.parametrize("backends", [{}, {"tts_model": "kokoro"}])
def test_embedded_backends_and_kokoro_take_no_gpu_on_a_gpu_cluster(backends):
    settings = RenderSettings(**backends)
    for kind in ("image", "speech"):
        options = worker_options(kind, settings, ONE_GPU)
        assert "num_gpus" not in options
    kokoro = worker_options("speech", settings, ONE_GPU)
    if backends:  # a CPU model: one CPU, and kept off the cards Ray would show it
        assert kokoro["num_cpus"] == 1
        assert kokoro["runtime_env"] == {"env_vars": {"CUDA_VISIBLE_DEVICES": ""}}
    else:
        assert kokoro["num_cpus"] == 0 and "runtime_env" not in kokoro


def test_sized_settings_carry_the_chosen_batch_and_need_unless_given():
    settings = RenderSettings(**MODELS)
    chosen = sized(settings, {**ONE_GPU, "accelerator_type:L4": 1.0})
    assert (chosen.image_batch_size, chosen.image_gpu_gb) == (1, 13.13)
    assert (chosen.speech_batch_size, chosen.speech_gpu_gb) == (16, 6.61)
    assert sized(chosen, {**ONE_GPU, "accelerator_type:L4": 1.0}) == chosen
    given = sized(RenderSettings(image_batch_size=2, **MODELS), ONE_GPU)
    assert given.image_batch_size == 2 and given.image_gpu_gb == pytest.approx(
        11.53 + (25.79 - 11.53) / 3 + 1.6, abs=0.01)  # interpolated
    assert given.speech_batch_size == 11  # Bark gets what the larger SDXL worker leaves
    assert sized(RenderSettings(), ONE_GPU) == RenderSettings()  # nothing on the GPU
    assert sized(settings, CPU_ONLY) == settings


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


def test_pool_size_packs_by_measured_memory_and_fills_the_card():
    settings = RenderSettings(**MODELS)
    assert (pool_size("image", settings, ONE_GPU), pool_size("speech", settings, ONE_GPU)
            ) == (1, 1)  # 13.1 + 6.6 GB of 24; two SDXL workers would not fit
    h100 = {"GPU": 4.0, "accelerator_type:H100": 4.0}
    assert pool_size("image", settings, h100) == 8  # two at batch 3 in 2/3 of each card
    assert pool_size("speech", settings, h100) == 16  # four at batch 16 in the last third
    assert pool_size("image", RenderSettings(), ONE_GPU) == 4  # cards: the CPU rule


def test_pool_size_gives_a_model_too_big_to_share_a_card_cards_of_its_own():
    settings = RenderSettings(gpu_memory_gb=16, **MODELS)  # SDXL + Bark: 18 GB > 16
    two = {"GPU": 2.0}
    assert pool_size("image", settings, two) == 1
    assert pool_size("speech", settings, two) == 2


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
