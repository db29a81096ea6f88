"""Bark's pure parts: pieces that fit the ~13 s window, voice prompts checked, audio joined."""

from __future__ import annotations

import numpy as np
import pytest

from vidgen_ray.errors import SettingsError
from vidgen_ray.speech.bark_text import (
    MAX_PIECE_SECONDS,
    check_prompt,
    estimate_seconds,
    join_pieces,
    load_prompt,
    semantic_tokens,
    split_text,
    trim_silence,
)

LONG = ("The keeper climbed the stairs. He counted every step, as he had for forty years, "
        "and at the top he stopped to breathe. Outside the storm was rising! Would the lamp "
        "hold? Nobody in the village below could say, and nobody dared to ask him.")


def test_a_short_line_is_one_piece():
    assert split_text("Hello there.") == ["Hello there."]


def test_long_text_is_cut_at_sentence_ends_and_every_piece_fits():
    # Every sentence fits 8 s alone: pieces are whole sentences.
    pieces = split_text(LONG, max_seconds=8.0)
    assert len(pieces) > 2
    assert all(estimate_seconds(p) <= 8.0 for p in pieces)
    assert all(p.rstrip()[-1] in ".!?" for p in pieces)
    assert " ".join(pieces).split() == LONG.split()  # nothing lost or reordered


def test_short_sentences_are_packed_together():
    text = "Yes. No. Maybe. Why not. Go on."
    assert split_text(text) == [text]


def test_a_sentence_too_long_alone_is_cut_at_clauses_then_words():
    sentence = ", ".join(["the wind tore at the rope and the rail"] * 8) + "."
    pieces = split_text(sentence, max_seconds=5.0)
    assert len(pieces) > 1 and all(estimate_seconds(p) <= 5.0 for p in pieces)
    assert " ".join(pieces).split() == sentence.split()
    no_commas = " ".join(["word"] * 100)
    pieces = split_text(no_commas, max_seconds=5.0)
    assert all(estimate_seconds(p) <= 5.0 for p in pieces)
    assert sum(len(p.split()) for p in pieces) == 100


def test_text_without_spaces_is_cut_by_characters():
    text = "灯台守は最後の階段を上った" * 10 + "。"
    pieces = split_text(text, max_seconds=3.0)
    assert len(pieces) > 1 and all(estimate_seconds(p) <= 3.0 for p in pieces)
    assert "".join(pieces) == text


def test_short_sentences_without_spaces_are_packed_without_adding_spaces():
    text = "灯台守は階段を上った。" * 3
    assert split_text(text) == [text]
    pieces = split_text("灯台守は階段を上った。" * 20, max_seconds=4.0)
    assert len(pieces) > 1 and "".join(pieces) == "灯台守は階段を上った。" * 20


def test_default_window_is_barks():
    assert MAX_PIECE_SECONDS <= 13.0
    assert all(estimate_seconds(p) <= 13.0 for p in split_text(LONG * 3))


def test_semantic_tokens_follow_barks_rate():
    assert semantic_tokens(5.0) == 250  # 49.9 per second
    assert semantic_tokens(0.0) == 1


def prompt(semantic=40, frames=60) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {"semantic_prompt": rng.integers(0, 10_000, semantic),
            "coarse_prompt": rng.integers(0, 1024, (2, frames)),
            "fine_prompt": rng.integers(0, 1024, (8, frames))}


def test_a_good_prompt_passes_as_int64():
    checked = check_prompt(prompt(), "mine.npz")
    assert {a.dtype for a in checked.values()} == {np.dtype(np.int64)}


@pytest.mark.parametrize(("change", "message"), [
    (lambda p: p.pop("fine_prompt"), "lacks fine_prompt"),
    (lambda p: p.update(semantic_prompt=np.zeros((2, 3), dtype=np.int64)), "semantic_prompt"),
    (lambda p: p.update(coarse_prompt=np.zeros((3, 60), dtype=np.int64)), "3 codebooks"),
    (lambda p: p.update(fine_prompt=np.zeros((8, 60), dtype=np.float32)), "float32"),
    (lambda p: p.update(coarse_prompt=np.full((2, 60), 4096)), "outside 0..1023"),
    (lambda p: p.update(fine_prompt=np.zeros((8, 59), dtype=np.int64)), "differ in length"),
])
def test_a_wrong_prompt_names_the_problem_and_the_fix(change, message):
    arrays = prompt()
    change(arrays)
    with pytest.raises(SettingsError) as error:
        check_prompt(arrays, "mine.npz")
    assert message in str(error.value) and "mine.npz" in str(error.value)
    assert "semantic_prompt (N,), coarse_prompt (2, M) and fine_prompt (8, M)" in str(error.value)


def test_prompt_files_load_or_say_why_not(tmp_path):
    good = tmp_path / "voice.npz"
    np.savez(good, **prompt())
    assert load_prompt(str(good))["fine_prompt"].shape == (8, 60)
    with pytest.raises(SettingsError, match="does not exist"):
        load_prompt(str(tmp_path / "absent.npz"))
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip file at all")
    with pytest.raises(SettingsError, match="not a readable .npz"):
        load_prompt(str(junk))


def test_silence_is_trimmed_at_both_ends_and_pieces_get_a_pause():
    rate = 1000
    tone = np.full(100, 0.5, dtype=np.float32)
    padded = np.concatenate([np.zeros(300, np.float32), tone, np.zeros(200, np.float32)])
    trimmed = trim_silence(padded, rate)
    assert len(trimmed) == 100 + 2 * 20  # the tone and 20 ms either side
    joined = join_pieces([padded, padded], rate, pause=0.25)
    assert len(joined) == 2 * 140 + 250
    assert join_pieces([np.zeros(50, np.float32)], rate).size == 0
