"""Transitions, camera moves, burned-in subtitles and renditions, rendered by FFmpeg for real.

Every case checks the chunk rule (any frame range renders alone, identical to the same
frames of a whole render) on raw frames, at 160x90 or 320x180 to stay fast."""

import subprocess
import typing
from pathlib import Path

import numpy as np
import pytest

from vidgen_ray.config import Camera, RenderSettings, Transition
from vidgen_ray.pipeline import assembly, camera, subtitles
from vidgen_ray.programs import decode_errors, probe
from vidgen_ray.storyboard import Line, Scene, Storyboard
from vidgen_ray.timeline import Pacing, plan_timeline

pytestmark = [pytest.mark.ffmpeg]

FPS = 12
SETTINGS = RenderSettings(fps=FPS)
SMALL = (160, 90)
COLOURS = ("0x2050c0", "0xc05020", "0x20a040", "0x9030a0", "0xc0c020", "0x20b0b0",
           "0x808080")


@pytest.fixture(scope="module")
def stills(tmp_path_factory):
    """Distinct textured stills (motion shows on texture), one per colour."""
    folder = tmp_path_factory.mktemp("stills")
    paths = {}
    for i, colour in enumerate(COLOURS):
        paths[i] = folder / f"{i}.png"
        subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                        f"testsrc2=s=320x180:d=1,drawbox=c={colour}@0.6:t=fill",
                        "-frames:v", "1", str(paths[i])], check=True)
    return paths


def raw_frames(timeline, stills, start, end, size, ass_file=None):
    """Frames [start, end) as raw RGB arrays, straight from the chunk's filter graph."""
    needed = {s: stills[s] for s in assembly.scenes_in(timeline, start, end)}
    args = assembly.chunk_args(timeline, start, end, needed, SETTINGS, Path("-"), size,
                               ass_file)
    graph_part = args[: args.index("-map") + 2]
    out = subprocess.run(["ffmpeg", "-v", "error", *graph_part, "-r", str(FPS), "-f",
                          "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True,
                         check=True).stdout
    width, height = size
    return np.frombuffer(out, np.uint8).reshape(-1, height, width, 3)


def assert_chunks_match_whole(timeline, stills, size, chunk_frames, ass=None, tmp=None):
    def script(a, b):
        if ass is None:
            return None
        path = tmp / f"{a}-{b}.ass"
        path.write_text(ass(a, b), encoding="utf-8")
        return path

    total = timeline.total_frames
    whole = raw_frames(timeline, stills, 0, total, size, script(0, total))
    assert len(whole) == total
    ranges = timeline.chunks(chunk_frames / FPS)
    assert len(ranges) >= 4
    pieces = np.concatenate([raw_frames(timeline, stills, a, b, size, script(a, b))
                             for a, b in ranges])
    assert np.array_equal(pieces, whole)
    return whole


def three_scenes(transition, camera=None, text="x"):
    scenes = [Scene(lines=[Line(text=text)], transition=transition, camera=camera)
              for _ in range(3)]
    return plan_timeline(Storyboard(scenes=scenes), [[1.0]] * 3, Pacing(fps=FPS), seed=5)


@pytest.mark.parametrize("kind", typing.get_args(Transition))
def test_every_transition_renders_chunk_exact_and_decodes(kind, stills, tmp_path):
    timeline = three_scenes(kind, camera="static")
    whole = assert_chunks_match_whole(timeline, stills, SMALL, chunk_frames=7)
    second = timeline.clips[1]
    # Around the join (and any fade to black) the picture goes from scene 0's still to 1's.
    before = whole[second.start - 2 - timeline.clips[0].black_out].astype(int)
    after = whole[second.start + 8].astype(int)
    ref0 = raw_frames(timeline, stills, 2, 3, SMALL)[0].astype(int)
    ref1 = raw_frames(timeline, stills, second.end - 12, second.end - 11, SMALL)[0].astype(int)
    assert np.abs(before - ref0).mean() < np.abs(before - ref1).mean()
    assert np.abs(after - ref1).mean() < np.abs(after - ref0).mean()
    if kind == "fade_black":  # the frame at the join is near black
        assert whole[second.start - 1].mean() < 0.2 * ref0.mean()
    # And the encoded chunk is a clean H.264 file.
    needed = {s: stills[s].read_bytes() for s in range(3)}
    mp4 = tmp_path / "whole.mp4"
    mp4.write_bytes(assembly.render_chunk(timeline, 0, timeline.total_frames, needed,
                                          SETTINGS, SMALL))
    assert decode_errors(mp4) == ""
    video = probe(mp4)["streams"][0]
    assert (video["width"], video["height"]) == SMALL


def test_every_camera_move_renders_chunk_exact_moves_and_decodes(stills, tmp_path):
    moves = typing.get_args(Camera)
    scenes = [Scene(lines=[Line(text="x")], transition="cut", camera=m) for m in moves]
    timeline = plan_timeline(Storyboard(scenes=scenes), [[0.6]] * len(moves),
                             Pacing(fps=FPS), seed=1)
    whole = assert_chunks_match_whole(timeline, stills, SMALL, chunk_frames=13).astype(int)
    for clip in timeline.clips:
        first, last = whole[clip.start], whole[clip.end - 1]
        moved = np.abs(first - last).mean()
        assert (moved == 0) if clip.motion == "static" else (moved > 1), clip.motion
    mp4 = tmp_path / "moves.mp4"
    mp4.write_bytes(assembly.render_chunk(timeline, 0, timeline.total_frames,
                                          {s: stills[s].read_bytes() for s in range(len(moves))},
                                          SETTINGS, SMALL))
    assert decode_errors(mp4) == ""


def test_a_held_still_framed_once_has_the_pixels_of_one_framed_on_every_frame(stills):
    """A static clip is cut and scaled once, then repeated (cheaper): the frames must be
    those of the same cut and scale done on every repeated frame, as before."""
    story = Storyboard(scenes=[Scene(lines=[Line(text="x")], motion="still")])
    timeline = plan_timeline(story, [[1.0]], Pacing(fps=FPS))
    clip, total = timeline.clips[0], timeline.total_frames
    args = assembly.chunk_args(timeline, 0, total, {0: stills[0]}, SETTINGS, Path("-"), SMALL)
    graph = args[: args.index("-map") + 2]
    at = graph.index("-filter_complex") + 1
    move = camera.pan_filters(clip, FPS, SMALL, "g0")
    once = f"[s0u0]{move},loop=loop={total - 1}:size=1:start=0,settb=1/{FPS},setpts=N+0"
    every = f"[s0u0]loop=loop={total - 1}:size=1:start=0,settb=1/{FPS},setpts=N+0,{move}"
    assert once in graph[at]
    framed = {}
    for name, chain in (("once", once), ("every", every)):
        command = [*graph[:at], graph[at].replace(once, chain), *graph[at + 1:]]
        framed[name] = subprocess.run(
            ["ffmpeg", "-v", "error", *command, "-r", str(FPS), "-f", "rawvideo", "-pix_fmt",
             "yuv420p", "-"], capture_output=True, check=True).stdout
    width, height = SMALL
    assert len(framed["once"]) == total * width * height * 3 // 2
    assert framed["once"] == framed["every"]


def test_a_zoom_moves_smoothly_without_jitter(tmp_path):
    """Sub-pixel motion: on a fine checkerboard, a zoom's frame-to-frame change stays even
    (an integer-step zoom jumps, then holds still)."""
    board = tmp_path / "check.png"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                    "nullsrc=s=320x180,geq=lum='255*mod(floor(X/4)+floor(Y/4)\\,2)'"
                    ":cb=128:cr=128", "-frames:v", "1", str(board)], check=True)
    story = Storyboard(scenes=[Scene(camera="zoom_in", lines=[Line(text="x")])])
    timeline = plan_timeline(story, [[3.0]], Pacing(fps=FPS))
    frames = raw_frames(timeline, {0: board}, 0, timeline.total_frames, (320, 180))
    steps = np.abs(np.diff(frames.astype(int), axis=0)).mean(axis=(1, 2, 3))
    middle = steps[len(steps) // 4: 3 * len(steps) // 4]  # away from the eased ends
    assert middle.min() > 0  # every frame moves
    assert middle.max() / middle.min() < 1.6  # and by similar amounts


def test_burned_subtitles_change_the_pixels_where_they_should_and_stay_chunk_exact(
        stills, tmp_path):
    timeline = three_scenes("dissolve", camera="static", text="The lamp is lit again.")
    size = (320, 180)

    def ass(position):
        settings = RenderSettings(fps=FPS, subtitle_size=150, subtitle_position=position)
        return lambda a, b: subtitles.burn_script(timeline.cues, FPS, a, b, settings, size)

    burned = assert_chunks_match_whole(timeline, stills, size, chunk_frames=9,
                                       ass=ass("bottom"), tmp=tmp_path).astype(int)
    plain = raw_frames(timeline, stills, 0, timeline.total_frames, size).astype(int)
    cue = timeline.cues[1]
    during = round((cue.start + cue.end) / 2 * FPS)
    diff = np.abs(burned[during] - plain[during]).sum(axis=2)
    assert (diff[120:] > 60).mean() > 0.03  # the text, on the bottom third
    assert diff[:90].max() == 0  # nothing drawn on the top half
    gap = round((timeline.cues[0].end + cue.start) / 2 * FPS)  # between two lines: nothing
    assert np.array_equal(burned[gap], plain[gap])
    path = tmp_path / "top.ass"
    path.write_text(ass("top")(0, timeline.total_frames), encoding="utf-8")
    top = raw_frames(timeline, stills, during, during + 1, size, path)[0].astype(int)
    diff = np.abs(top - plain[during]).sum(axis=2)
    assert (diff[:60] > 60).mean() > 0.03 and diff[90:].max() == 0


@pytest.mark.parametrize("size", [(3840, 2160), (2160, 3840)])
def test_2160p_frames_encode(size, stills, tmp_path):
    story = Storyboard(scenes=[Scene(lines=[Line(text="x")])])
    timeline = plan_timeline(story, [[0.1]], Pacing(fps=FPS))
    mp4 = tmp_path / "uhd.mp4"
    mp4.write_bytes(assembly.render_chunk(timeline, 0, 3, {0: stills[0].read_bytes()},
                                          SETTINGS, size))
    video = probe(mp4)["streams"][0]
    assert (video["width"], video["height"]) == size
    assert decode_errors(mp4) == ""
