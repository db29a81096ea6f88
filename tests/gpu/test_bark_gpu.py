"""Bark on a CUDA GPU (marker ``gpu``; skipped without CUDA): fp16 by default, CPU offload,
FlashAttention-2 refused or used, through the same loader as on CPU (tiny model)."""

from __future__ import annotations

import importlib.util
import shutil

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]

from vidgen_ray.errors import DependencyError  # noqa: E402
from vidgen_ray.speech.bark import BarkBackend, BarkOptions  # noqa: E402
from vidgen_ray.speech.base import SpeechRequest  # noqa: E402
from vidgen_ray.testing.tiny_bark import build_bark  # noqa: E402


@pytest.fixture(scope="module")
def tiny_bark(tmp_path_factory):
    return build_bark(tmp_path_factory.mktemp("models") / "bark")


def test_fp16_on_cuda_by_default_and_batches_trim(tiny_bark):
    backend = BarkBackend(BarkOptions(model=str(tiny_bark), offline=True))
    backend.load()
    model = backend.model()
    assert model.device.type == "cuda"
    assert next(model.parameters()).dtype == torch.float16
    outputs = backend.generate(["Hello there.", "the word is a b c", "one"], "v2/en_speaker_1")
    assert all(len(o) > 0 and np.isfinite(o).all() for o in outputs)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="finishing a line needs ffmpeg")
def test_a_line_is_finished_at_48_khz_on_the_gpu(tiny_bark):
    backend = BarkBackend(BarkOptions(model=str(tiny_bark), offline=True))
    [speech] = backend.synthesize([SpeechRequest("Hello there.", "v2/en_speaker_0", "en")])
    assert speech.sample_rate == 48_000 and speech.duration > 0


def test_cpu_offload_keeps_weights_off_the_gpu_until_used(tiny_bark):
    backend = BarkBackend(BarkOptions(model=str(tiny_bark), offline=True, cpu_offload=True))
    backend.load()
    assert next(backend.model().fine_acoustics.parameters()).device.type == "cpu"
    outputs = backend.generate(["Hello there."], "v2/en_speaker_1")
    assert len(outputs[0]) > 0


def test_flash_attention_is_used_or_refused_clearly(tiny_bark):
    options = BarkOptions(model=str(tiny_bark), offline=True, attention="flash")
    if importlib.util.find_spec("flash_attn") is None:
        with pytest.raises(DependencyError, match="flash-attn"):
            BarkBackend(options).load()
        return
    backend = BarkBackend(options)
    assert len(backend.generate(["Hello there."], "v2/en_speaker_1")[0]) > 0


def test_cuda_graph_decoding_gives_the_eager_and_transformers_tokens(tiny_bark):
    from transformers import BarkModel, BarkProcessor

    from vidgen_ray.speech.bark_decode import FastBark
    from vidgen_ray.testing.tiny_bark import set_eos_logit

    model = BarkModel.from_pretrained(tiny_bark, local_files_only=True).to("cuda").eval()
    set_eos_logit(model, -1.0)  # no line ends: every coarse window runs
    processor = BarkProcessor.from_pretrained(tiny_bark, local_files_only=True)
    texts = ["Hello there.", "the word is a b c", "one"]
    inputs = processor(texts, voice_preset="v2/en_speaker_1").to("cuda")
    with torch.inference_mode():
        graphs = FastBark(model, graphs=True)
        waves = graphs.generate(inputs, None, min_semantic=10)
        eager = FastBark(model, graphs=False).generate(inputs, None, min_semantic=10)
        theirs, lengths = model.generate(**inputs, do_sample=False, return_output_lengths=True,
                                         semantic_min_new_tokens=10)
        torch.manual_seed(5)
        sampled = graphs.generate(inputs, 0.7, min_semantic=10)
        torch.manual_seed(5)
        again = graphs.generate(inputs, 0.7, min_semantic=10)
    assert all(d.graph is not None for d in graphs._decoders.values())
    assert [len(w) for w in waves] == list(lengths)
    for k, wave in enumerate(waves):
        assert torch.equal(wave, eager[k])
        assert torch.allclose(wave, theirs[k, :lengths[k]], atol=1e-4)
    assert all(torch.equal(a, b) for a, b in zip(sampled, again, strict=True))


def test_fast_decoding_in_fp16_through_the_backend(tiny_bark):
    backend = BarkBackend(BarkOptions(model=str(tiny_bark), offline=True))
    assert "fp16" in backend.version() or "float16" in backend.version()
    outputs = backend.generate(["Hello there.", "one", "a b c", "two words", "the sea"],
                               "v2/en_speaker_1")
    assert backend._fast is not None and backend._fast.graphs
    assert all(len(o) > 0 and np.isfinite(o).all() for o in outputs)
