"""SDXL through the real loader on tiny random-weight models (built once per module, offline):
sizes, seeds, batches, progress, IP-Adapter, safety checker, refiner, the worker, and the
cast. The pictures are noise; what is checked is the code path that real weights take."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from vidgen_ray.config import load_settings
from vidgen_ray.errors import DependencyError, RenderError
from vidgen_ray.farm.actors.image_worker import ImageWorker
from vidgen_ray.images import create_image_backend
from vidgen_ray.images.base import CharacterLook, ImageRequest, Sampling
from vidgen_ray.images.portraits import (
    character_looks,
    picture_notes,
    picture_seed,
    pictures_manifest,
    portrait_request,
)
from vidgen_ray.images.prompts import STYLES
from vidgen_ray.images.sdxl import SdxlBackend
from vidgen_ray.images.sdxl_options import SdxlOptions
from vidgen_ray.images.sdxl_sampling import drawing_size
from vidgen_ray.storyboard import Character, Scene, Storyboard
from vidgen_ray.testing import tiny_sdxl

torch = pytest.importorskip("torch")

MARA = CharacterLook("MARA", "a tall woman in a red coat", 11)
ELIAS = CharacterLook("ELIAS", "a young man with wet dark hair", 12)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("tiny")
    return {"sdxl": str(tiny_sdxl.build_sdxl(root / "sdxl")),
            "ip_adapter": str(tiny_sdxl.build_ip_adapter(root / "ip")),
            "flag_all": str(tiny_sdxl.build_safety_checker(root / "flag_all", True)),
            "flag_none": str(tiny_sdxl.build_safety_checker(root / "flag_none", False))}


def _backend(models, **options) -> SdxlBackend:
    base = dict(model=models["sdxl"], offline=True, safety_checker=False)
    return SdxlBackend(SdxlOptions(**{**base, **options}))


def _sampling(draw=(64, 64), **values) -> Sampling:
    """How a request is drawn: 64x64, 2 steps, no style, unless told."""
    return Sampling(*draw, **{"steps": 2, "guidance_scale": 7.5, "style": "none", **values})


@pytest.fixture(scope="module")
def backend(models):
    return _backend(models)


def _scene(number=1, seed=1, width=64, height=64, characters=(), looks=(), text="a harbour",
           **sampling):
    return ImageRequest(number, "", text, tuple(characters), "calm", width, height, seed,
                        looks=tuple(looks), sampling=_sampling(**sampling))


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def test_loads_through_settings_and_the_factory(models):
    settings = load_settings(image_model="sdxl", sdxl_model=models["sdxl"], offline=True,
                             image_resolution="64x64", image_inference_steps=2,
                             image_safety_checker=False)
    backend = create_image_backend("sdxl", settings)
    assert backend.options.model == models["sdxl"] and backend.plan.device == "cpu"
    assert backend.version().startswith("sdxl-2 diffusers-")


def test_the_requested_size_comes_out(backend):
    for width, height in ((64, 64), (160, 90), (90, 160)):
        png = backend.generate([_scene(width=width, height=height)])[0]
        image = Image.open(io.BytesIO(png))
        assert image.size == (width, height) and image.mode == "RGB"


def test_same_seed_same_pixels_other_seed_other_pixels(backend):
    first = backend.generate([_scene(seed=5)])[0]
    assert backend.generate([_scene(seed=5)])[0] == first
    assert not np.array_equal(_pixels(backend.generate([_scene(seed=6)])[0]), _pixels(first))
    assert picture_notes(first) == {"seed": "5", "safety_flagged": "0", "drawn": "64x64"}


def test_a_batch_of_prompts_is_one_call_per_batch_size(models):
    requests = [_scene(n, seed=n, text=f"scene {n}") for n in range(1, 4)]
    for batch_size, calls in ((4, 1), (2, 2)):
        steps: list[tuple[int, int]] = []
        record = steps.append
        pngs = _backend(models, batch_size=batch_size).generate(
            requests, on_step=lambda d, t, record=record: record((d, t)))
        assert len(pngs) == 3 and len({p for p in pngs}) == 3
        assert steps[-1] == (2 * calls, 2 * calls)  # 2 steps per pipeline call


def test_progress_is_reported_every_step(models):
    steps: list[tuple[int, int]] = []
    _backend(models).generate([_scene(steps=5)], on_step=lambda d, t: steps.append((d, t)))
    assert steps == [(n, 5) for n in range(1, 6)]


def test_worker_exposes_progress_and_health(models):
    worker = ImageWorker("sdxl", load_settings(), factory=lambda: _backend(models))
    worker.generate([_scene(steps=3), _scene(2, seed=2, steps=3)])
    assert worker.progress() == {"done": 3, "total": 3}
    assert worker.health()["steps"] == {"done": 3, "total": 3} and worker.health()["ok"]


def test_ip_adapter_conditions_scenes_on_the_portraits_present(models):
    backend = _backend(models, ip_adapter=models["ip_adapter"])
    portrait = backend.generate([portrait_request(MARA, 64, _sampling())])[0]
    other = backend.generate([portrait_request(ELIAS, 64, _sampling())])[0]
    assert portrait != other
    with_mara = _scene(characters=["MARA"], looks=[CharacterLook(**{**vars(MARA),
                                                                     "portrait": portrait})],
                       ip_adapter_scale=1.0)
    with_other = _scene(characters=["MARA"], looks=[CharacterLook(**{**vars(MARA),
                                                                      "portrait": other})],
                        ip_adapter_scale=1.0)
    a, b = backend.generate([with_mara, with_other])
    assert a != b  # same prompt and seed: only the reference portrait differs
    assert backend.generate([with_mara])[0] == a
    alone = backend.generate([_scene()])[0]  # no characters: drawn without a reference
    assert Image.open(io.BytesIO(alone)).size == (64, 64)


def test_character_looks_and_seeds_are_stable_across_scenes_and_jobs():
    board = Storyboard(characters=[Character(name="MARA", description="a tall woman")],
                       scenes=[Scene(description="storm", characters=["MARA"]),
                               Scene(description="dawn", characters=["ELIAS", "MARA"]),
                               Scene(description="sea"), Scene(description="x", seed=3,
                                                               characters=["MARA"])])
    looks = character_looks(board)
    assert looks == character_looks(board.model_copy(deep=True))
    assert looks["MARA"].description == "a tall woman" and looks["ELIAS"].description == ""
    seeds = [picture_seed(board, i, looks) for i in range(4)]
    assert seeds[0] == looks["MARA"].seed and seeds[1] == looks["ELIAS"].seed
    assert seeds[2] == board.scene_seed(2) and seeds[3] == 3  # a scene's own seed wins


def test_safety_checker_that_flags_everything_fails_clearly(models):
    backend = _backend(models, safety_checker=True,
                       safety_checker_model=models["flag_all"])
    assert backend.version().endswith(" checked")
    with pytest.raises(RenderError, match="scene 4: the safety checker flagged all 4"):
        backend.generate([_scene(4)])


def test_a_flagged_picture_is_drawn_again_with_the_next_seed(models):
    backend = _backend(models, safety_checker=True,
                       safety_checker_model=models["flag_none"])
    clean = backend.generate([_scene(seed=20)])[0]
    assert picture_notes(clean)["safety_flagged"] == "0"
    # Make the real checker's first concept the picture of seed 20 itself, so that exactly
    # that picture is flagged (cosine 1 against a 0.995 threshold; scores round to 0.001).
    checker, extractor = backend.safety
    drawn = Image.open(io.BytesIO(_backend(models).generate([_scene(seed=20)])[0]))  # lossless
    with torch.no_grad():
        pooled = checker.vision_model(extractor([drawn], return_tensors="pt").pixel_values)[1]
        checker.concept_embeds[0] = checker.visual_projection(pooled)[0]
        checker.concept_embeds_weights[0] = 0.995
    redrawn = backend.generate([_scene(seed=20)])[0]
    assert picture_notes(redrawn) == {"seed": "21", "safety_flagged": "1", "drawn": "64x64"}
    assert np.array_equal(_pixels(redrawn), _pixels(_backend(models).generate(
        [_scene(seed=21)])[0]))
    notes = pictures_manifest([clean, redrawn], {})
    assert notes["safety_redrawn_scenes"] == [2]


def test_refiner_finishes_the_denoising(models):
    backend = _backend(models, refiner=models["sdxl"])
    steps: list[tuple[int, int]] = []
    png = backend.generate([_scene(width=160, height=90, steps=4, refiner_start=0.5)],
                           on_step=lambda d, t: steps.append((d, t)))[0]
    assert Image.open(io.BytesIO(png)).size == (160, 90)
    assert steps[-1][0] == 4  # 2 base steps + 2 refiner steps


def test_offline_missing_model_says_how_to_get_it(tmp_path):
    with pytest.raises(DependencyError, match=r"(?s)nobody/no-such-sdxl. is not in the "
                       "Hugging Face cache.*vidgen models download sdxl"):
        SdxlBackend(SdxlOptions(model="nobody/no-such-sdxl", offline=True))


def test_a_folder_that_is_not_a_model_is_named(tmp_path):
    with pytest.raises(DependencyError, match="cannot be loaded"):
        SdxlBackend(SdxlOptions(model=str(tmp_path), offline=True))


def test_x4_upscaler_when_configured(models, tmp_path):
    folder = str(tiny_sdxl.build_x4_upscaler(tmp_path / "x4"))
    backend = _backend(models, upscaler=folder)
    backend.upscaler.steps = 2
    plain = _backend(models)
    png = backend.generate([_scene(width=320, height=180)])[0]
    assert Image.open(io.BytesIO(png)).size == (320, 180)
    # Larger than the drawing: the x4 model ran (other pixels than Lanczos alone)...
    lanczos = plain.generate([_scene(width=320, height=180)])[0]
    assert not np.array_equal(_pixels(png), _pixels(lanczos))
    # ...not larger: it did not.
    assert backend.generate([_scene(width=64, height=64)]) == plain.generate(
        [_scene(width=64, height=64)])


def test_a_rendition_of_another_shape_is_drawn_at_its_shape(backend):
    assert drawing_size((128, 64), 1280, 640) == (128, 64)
    width, height = drawing_size((128, 64), 360, 640)  # tall: not stretched
    assert height > width and abs(width * height - 128 * 64) < 0.3 * 128 * 64
    tall = _scene(width=90, height=160, draw=(width, height))
    assert backend.drawing_size(tall) == (width, height)
    png = backend.generate([tall])[0]
    assert Image.open(io.BytesIO(png)).size == (90, 160)


def test_one_call_draws_each_group_at_its_own_size_and_steps(models):
    """Requests of one generate call that cannot share a pipeline call (other size, other
    steps) are drawn in calls of their own; a style of its own shares the call."""
    tall = _scene(2, width=90, height=160, draw=(72, 128), steps=3)
    requests = [_scene(1), tall, _scene(3, style="anime")]
    steps: list[tuple[int, int]] = []
    pngs = _backend(models).generate(requests, on_step=lambda d, t: steps.append((d, t)))
    assert steps[-1] == (5, 5)  # one call of 2 steps (scenes 1 and 3), one of 3 (scene 2)
    assert [picture_notes(p)["drawn"] for p in pngs] == ["64x64", "72x128", "64x64"]
    assert [Image.open(io.BytesIO(p)).size for p in pngs] == [(64, 64), (90, 160), (64, 64)]


LONG_SCENE = ("Dawn. The boats come back over a grey sea while the gulls circle the harbour "
              "wall, the keeper waves from the lantern gallery and the whole village runs "
              "down to the quay to count the hulls")


def test_prompts_fit_the_text_encoders_and_keep_the_style(backend):
    """Measured with the pipeline's own tokenizers (77 tokens, as SDXL's): the style words,
    written last, are inside what the encoders read; the subject comes first."""
    request = _scene(text=LONG_SCENE, style="anime")
    prompt = backend.prompt(request)
    for tokenizer in (backend.pipe.tokenizer, backend.pipe.tokenizer_2):
        assert tokenizer.model_max_length == 77
        read = tokenizer.decode(tokenizer(prompt, truncation=True).input_ids,
                                skip_special_tokens=True)
        assert read.replace(" ", "").endswith(STYLES["anime"].replace(" ", ""))
        assert len(tokenizer(prompt).input_ids) <= 77
    assert prompt.startswith("Dawn") and "count the hulls" not in prompt


def _worker_start_requests(model: str, offline: bool, tmp_path) -> list[str]:
    """The HTTP requests a fresh process sends to a hub (a counting local server) while an
    SDXL worker starts with the default safety checker, which is not in its empty cache."""
    import os
    import subprocess
    import sys

    from vidgen_ray.testing.hub import LocalHub

    code = ("from vidgen_ray.config import load_settings\n"
            "from vidgen_ray.farm.actors.image_worker import ImageWorker\n"
            f"settings = load_settings(image_model='sdxl', sdxl_model={model!r}, "
            f"offline={offline}, image_resolution='64x64')\n"
            "print(ImageWorker('sdxl', settings).ready()['backend'])\n")
    with LocalHub({}) as hub:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("VIDGEN_", "HF_", "TRANSFORMERS_"))}
        env |= {"HF_ENDPOINT": hub.url, "HF_HOME": str(tmp_path / f"hf-{offline}"),
                "OMP_NUM_THREADS": "1"}
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        assert "sdxl-2" in done.stdout
        return list(hub.requests)


def test_an_offline_worker_start_sends_nothing_to_the_hub(models, tmp_path):
    assert _worker_start_requests(models["sdxl"], True, tmp_path) == []
    # The same start online asks the hub (for the safety checker): the count is real.
    assert _worker_start_requests(models["sdxl"], False, tmp_path)
