"""The QC report's pure parts: FFmpeg's filter output and SRT read into numbers, and the
numbers judged against the delivery targets."""

from __future__ import annotations

import math

import pytest

from vidgen_ray.errors import InputError
from vidgen_ray.pipeline.qc import report
from vidgen_ray.pipeline.qc.parse import (
    Loudness,
    SrtCue,
    Stretch,
    parse_black,
    parse_ebur128,
    parse_freeze,
    parse_silence,
    parse_srt,
)

# What ffmpeg 5.1 printed (-v info -nostats) for a 6 s file with a black, frozen and silent
# middle; the progress line run into a report is as ffmpeg writes it without -nostats.
LOG = """\
[freezedetect @ 0x56523eaa94c0] lavfi.freezedetect.freeze_start: 2
[silencedetect @ 0x56523ea11a40] silence_start: 3.008
[blackdetect @ 0x56523e60d540] black_start:2 black_end:4.04 black_duration:2.04
[freezedetect @ 0x56523eaa94c0] lavfi.freezedetect.freeze_duration: 2.04
[freezedetect @ 0x56523eaa94c0] lavfi.freezedetect.freeze_end: 4.04
frame=  118 fps=0.0 q=-0.0 size=N/A time=00:00:04.80 bitrate=N/A speed= 4.9x    \
[silencedetect @ 0x56523ea11a40] silence_end: 5.01327 | silence_duration: 2.00527
[Parsed_ebur128_0 @ 0x56523e9b3880] Summary:

  Integrated loudness:
    I:         -22.1 LUFS
    Threshold: -32.2 LUFS

  Loudness range:
    LRA:         4.5 LU
    Threshold: -44.3 LUFS
    LRA low:   -26.6 LUFS
    LRA high:  -22.1 LUFS

  True peak:
    Peak:      -16.1 dBFS
"""

STREAMS = [
    {"codec_type": "video", "codec_name": "h264", "pix_fmt": "yuv420p", "avg_frame_rate": "30/1",
     "color_primaries": "bt709", "color_transfer": "bt709", "color_space": "bt709",
     "duration": "10.000000"},
    {"codec_type": "audio", "codec_name": "aac", "sample_rate": "48000",
     "duration": "10.021333"},
]


def test_ebur128_summary():
    assert parse_ebur128(LOG) == Loudness(integrated=-22.1, range=4.5, true_peak=-16.1)


def test_ebur128_of_silence_reads_minus_infinity():
    silent = LOG.replace("-22.1 LUFS\n    Threshold: -32.2", "-inf LUFS\n    Threshold: -70.0")
    silent = silent.replace("Peak:      -16.1", "Peak:       -inf")
    loudness = parse_ebur128(silent)
    assert loudness.integrated == -math.inf and loudness.true_peak == -math.inf


def test_no_ebur128_summary_is_a_clear_error():
    with pytest.raises(InputError, match="no summary"):
        parse_ebur128("[blackdetect @ 0x1] black_start:0 black_end:1 black_duration:1")


def test_black_freeze_and_silence_stretches():
    assert parse_black(LOG, 6.0) == [Stretch(2.0, 4.04)]
    assert parse_freeze(LOG, 6.0) == [Stretch(2.0, 4.04)]
    assert parse_silence(LOG, 6.0) == [Stretch(3.008, 5.01327)]


def test_a_stretch_open_at_the_end_of_the_file_ends_there():
    log = "[silencedetect @ 0x1] silence_start: 1\n[silencedetect @ 0x1] silence_end: 2 | x\n" \
          "[silencedetect @ 0x1] silence_start: 7.5\n"
    assert parse_silence(log, 9.0) == [Stretch(1.0, 2.0), Stretch(7.5, 9.0)]
    assert parse_freeze("lavfi.freezedetect.freeze_start: 3", 10.0) == [Stretch(3.0, 10.0)]


def test_srt_cues_with_bom_crlf_and_dots():
    text = ("\ufeff1\r\n00:00:01,000 --> 00:00:02,500\r\nHello there,\r\nfriend.\r\n\r\n"
            "2\r\n00:01:02.05 --> 00:01:03.3\r\nAgain.\r\n")
    assert parse_srt(text) == [SrtCue(1, 1.0, 2.5, "Hello there,\nfriend."),
                               SrtCue(2, 62.05, 63.3, "Again.")]


def test_srt_without_a_time_line_names_the_block():
    with pytest.raises(InputError, match="subtitle block 2 has no"):
        parse_srt("1\n00:00:01,000 --> 00:00:02,000\nOK\n\n2\nno time here\n")


def test_targets_by_name_or_number():
    assert report.target_for("web") == ("web", -14.0)
    assert report.target_for(-23) == ("broadcast", -23.0)
    assert report.target_for("-18") == ("custom", -18.0)
    with pytest.raises(InputError, match="web, podcast, broadcast"):
        report.target_for("loud")


def measurements(**changes) -> report.Measurements:
    base = {"duration": 10.0, "streams": STREAMS,
            "loudness": Loudness(integrated=-16.2, range=3.0, true_peak=-1.8)}
    return report.Measurements(**{**base, **changes})


def checks(found: dict) -> list[str]:
    return [v["check"] for v in found["violations"]]


def test_a_clean_file_passes():
    found = report.build_report(measurements(), file="v.mp4", target=("podcast", -16.0))
    assert found["passed"] and found["violations"] == []
    assert found["loudness"]["targets"]["podcast"]["ok"]
    assert not found["loudness"]["targets"]["web"]["ok"]
    assert found["streams"]["tolerance"] == pytest.approx(1 / 30 + 2048 / 48000, abs=1e-3)


def test_loudness_off_target_and_a_hot_true_peak():
    loud = Loudness(integrated=-9.0, range=2.0, true_peak=0.3)
    found = report.build_report(measurements(loudness=loud), file="v.mp4",
                                target=("podcast", -16.0))
    messages = [v["message"] for v in found["violations"]]
    assert checks(found) == ["loudness", "loudness"]
    assert "-9.0 LUFS is more than 1 LU from the target -16" in messages[0]
    assert "true peak 0.3 dBTP is above -1 dBTP" in messages[1]
    assert report.build_report(measurements(loudness=loud), file="v.mp4",
                               target=("web", -14.0))["loudness"]["targets"]["web"]["ok"] is False


def test_short_black_and_freeze_are_normal_long_ones_are_flagged():
    found = report.build_report(
        measurements(black=[Stretch(3.0, 3.4), Stretch(5.0, 7.0)],
                     frozen=[Stretch(0.0, 6.0), Stretch(10.0, 21.0)]),
        file="v.mp4", target=("podcast", -16.0))
    assert found["black"] == [{"start": 5.0, "end": 7.0, "duration": 2.0}]
    assert found["frozen"] == [{"start": 10.0, "end": 21.0, "duration": 11.0}]
    assert checks(found) == ["black", "frozen"]


def test_silence_counts_only_inside_a_cue():
    cues = [SrtCue(1, 1.0, 4.0, "one"), SrtCue(2, 6.0, 9.5, "two")]
    silences = [Stretch(3.5, 6.2), Stretch(6.5, 9.0)]  # a pause between lines, a gap in one
    found = report.build_report(measurements(silences=silences), file="v.mp4",
                                target=("podcast", -16.0), cues=cues, subtitle_file="s.srt",
                                subtitle_issues=[])
    assert found["silence_in_speech"] == [{"start": 6.5, "end": 9.0, "duration": 2.5}]
    assert checks(found) == ["silence"]
    assert found["subtitles"] == {"file": "s.srt", "cues": 2, "issues": []}


def test_subtitle_issues_are_violations():
    issue = {"cue": 3, "rule": "min_duration", "message": "on screen 0.30 s"}
    found = report.build_report(measurements(), file="v.mp4", target=("podcast", -16.0),
                                cues=[], subtitle_issues=[issue])
    assert found["violations"] == [{"check": "subtitles", "message": "cue 3: on screen 0.30 s"}]


def test_wrong_codec_untagged_colour_and_drifting_audio():
    streams = [{**STREAMS[0], "codec_name": "hevc", "color_primaries": None,
                "pix_fmt": "yuv444p"},
               {**STREAMS[1], "sample_rate": "44100", "duration": "10.5"}]
    found = report.build_report(measurements(streams=streams), file="v.mp4",
                                target=("podcast", -16.0))
    messages = " | ".join(v["message"] for v in found["violations"])
    assert "video codec_name is hevc, not h264" in messages
    assert "video pix_fmt is yuv444p, not yuv420p" in messages
    assert "video color_primaries is not set, not bt709" in messages
    assert "audio sample_rate is 44100, not 48000" in messages
    assert "audio lasts 10.500 s and video 10.000 s" in messages


def test_no_audio_stream_is_a_violation():
    found = report.build_report(measurements(streams=STREAMS[:1], loudness=None),
                                file="v.mp4", target=("podcast", -16.0))
    assert [v["message"] for v in found["violations"]] == ["no audio stream"]


def test_summary_names_the_verdict_loudness_and_first_violations():
    loud = Loudness(integrated=-9.0, range=2.0, true_peak=0.3)
    found = report.build_report(measurements(loudness=loud, black=[Stretch(1, 3)]),
                                file="v.mp4", target=("web", -14.0))
    lines = report.summary(found, limit=2)
    assert lines[0] == "QC 3 violation(s) (target web -14 LUFS)"
    assert lines[1] == "  loudness -9.0 LUFS, range 2.0 LU, true peak 0.3 dBTP"
    assert lines[-1] == "  ... and 1 more in qc.json"
