"""Pure: measurements of a video judged against delivery targets, as qc.json's dict and a
short summary.

What counts as a violation, and why these thresholds:
- loudness: integrated loudness more than 1 LU from the target (web -14, podcast -16,
  broadcast -23 LUFS, or a render's own --loudness), true peak above -1 dBTP;
- black: a fully black stretch of 1 s or more (a fade through black between two scenes
  is black for a few frames only);
- frozen: a picture that does not change for 10 s or more. A still with a slow camera
  move changes very little from frame to frame, and a storyboard card shown without a
  move does not change at all, so shorter still stretches are normal in these videos;
- silence inside speech: 2 s or more below -50 dBFS while a subtitle cue is shown (a line
  is on screen and nothing is heard);
- duration: audio and video streams differing by more than one frame plus AAC's padding
  (2048 samples: the encoder's priming plus one partial frame);
- format: H.264 in yuv420p tagged BT.709 (primaries, transfer, matrix), AAC at 48 kHz;
- subtitles: every rule subtitle_rules reports for the cues.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vidgen_ray.errors import InputError
from vidgen_ray.pipeline.qc.parse import Loudness, SrtCue, Stretch, finite

TARGETS = {"web": -14.0, "podcast": -16.0, "broadcast": -23.0}
LOUDNESS_TOLERANCE = 1.0  # LU either side of the target
MAX_TRUE_PEAK = -1.0  # dBTP
MIN_BLACK = 1.0  # seconds
MIN_FREEZE = 10.0
MIN_SILENCE = 2.0
SILENCE_FLOOR = -50  # dBFS
AAC_PADDING = 2048  # samples
EXPECTED = {
    "video": {"codec_name": "h264", "pix_fmt": "yuv420p", "color_primaries": "bt709",
              "color_transfer": "bt709", "color_space": "bt709"},
    "audio": {"codec_name": "aac", "sample_rate": "48000"},
}


@dataclass
class Measurements:
    """What measure.py found in one file."""

    duration: float
    streams: list[dict]
    loudness: Loudness | None = None
    black: list[Stretch] = field(default_factory=list)
    frozen: list[Stretch] = field(default_factory=list)
    silences: list[Stretch] = field(default_factory=list)


def target_for(name_or_lufs: str | float) -> tuple[str, float]:
    """('podcast', -16.0) from a preset name or a number of LUFS."""
    if isinstance(name_or_lufs, str) and name_or_lufs in TARGETS:
        return name_or_lufs, TARGETS[name_or_lufs]
    try:
        lufs = float(name_or_lufs)
    except ValueError:
        raise InputError(f"unknown loudness target {name_or_lufs!r}: use web, podcast, "
                         "broadcast or a number of LUFS such as -16") from None
    name = next((n for n, v in TARGETS.items() if v == lufs), "custom")
    return name, lufs


def _stretches(found: list[Stretch]) -> list[dict]:
    return [{"start": round(s.start, 3), "end": round(s.end, 3),
             "duration": round(s.duration, 3)} for s in found]


def silence_in_speech(silences: list[Stretch], cues: list[SrtCue]) -> list[Stretch]:
    """The parts of each silence that fall inside a cue, where at least MIN_SILENCE long."""
    found = []
    for silence in silences:
        for cue in cues:
            start, end = max(silence.start, cue.start), min(silence.end, cue.end)
            if end - start >= MIN_SILENCE:
                found.append(Stretch(start, end))
    return found


def _stream(streams: list[dict], kind: str) -> dict | None:
    return next((s for s in streams if s.get("codec_type") == kind), None)


def fps_of(video: dict) -> float:
    num, _, den = str(video.get("avg_frame_rate") or video.get("r_frame_rate", "0/1")) \
        .partition("/")
    try:
        return float(num) / float(den or 1)
    except (ValueError, ZeroDivisionError):
        return 0.0


def check_format(streams: list[dict]) -> tuple[dict, list[str]]:
    """Codec and colour tags of the first video and audio streams, and what is off."""
    found, problems = {}, []
    for kind, wanted in EXPECTED.items():
        stream = _stream(streams, kind)
        if stream is None:
            problems.append(f"no {kind} stream")
            continue
        found[kind] = {key: stream.get(key) for key in wanted}
        problems += [f"{kind} {key} is {stream.get(key) or 'not set'}, not {value}"
                     for key, value in wanted.items() if str(stream.get(key)) != value]
    return found, problems


def check_duration(streams: list[dict]) -> tuple[dict, str | None]:
    video, audio = _stream(streams, "video"), _stream(streams, "audio")
    if video is None or audio is None:
        return {}, None
    fps, rate = fps_of(video), int(audio.get("sample_rate") or 48000)
    v, a = float(video.get("duration") or 0), float(audio.get("duration") or 0)
    tolerance = (1 / fps if fps else 0) + AAC_PADDING / rate
    info = {"video": round(v, 3), "audio": round(a, 3), "difference": round(a - v, 3),
            "tolerance": round(tolerance, 3)}
    if abs(a - v) > tolerance:
        return info, (f"audio lasts {a:.3f} s and video {v:.3f} s: {abs(a - v):.3f} s apart, "
                      f"more than {tolerance:.3f} s (a frame plus AAC padding)")
    return info, None


def loudness_report(loudness: Loudness, lufs: float) -> tuple[dict, list[str]]:
    problems = []
    if abs(loudness.integrated - lufs) > LOUDNESS_TOLERANCE:
        problems.append(f"integrated loudness {loudness.integrated:.1f} LUFS is more than "
                        f"{LOUDNESS_TOLERANCE:g} LU from the target {lufs:g} LUFS")
    if loudness.true_peak > MAX_TRUE_PEAK:
        problems.append(f"true peak {loudness.true_peak:.1f} dBTP is above "
                        f"{MAX_TRUE_PEAK:g} dBTP")
    info = {"integrated": finite(loudness.integrated), "range": finite(loudness.range),
            "true_peak": finite(loudness.true_peak),
            "targets": {name: {"lufs": value,
                               "ok": abs(loudness.integrated - value) <= LOUDNESS_TOLERANCE
                               and loudness.true_peak <= MAX_TRUE_PEAK}
                        for name, value in TARGETS.items()}}
    return info, problems


def build_report(m: Measurements, *, file: str, target: tuple[str, float],
                 cues: list[SrtCue] | None = None, subtitle_file: str | None = None,
                 subtitle_issues: list[dict] | None = None) -> dict:
    """qc.json: every measurement, and the violations among them."""
    violations: list[dict] = []

    def flag(check: str, messages: list[str]) -> None:
        violations.extend({"check": check, "message": text} for text in messages)

    report: dict = {"file": file, "duration": round(m.duration, 3),
                    "target": {"name": target[0], "lufs": target[1],
                               "tolerance": LOUDNESS_TOLERANCE,
                               "max_true_peak": MAX_TRUE_PEAK}}
    if m.loudness is not None:
        report["loudness"], problems = loudness_report(m.loudness, target[1])
        flag("loudness", problems)
    report["format"], problems = check_format(m.streams)
    flag("format", problems)
    report["streams"], problem = check_duration(m.streams)
    flag("duration", [problem] if problem else [])
    black = [s for s in m.black if s.duration >= MIN_BLACK]
    frozen = [s for s in m.frozen if s.duration >= MIN_FREEZE]
    report["black"], report["frozen"] = _stretches(black), _stretches(frozen)
    flag("black", [f"black from {s.start:.2f} s to {s.end:.2f} s" for s in black])
    flag("frozen", [f"picture frozen from {s.start:.2f} s to {s.end:.2f} s" for s in frozen])
    if cues is not None:
        quiet = silence_in_speech(m.silences, cues)
        report["silence_in_speech"] = _stretches(quiet)
        flag("silence", [f"silent from {s.start:.2f} s to {s.end:.2f} s while a subtitle "
                         "is shown" for s in quiet])
        report["subtitles"] = {"file": subtitle_file, "cues": len(cues),
                               "issues": subtitle_issues or []}
        flag("subtitles", [f"cue {i['cue']}: {i['message']}" for i in subtitle_issues or []])
    report["thresholds"] = {"black_s": MIN_BLACK, "frozen_s": MIN_FREEZE,
                            "silence_s": MIN_SILENCE, "silence_floor_dbfs": SILENCE_FLOOR}
    report["violations"] = violations
    report["passed"] = not violations
    return report


def summary(report: dict, limit: int = 8) -> list[str]:
    """A few lines for a terminal: the verdict, the loudness, and the first violations."""
    target = report["target"]
    verdict = "passed" if report["passed"] else f"{len(report['violations'])} violation(s)"
    lines = [f"QC {verdict} (target {target['name']} {target['lufs']:g} LUFS)"]
    loud = report.get("loudness")
    if loud:
        lines.append(f"  loudness {_num(loud['integrated'])} LUFS, range "
                     f"{_num(loud['range'])} LU, true peak {_num(loud['true_peak'])} dBTP")
    lines += [f"  {v['check']}: {v['message']}" for v in report["violations"][:limit]]
    if len(report["violations"]) > limit:
        lines.append(f"  ... and {len(report['violations']) - limit} more in qc.json")
    return lines


def _num(value: float | None) -> str:
    return "-inf" if value is None else f"{value:.1f}"
