"""The live preview's playlist, pure: contiguous growth from the start whatever order chunks
finish in, an EVENT playlist, a target duration no chunk exceeds, and its end."""

import math

import pytest

from vidgen_ray.pipeline.preview import (
    Playlist,
    continue_counters,
    segment_name,
    served_playlist,
    target_duration,
)
from vidgen_ray.timeline import Clip, Timeline


def _names(start: int) -> str:
    return segment_name(start, 24)


def test_segments_are_listed_only_once_every_one_before_them_is():
    playlist = Playlist(fps=12, target=3)
    assert playlist.add(48, 72) == []  # the third chunk first: nothing can be shown yet
    assert playlist.add(24, 48) == []
    assert playlist.add(0, 24) == [(0, 24), (24, 48), (48, 72)]  # the gap closes: all three
    assert playlist.add(96, 130) == [] and playlist.next_frame == 72
    assert playlist.add(72, 96) == [(72, 96), (96, 130)]
    assert playlist.add(24, 48) == []  # a chunk seen again lists nothing twice
    assert playlist.listed == [(0, 24), (24, 48), (48, 72), (72, 96), (96, 130)]


def test_the_playlist_is_an_event_playlist_that_ends_when_the_job_is_done():
    playlist = Playlist(fps=12, target=3)
    playlist.add(24, 48)
    assert playlist.text(_names).splitlines() == [
        "#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:3", "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:EVENT", "#EXT-X-INDEPENDENT-SEGMENTS"]  # no segment yet
    playlist.add(0, 24)
    text = playlist.text(_names)
    assert "#EXTINF:2.000000,\npreview/00000.ts\n#EXTINF:2.000000,\npreview/00001.ts\n" in text
    assert "#EXT-X-ENDLIST" not in text and "#EXT-X-DISCONTINUITY" not in text
    playlist.add(48, 66)
    playlist.end()
    lines = playlist.text(_names).splitlines()
    assert lines[-3:] == ["#EXTINF:1.500000,", "preview/00002.ts", "#EXT-X-ENDLIST"]


@pytest.mark.parametrize("chunk_seconds, fps", [(10.0, 30), (2.0, 12), (1.0, 24), (7.3, 25),
                                                (1.0, 1), (600.0, 60)])
def test_the_target_duration_covers_every_chunk_the_timeline_can_cut(chunk_seconds, fps):
    target = target_duration(chunk_seconds, fps)
    size = max(1, round(chunk_seconds * fps))
    for frames in range(1, 6 * size, max(1, size // 7)):
        timeline = Timeline(fps=fps, clips=(Clip(0, 0, frames, 0, "still"),), cues=())
        for a, b in timeline.chunks(chunk_seconds):
            # The rule HLS sets: each EXTINF, rounded to the nearest integer, <= the target.
            assert round((b - a) / fps) <= target and (b - a) / fps <= target
    assert target <= math.ceil(1.5 * chunk_seconds) + 1


def test_segments_are_named_by_their_place_in_the_video():
    assert segment_name(0, 24) == "preview/00000.ts"
    assert segment_name(240, 24) == "preview/00010.ts"


def _packet(pid: int, cc: int, payload: bool = True) -> bytes:
    afc = 0x10 if payload else 0x20
    return bytes([0x47, pid >> 8, pid & 0xFF, afc | cc]) + bytes(184)


def test_continuity_counters_go_on_from_the_segment_before():
    counters: dict[int, int] = {}
    first = b"".join(_packet(0x100, c % 16) for c in range(18)) + _packet(0x000, 0)
    continue_counters(first, counters)
    assert counters == {0x100: 1, 0x000: 0}  # 18 packets: 0..15, 0, 1
    second = _packet(0x100, 0) + _packet(0x100, 1, payload=False) + _packet(0x1FFF, 7) \
        + _packet(0x100, 1) + _packet(0x000, 0)
    out = continue_counters(second, counters)
    assert [out[i + 3] & 0x0F for i in range(0, len(out), 188)] == [2, 2, 7, 3, 1]
    assert [out[i + 3] & 0xF0 for i in range(0, len(out), 188)] == [0x10, 0x20, 0x10, 0x10, 0x10]
    with pytest.raises(ValueError, match="188-byte"):
        continue_counters(b"\x47" * 100, counters)


def test_a_client_is_served_a_playlist_from_submit_on_that_ends_with_the_job():
    """Before the first segment: an empty EVENT playlist of the job's target duration (not
    a 404), and once the job has ended, failed or cancelled included, its end."""
    waiting = served_playlist(None, 24, 2.0, ended=False).splitlines()
    assert "#EXT-X-PLAYLIST-TYPE:EVENT" in waiting and "#EXT-X-TARGETDURATION:3" in waiting
    assert not any(line.startswith("#EXTINF") or line == "#EXT-X-ENDLIST" for line in waiting)
    assert served_playlist(None, 24, 2.0, ended=True).splitlines()[-1] == "#EXT-X-ENDLIST"
    playlist = Playlist(24, 3)
    playlist.add(0, 48)
    cut = playlist.text(_names)
    assert served_playlist(cut, 24, 2.0, ended=False) == cut  # running: as written
    failed = served_playlist(cut, 24, 2.0, ended=True)
    assert failed == cut + "#EXT-X-ENDLIST\n"
    assert served_playlist(failed, 24, 2.0, ended=True) == failed  # ended once, not twice
