"""Our assembly against MoviePy 2.x, the way script-to-video tools commonly assemble: the
same 60 s, 12-scene, 1280x720 30 fps video from the same stills and the same speech, with
0.5 s crossfades, the same x264 preset and CRF and the same AAC bitrate.

Ours: the chunk filter graphs of assembly.py, 10 s chunks encoded in parallel (one FFmpeg
thread each, one per core), joined with -c copy and muxed with the speech; twice: "ours"
makes the same video as MoviePy (every scene ``motion: still``, the pictures held), the one
the targets are against, and "ours_moves" adds our default Ken Burns camera moves (more
work, and a different video: MoviePy here does without). MoviePy: an ImageClip per scene,
CrossFadeIn, concatenate_videoclips(padding=-0.5, method="compose"), the speech as its
audio, write_videofile with every core, through the same FFmpeg binary as ours (MoviePy's
own imageio-ffmpeg build otherwise: ``--moviepy-ffmpeg bundled``).

``--rounds`` rounds in one process, the sides alternating (each round starts one later in
the order), each run in a fresh folder. Reported per side: the median (min-max) over
the rounds of the wall seconds and of the CPU seconds (user + system of this process and
of its FFmpeg children: MoviePy composes its frames in this process, ours in FFmpeg), and
the ratios of the medians, against the issue's targets (10x wall, 5x CPU). Prints the
command, a table and writes benchmarks/results/assembly_vs_moviepy.json (every run, with
the 1-minute load average at its start and end). MoviePy comes from the `bench` extra
(``pip install -e '.[bench]'``, or any folder on PYTHONPATH holding moviepy 2.x).

    .venv/bin/python benchmarks/assembly_vs_moviepy.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from importlib.metadata import version
from pathlib import Path

from common import (  # benchmarks/common.py (a script's folder is on sys.path)
    alternate,
    children_cpu_seconds,
    command,
    load_average,
    own_cpu_seconds,
    rotations,
    spread,
    spread_text,
    write_results,
)
from machine import machine

sys.path.insert(0, str(Path(__file__).parent))  # run as a script: sibling modules

from chunked_encode import SCENES  # noqa: E402
from chunked_encode import build as same_video_as_chunked_encode  # noqa: E402

from vidgen_ray.config import RenderSettings
from vidgen_ray.pipeline import assembly  # noqa: E402
from vidgen_ray.programs import ffmpeg, ffmpeg_version, probe

SETTINGS = RenderSettings()  # 1280x720, 30 fps, x264 veryfast, CRF 20
TARGETS = {"wall": 10.0, "cpu": 5.0}  # issue 20: MoviePy's medians / ours
SPEECH = ("The keeper climbed the stair each evening and lit the lamp. Ships passed in the "
          "dark and never knew his name. ") * 8


def build(folder: Path):
    """The held and the moving timeline (12 scenes, 60 s, 0.5 s dissolves; their clips
    differ only in motion), the stills and one speech track."""
    timeline, stills = same_video_as_chunked_encode(folder, motion="still")
    moving, _ = same_video_as_chunked_encode(folder)
    assert [c.frames for c in moving.clips] == [c.frames for c in timeline.clips]
    # One speech track for all: espeak-ng, cut or padded to the video's length.
    raw = folder / "raw.wav"
    subprocess.run(["espeak-ng", "-w", str(raw), SPEECH], check=True)
    speech = folder / "speech.wav"
    ffmpeg(["-i", str(raw), "-af", f"apad,atrim=0:{timeline.duration}", "-ar", "48000",
            "-ac", "2", str(speech)])
    return timeline, moving, stills, speech


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


def timed(make, timeline, stills, speech: Path, scratch: Path) -> dict:
    """One run in a fresh folder: wall and CPU seconds (this process + its children), the
    video's size and duration, the load average at its start and end."""
    folder = Path(tempfile.mkdtemp(dir=scratch))
    load = load_average()
    started, own, children = time.perf_counter(), own_cpu_seconds(), children_cpu_seconds()
    out = make(timeline, stills, speech, folder)
    wall = time.perf_counter() - started
    own, children = own_cpu_seconds() - own, children_cpu_seconds() - children
    result = {"wall_s": round(wall, 2), "cpu_s": round(own + children, 2),
              "own_cpu_s": round(own, 2), "children_cpu_s": round(children, 2),
              "mb": round(out.stat().st_size / 1e6, 2),
              "duration_s": round(float(probe(out)["format"]["duration"]), 3),
              "load_start": load, "load_end": load_average()}
    shutil.rmtree(folder)
    return result


def use_ffmpeg(which: str) -> str:
    """Point MoviePy (imageio-ffmpeg) at the same FFmpeg as ours, before it is imported."""
    if which == "same":
        os.environ["IMAGEIO_FFMPEG_EXE"] = shutil.which("ffmpeg") or "ffmpeg"
    import imageio_ffmpeg

    exe = imageio_ffmpeg.get_ffmpeg_exe()
    first = subprocess.run([exe, "-version"], capture_output=True, text=True).stdout
    return first.splitlines()[0] if first else exe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--moviepy-ffmpeg", choices=("same", "bundled"), default="same",
                        help="MoviePy's FFmpeg: ours (default) or imageio-ffmpeg's own build")
    args = parser.parse_args()
    moviepy_ffmpeg = use_ffmpeg(args.moviepy_ffmpeg)
    import moviepy as _  # noqa: F401  imported before timing: no side pays for an import
    print(f"Command: {command()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        timeline, moving, stills, speech = build(Path(tmp))
        sides = {"moviepy": (moviepy, timeline), "ours": (ours, timeline),
                 "ours_moves": (ours, moving)}
        runs = alternate({name: partial(timed, make, shown, stills, speech, Path(tmp))
                          for name, (make, shown) in sides.items()}, args.rounds)
    medians = {name: {unit: spread([r[unit] for r in runs[name]])
                      for unit in ("wall_s", "cpu_s", "own_cpu_s", "children_cpu_s")}
               for name in sides}
    ratios, ratios_moves = ({unit: round(medians["moviepy"][f"{unit}_s"]["median"]
                                         / medians[side][f"{unit}_s"]["median"], 2)
                             for unit in TARGETS} for side in ("ours", "ours_moves"))
    loads = [r[k] for side in runs.values() for r in side for k in ("load_start", "load_end")]
    result = {"command": command(), "machine": machine(), "ffmpeg": ffmpeg_version(),
              "moviepy": version("moviepy"), "moviepy_ffmpeg": moviepy_ffmpeg,
              "video_s": round(timeline.duration, 2), "scenes": SCENES, "size": "1280x720",
              "fps": timeline.fps, "preset": SETTINGS.x264_preset, "crf": SETTINGS.crf,
              "rounds": args.rounds, "order": rotations(list(sides), args.rounds),
              "medians": medians, "ratios": ratios, "ratios_with_moves": ratios_moves,
              "targets": TARGETS,
              "met": {unit: ratios[unit] >= TARGETS[unit] for unit in TARGETS},
              "load_average_1min": spread(loads), "runs": runs}
    report(result)
    print(f"written {write_results('assembly_vs_moviepy', result)}")


def report(result: dict) -> None:
    print(f"machine: {result['machine']}; {result['video_s']} s of 720p30, {SCENES} scenes; "
          f"MoviePy {result['moviepy']} on {result['moviepy_ffmpeg']}")
    print(f"{result['rounds']} rounds, alternating; median (min-max)")
    print(f"{'assembly':<12}{'wall s':>22}{'CPU s':>22}{'MB':>7}{'duration s':>12}")
    for name in ("ours", "ours_moves", "moviepy"):
        runs = result["runs"][name]
        print(f"{name:<12}{spread_text([r['wall_s'] for r in runs]):>22}"
              f"{spread_text([r['cpu_s'] for r in runs]):>22}{runs[0]['mb']:>7.2f}"
              f"{runs[0]['duration_s']:>12.3f}")
    for unit, target in TARGETS.items():
        verdict = "met" if result["met"][unit] else "NOT met"
        print(f"{unit} ratio of medians (MoviePy / ours, the same video): "
              f"{result['ratios'][unit]:.2f}x, target {target:g}x: {verdict}; with our camera "
              f"moves: {result['ratios_with_moves'][unit]:.2f}x")
    load = result["load_average_1min"]
    print(f"1-minute load average during the runs: {load['min']}-{load['max']} "
          f"(median {load['median']})")


if __name__ == "__main__":
    main()
