"""Each spoken line's length is known once: from the WAV as it is stored, or read once."""

import numpy as np
import pytest

from vidgen_ray.errors import RenderError
from vidgen_ray.pipeline.soundtrack import speech_track
from vidgen_ray.pipeline.speech_parts import LineLengths
from vidgen_ray.speech.base import Speech
from vidgen_ray.storage import LocalStore, content_key

OLD, NEW = content_key("speech", line=1), content_key("speech", line=2)
A, B = content_key("speech", line=3), content_key("speech", line=4)


class CountingStore(LocalStore):
    def __init__(self, root):
        super().__init__(root)
        self.reads = 0

    def get(self, key: str) -> bytes:
        self.reads += 1
        return super().get(key)


def _wav(seconds: float, rate: int = 16000) -> bytes:
    return Speech(np.ones(round(seconds * rate), dtype=np.int16), rate).to_wav()


def test_a_line_made_now_is_never_read_back_and_one_stored_before_once(tmp_path):
    store = CountingStore(tmp_path)
    store.put(OLD, _wav(2.0))
    lengths = LineLengths(store)
    lengths.note(NEW, _wav(0.5))
    assert lengths.duration(NEW) == 0.5 and store.reads == 0
    assert lengths.duration(OLD) == 2.0 and store.reads == 1
    lengths.duration(OLD)
    lengths.check_one_rate([OLD, NEW])
    assert store.reads == 1


def test_lines_at_two_sample_rates_cannot_be_mixed(tmp_path):
    lengths = LineLengths(LocalStore(tmp_path))
    lengths.note(A, _wav(0.5, 16000))
    lengths.note(B, _wav(0.5, 24000))
    with pytest.raises(RenderError, match="several sample rates") as raised:
        lengths.check_one_rate([A, B])
    assert raised.value.stage == "audio"


def test_the_mix_lays_each_line_at_its_cue():
    rate = 1000
    line = Speech(np.full(100, 7, dtype=np.int16), rate).to_wav()
    track = Speech.from_wav(speech_track([line, line], [0.5, 1.0], 2.0))
    assert track.sample_rate == rate and len(track.samples) == 2001
    assert track.samples[499] == 0 and track.samples[500] == 7 and track.samples[1099] == 7
    assert track.samples[600:1000].sum() == 0
