"""The fast Bark decoder (static KV cache; CUDA graphs on GPUs) against transformers'
``BarkModel.generate`` on the tiny random-weight model, on the CPU: greedy decoding must give
the same waveforms, through lines that end early and lines that run over several coarse
windows, with and without a voice prompt."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidgen_ray.speech.bark import BarkBackend, BarkOptions
from vidgen_ray.testing.tiny_bark import build_bark, set_eos_logit

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from vidgen_ray.speech.bark_decode import FastBark, StepDecoder, bucket  # noqa: E402

TEXTS = ["Hello there, the word is one.", "a b c", "she was at the sea and it was cold",
         "one", "it is what it is"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    torch.set_num_threads(1)
    import transformers

    transformers.logging.set_verbosity_error()
    # 120 semantic tokens: a line that never ends runs 360 coarse tokens, six windows.
    return build_bark(tmp_path_factory.mktemp("models") / "bark", max_semantic_tokens=120)


@pytest.fixture(scope="module")
def loaded(tiny):
    from transformers import BarkModel, BarkProcessor

    model = BarkModel.from_pretrained(tiny, local_files_only=True).eval()
    return model, BarkProcessor.from_pretrained(tiny, local_files_only=True)


@pytest.mark.parametrize(("eos_logit", "voice", "samples"), [
    (1.0, "v2/en_speaker_1", 4_800),   # every line ends at the minimum: 10 tokens
    (-1.0, "v2/en_speaker_2", 57_600),  # no line ends: 120 tokens, six coarse windows
    (-1.0, None, 57_600),               # no voice prompt
])
def test_greedy_tokens_and_waveforms_equal_transformers_generate(loaded, eos_logit, voice,
                                                                 samples):
    model, processor = loaded
    set_eos_logit(model, eos_logit)
    inputs = processor(TEXTS, voice_preset=voice) if voice else processor(TEXTS)
    fast = FastBark(model)
    with torch.inference_mode():
        theirs, lengths = model.generate(**inputs, do_sample=False, return_output_lengths=True,
                                         semantic_min_new_tokens=10)
        ours = fast.generate(inputs, None, min_semantic=10)
    assert [len(wave) for wave in ours] == list(lengths) == [samples] * len(TEXTS)
    for k, wave in enumerate(ours):
        assert torch.allclose(wave, theirs[k, :lengths[k]], atol=1e-5)
    assert sorted(fast._decoders) == [("coarse", 8), ("semantic", 8)]  # 5 rows pad to 8
    [(keys, _)] = fast._caches.values()  # both stages share one cache of max_batch rows
    assert keys.shape[1] == 16
    assert all(d.keys.data_ptr() == keys.data_ptr() for d in fast._decoders.values())


def test_semantic_and_coarse_stages_match_token_for_token(loaded):
    model, processor = loaded
    set_eos_logit(model, -1.0)
    inputs = processor(TEXTS[:3], voice_preset="v2/en_speaker_3")
    fast = FastBark(model)
    history = inputs["history_prompt"]
    with torch.inference_mode():
        semantic = model.semantic.generate(
            inputs["input_ids"], semantic_generation_config=fast.semantic_config,
            history_prompt=history, attention_mask=inputs["attention_mask"],
            do_sample=False, min_new_tokens=10)
        ours = fast.semantic(inputs["input_ids"], inputs["attention_mask"], history, None,
                             10, None)
        coarse, _ = model.coarse_acoustics.generate(
            semantic.clone(), semantic_generation_config=fast.semantic_config,
            coarse_generation_config=fast.coarse_config, codebook_size=1024,
            history_prompt=history, return_output_lengths=True, do_sample=False)
        ours_coarse, lengths = fast.coarse(ours, history, None)
    assert torch.equal(ours[:3], semantic)
    assert ours.shape[0] == 4 and bool((ours[3] == 10_000).all())  # the padding row: ended
    assert torch.equal(ours_coarse[:3], coarse)
    assert lengths.tolist() == [360, 360, 360, 0]


def test_sampling_draws_what_transformers_draws_from_the_same_seed(loaded):
    model, processor = loaded
    set_eos_logit(model, 5.0)  # sampled: lines end at random, different lengths
    inputs = processor(TEXTS[:4], voice_preset="v2/en_speaker_1")  # 4 rows: no padding
    with torch.inference_mode():
        torch.manual_seed(3)
        theirs, lengths = model.generate(**inputs, do_sample=True, temperature=0.7,
                                         return_output_lengths=True,
                                         semantic_min_new_tokens=10)
        torch.manual_seed(3)
        ours = FastBark(model).generate(inputs, 0.7, min_semantic=10)
    assert [len(wave) for wave in ours] == list(lengths) and len(set(lengths)) > 1
    for k, wave in enumerate(ours):
        assert torch.allclose(wave, theirs[k, :lengths[k]], atol=1e-5)


def test_sampling_is_reproducible_and_lines_end_at_their_own_length(loaded):
    model, processor = loaded
    set_eos_logit(model, 1.0)  # sampled: lines end at random, different lengths
    inputs = processor(TEXTS, voice_preset="v2/en_speaker_1")
    fast = FastBark(model)
    with torch.inference_mode():
        runs = []
        for _ in range(2):
            torch.manual_seed(7)
            runs.append(fast.generate(inputs, 0.7, min_semantic=10))
    lengths = [len(wave) for wave in runs[0]]
    assert len(set(lengths)) > 1 and all(n % 320 == 0 and n >= 4_800 for n in lengths)
    assert all(torch.equal(a, b) for a, b in zip(*runs, strict=True))


def test_the_backend_decodes_fast_by_default_and_transformers_on_request(tiny):
    fast = BarkBackend(BarkOptions(model=str(tiny), offline=True, device="cpu"))
    slow = BarkBackend(BarkOptions(model=str(tiny), offline=True, device="cpu",
                                   decoding="transformers"))
    assert "fast decoding" in fast.version() and "transformers decoding" in slow.version()
    waves = fast.generate(["one two", "the sea"], "v2/en_speaker_1")
    assert fast._fast is not None and slow._fast is None
    assert [len(w) for w in waves] == [len(w) for w in fast.generate(["one two", "the sea"],
                                                                      "v2/en_speaker_1")]
    assert all(len(w) > 0 for w in slow.generate(["one two"], "v2/en_speaker_1"))
    offload = BarkBackend(BarkOptions(model=str(tiny), cpu_offload=True))
    assert not offload._fast_decoding()  # offload hooks wrap forward(): transformers decodes


def test_a_context_past_the_cache_is_refused_by_name(loaded):
    model, _ = loaded
    decoder = StepDecoder(model.semantic, batch=1, capacity=4, graphs=False)
    embeds = torch.zeros(1, 4, model.semantic.config.hidden_size)
    with torch.inference_mode():
        decoder.prefill(embeds)
        with pytest.raises(ValueError, match="5 tokens exceeds its 4"):
            decoder.step(torch.zeros(1, dtype=torch.long))


def test_batches_pad_to_powers_of_two():
    assert [bucket(n) for n in (1, 2, 3, 5, 8, 9, 16)] == [1, 2, 4, 8, 8, 16, 16]
