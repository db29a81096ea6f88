"""Measure a video with ffprobe and one ffmpeg pass, judge it (report.py) and write qc.json.

One decode of the file feeds blackdetect and freezedetect on the picture and ebur128 and
silencedetect on the sound; with a speech stem beside it, silence is measured there instead
(the mix holds music and ambience under speech, so a gap in a line shows in the stem).
"""

from __future__ import annotations

import json
from pathlib import Path

from vidgen_ray.errors import InputError, VidgenError
from vidgen_ray.pipeline.qc import report as rules
from vidgen_ray.pipeline.qc.parse import (
    SrtCue,
    parse_black,
    parse_ebur128,
    parse_freeze,
    parse_silence,
    parse_srt,
)
from vidgen_ray.programs import ffmpeg, probe

SILENCE_FILTER = f"silencedetect=n={rules.SILENCE_FLOOR}dB:d={rules.MIN_SILENCE}"


def measure(video: Path, speech: Path | None = None) -> rules.Measurements:
    """Everything report.py judges, measured from the file (and the speech stem)."""
    info = _probe(video)
    streams = info.get("streams", [])
    duration = float(info.get("format", {}).get("duration") or 0)
    kinds = {s.get("codec_type") for s in streams}
    args = ["-nostats", "-i", str(video)]
    if "video" in kinds:
        args += ["-vf", f"blackdetect=d={rules.MIN_BLACK}:pix_th=0.10,"
                        f"freezedetect=n=-60dB:d={rules.MIN_FREEZE}"]
    if "audio" in kinds:
        args += ["-af", f"ebur128=peak=true:framelog=verbose,{SILENCE_FILTER}"]
    log = ffmpeg([*args, "-f", "null", "-"], timeout=600 + 4 * duration, loglevel="info")
    silence_log = log
    if speech is not None:
        silence_log = ffmpeg(["-nostats", "-i", str(speech), "-af", SILENCE_FILTER,
                              "-f", "null", "-"], timeout=600 + duration, loglevel="info")
    return rules.Measurements(
        duration=duration, streams=streams,
        loudness=parse_ebur128(log) if "audio" in kinds else None,
        black=parse_black(log, duration), frozen=parse_freeze(log, duration),
        silences=parse_silence(silence_log, duration))


def _probe(video: Path) -> dict:
    if not video.is_file():
        raise InputError(f"{video} does not exist: give the path of a video file")
    try:
        return probe(video)
    except VidgenError as exc:
        raise InputError(f"{video.name} is not a media file ffprobe can read: "
                         f"{str(exc)[-200:]}") from exc


def read_srt(path: Path) -> list[SrtCue]:
    try:
        return parse_srt(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise InputError(f"{path} does not exist: give the path of an .srt file") from None
    except UnicodeDecodeError:
        raise InputError(f"{path.name} is not UTF-8 text: save the subtitles as UTF-8") from None


def subtitle_issues(cues: list[SrtCue], fps: float, scene_cuts: tuple[float, ...] = (),
                    max_cps: float = 17.0) -> list[dict]:
    """The timed-text rules (subtitle_rules.check_cues) broken by the cues."""
    from vidgen_ray.pipeline.subtitle_rules import check_cues

    found = check_cues([(c.start, c.end, c.text) for c in cues], fps=fps, max_cps=max_cps,
                       scene_cuts=scene_cuts)
    return [{"cue": cues[i.index].index if i.index < len(cues) else i.index + 1,
             "rule": i.rule, "message": i.message} for i in found]


def run_qc(video: Path, *, subtitles: Path | None = None, target: str | float = "podcast",
           scene_cuts: tuple[float, ...] = (), speech: Path | None = None,
           max_cps: float = 17.0) -> dict:
    """qc.json's dict for a video (and its subtitles)."""
    measured = measure(video, speech)
    cues = read_srt(subtitles) if subtitles is not None else None
    issues = None
    if cues is not None:
        video_stream = next((s for s in measured.streams if s.get("codec_type") == "video"),
                            {})
        fps = rules.fps_of(video_stream) or 30.0
        issues = subtitle_issues(cues, fps, scene_cuts, max_cps)
    return rules.build_report(measured, file=video.name, target=rules.target_for(target),
                              cues=cues, subtitle_file=subtitles.name if subtitles else None,
                              subtitle_issues=issues)


def write_report(report: dict, path: Path) -> None:
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
