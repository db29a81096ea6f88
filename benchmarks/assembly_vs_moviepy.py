"""Our assembly against MoviePy 2.x, the way script-to-video tools commonly assemble: the
same 60 s, 12-scene, 1280x720 30 fps video from the same stills and the same speech, with
0.5 s crossfades, the same x264 preset and CRF and the same AAC bitrate.

Ours: the chunk filter graphs of assembly.py (with their Ken Burns camera moves, which
MoviePy here does without), 10 s chunks encoded in parallel (one FFmpeg thread each, one
per core), joined with -c copy and muxed with the speech. MoviePy: an ImageClip per scene,
CrossFadeIn, concatenate_videoclips(padding=-0.5, method="compose"), the speech as its
audio, write_videofile with every core. Run one after the other in one process; prints a
table and writes benchmarks/results/assembly_vs_moviepy.json (keys ours_s, moviepy_s,
ratio, sizes, machine). MoviePy comes from the `bench` extra.

    .venv/bin/python benchmarks/assembly_vs_moviepy.py
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from machine import machine  # benchmarks/machine.py (a script's folder is on sys.path)

sys.path.insert(0, str(Path(__file__).parent))  # run as a script: sibling modules

from chunked_encode import SCENES  # noqa: E402
from chunked_encode import build as same_video_as_chunked_encode  # noqa: E402

from vidgen_ray.config import RenderSettings
from vidgen_ray.pipeline import assembly  # noqa: E402
from vidgen_ray.programs import ffmpeg, probe

SETTINGS = RenderSettings()  # 1280x720, 30 fps, x264 veryfast, CRF 20
SPEECH = ("The keeper climbed the stair each evening and lit the lamp. Ships passed in the "
          "dark and never knew his name. ") * 8


def build(folder: Path):
    timeline, stills = same_video_as_chunked_encode(folder)  # 12 scenes, 60 s, 0.5 s dissolves
    # One speech track for both: espeak-ng, cut or padded to the video's length.
    raw = folder / "raw.wav"
    subprocess.run(["espeak-ng", "-w", str(raw), SPEECH], check=True)
    speech = folder / "speech.wav"
    ffmpeg(["-i", str(raw), "-af", f"apad,atrim=0:{timeline.duration}", "-ar", "48000",
            "-ac", "2", str(speech)])
    return timeline, stills, speech


def ours(timeline, stills, speech: Path, folder: Path) -> Path:
    cores = os.cpu_count() or 1
    ranges = timeline.chunks(10.0)

    def encode(r):
        out = folder / f"c{r[0]}.mp4"
        needed = {s: stills[s] for s in assembly.scenes_in(timeline, r[0], r[1])}
        ffmpeg(assembly.chunk_args(timeline, r[0], r[1], needed, SETTINGS, out))
        return out

    with ThreadPoolExecutor(cores) as pool:  # threads wait on ffmpeg processes
        parts = list(pool.map(encode, ranges))
    listing = folder / "list.ffconcat"
    listing.write_text(assembly.concat_list(
        [(p, (b - a) / timeline.fps) for p, (a, b) in zip(parts, ranges, strict=True)]))
    video = folder / "ours.mp4"
    ffmpeg(assembly.mux_args(listing, speech, video, "benchmark"))
    return video


def moviepy(timeline, stills, speech: Path, folder: Path) -> Path:
    from moviepy import AudioFileClip, ImageClip, concatenate_videoclips, vfx

    fade = 0.5
    clips = []
    for n, clip in enumerate(timeline.clips):
        still = ImageClip(str(stills[clip.scene])).with_duration(clip.frames / timeline.fps)
        clips.append(still.with_effects([vfx.CrossFadeIn(fade)]) if n else still)
    video = concatenate_videoclips(clips, method="compose", padding=-fade)
    video = video.with_audio(AudioFileClip(str(speech)))
    out = folder / "moviepy.mp4"
    video.write_videofile(str(out), fps=timeline.fps, codec="libx264",
                          preset=SETTINGS.x264_preset, audio_codec="aac",
                          audio_bitrate=assembly.AAC_BITRATE, threads=os.cpu_count(),
                          ffmpeg_params=["-crf", str(SETTINGS.crf), "-pix_fmt", "yuv420p"],
                          logger=None)
    return out


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the ffmpeg processes)."""
    own, children = (resource.getrusage(who) for who in
                     (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(make, *args) -> tuple[float, float, Path]:
    """Wall seconds, CPU seconds (less sensitive to other load on a shared machine), result."""
    started, cpu = time.perf_counter(), cpu_seconds()
    out = make(*args)
    return time.perf_counter() - started, cpu_seconds() - cpu, out


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        timeline, stills, speech = build(folder)
        load = os.getloadavg()[0]
        ours_s, ours_cpu, ours_mp4 = timed(ours, timeline, stills, speech, folder)
        moviepy_s, moviepy_cpu, moviepy_mp4 = timed(moviepy, timeline, stills, speech, folder)
        load = max(load, os.getloadavg()[0])
        sizes = {name: path.stat().st_size for name, path in
                 (("ours", ours_mp4), ("moviepy", moviepy_mp4))}
        durations = {name: round(float(probe(path)["format"]["duration"]), 3) for name, path
                     in (("ours", ours_mp4), ("moviepy", moviepy_mp4))}
    row = {"machine": machine(), "video_s": round(timeline.duration, 2), "scenes": SCENES,
           "size": "1280x720", "fps": timeline.fps, "preset": SETTINGS.x264_preset,
           "crf": SETTINGS.crf, "ours_s": round(ours_s, 2), "moviepy_s": round(moviepy_s, 2),
           "ratio": round(moviepy_s / ours_s, 2), "ours_cpu_s": round(ours_cpu, 2),
           "moviepy_cpu_s": round(moviepy_cpu, 2), "cpu_ratio": round(moviepy_cpu / ours_cpu, 2),
           "load_average_1min": round(load, 2), "sizes": sizes, "durations": durations}
    print(f"machine: {row['machine']}; {row['video_s']} s of 720p30, {SCENES} scenes")
    print(f"{'assembly':<10}{'wall s':>10}{'CPU s':>10}{'MB':>8}{'duration s':>12}")
    for name, seconds, cpu in (("ours", ours_s, ours_cpu), ("moviepy", moviepy_s, moviepy_cpu)):
        print(f"{name:<10}{seconds:>10.2f}{cpu:>10.2f}{sizes[name] / 1e6:>8.2f}"
              f"{durations[name]:>12.3f}")
    print(f"ours is {row['ratio']:.2f}x faster (wall), uses {row['cpu_ratio']:.2f}x less CPU; "
          f"1-min load average up to {row['load_average_1min']}")
    target = Path("benchmarks/results/assembly_vs_moviepy.json")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(row, indent=2) + "\n")


if __name__ == "__main__":
    main()
