"""Talking shots in chunks: a shot's clip shows its frame 0 where the line starts, any chunking
gives the same frames (a chunk may start inside a shot, or lie wholly in one), and chunks
that show no shot keep their keys.

Frames are compared before encoding, as in test_chunking.py. Each frame of a talking clip is
one flat colour whose green channel counts the frames, so a frame's colour tells which of
the clip's frames it shows."""

import asyncio
import hashlib
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vidgen_ray.config import RenderSettings
from vidgen_ray.pipeline import assembly, chunks
from vidgen_ray.storyboard import Line, Scene, Storyboard
from vidgen_ray.timeline import Pacing, plan_timeline

pytestmark = [pytest.mark.ffmpeg]

SETTINGS = RenderSettings(fps=12)
SIZE = (64, 36)
SECONDS = [[1.0, 1.5], [1.2], [0.8]]
TALKING = frozenset({(0, 1), (1, 0)})  # scene 1 is shown by a video clip around its shot
STEP = 12  # the clip's green rises by this much a frame


def clip_colour(frame: int, shot: int = 0) -> tuple[int, int, int]:
    return 230, 20 + STEP * frame, 230 - 60 * shot


def make_talking(path: Path, frames: int, shot: int = 0) -> Path:
    """A square clip (the frame is 16:9: cropped to cover) of ``frames`` flat frames."""
    raw = b"".join(bytes(clip_colour(k, shot)) * (40 * 40) for k in range(frames))
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
                    "-s", "40x40", "-r", str(SETTINGS.fps), "-i", "-", "-c:v", "libx264",
                    "-qp", "0", "-pix_fmt", "yuv420p", str(path)], input=raw, check=True)
    return path


def plane_means(frames: list[bytes]) -> np.ndarray:
    """Each yuv420p frame's mean Y, U and V (the chunks' frames are BT.709: compared as
    they are, not through another conversion to RGB)."""
    luma = SIZE[0] * SIZE[1]
    return np.array([[np.frombuffer(f[a:b], np.uint8).mean() for a, b in
                      ((0, luma), (luma, luma * 5 // 4), (luma * 5 // 4, luma * 3 // 2))]
                     for f in frames])


def clip_means(path: Path) -> np.ndarray:
    """The plane means of a talking clip's frames, converted to the chunk's frame alone."""
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-vf",
                          f"scale={SIZE[0]}:{SIZE[1]}:out_color_matrix=bt709:out_range=tv",
                          "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"],
                         capture_output=True, check=True).stdout
    frame = SIZE[0] * SIZE[1] * 3 // 2
    return plane_means([out[k:k + frame] for k in range(0, len(out), frame)])


def make_still(path: Path, scene: int) -> Path:
    """A blue-green gradient (far from the clip's colours) the camera visibly moves over."""
    y, x = np.mgrid[0:90, 0:160]
    pixels = np.stack([np.full_like(x, 10 * scene), x * 255 // 160, y * 255 // 90], axis=-1)
    Image.fromarray(pixels.astype(np.uint8)).save(path)
    return path


@pytest.fixture(scope="module")
def render(tmp_path_factory):
    folder = tmp_path_factory.mktemp("talking")
    board = Storyboard(scenes=[
        Scene(title=f"s{i}", lines=[Line(text="x") for _ in seconds],
              transition="cut" if i == 1 else "dissolve")
        for i, seconds in enumerate(SECONDS)])
    timeline = plan_timeline(board, SECONDS, Pacing(fps=SETTINGS.fps), seed=3,
                             talking=TALKING)
    inputs = {s: make_still(folder / f"{s}.png", s) for s in (0, 2)}
    inputs[1] = folder / "scene1.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc2=size=96x54:rate=12:duration=1.3", "-c:v", "libx264",
                    "-pix_fmt", "yuv420p", str(inputs[1])], check=True)
    talking = {i: make_talking(folder / f"shot{i}.mp4", shot.frames, i)
               for i, shot in enumerate(timeline.shots)}
    return board, timeline, inputs, talking


def graph_args(timeline, inputs, talking, start, end):
    """The chunk's inputs and filter graph, as a chunk task would have them."""
    needed = {s: inputs[s] for s in assembly.scenes_in(timeline, start, end)}
    shown = {i: talking[i] for i in assembly.shots_in(timeline, start, end)}
    args = assembly.chunk_args(timeline, start, end, needed, SETTINGS, Path("-"), SIZE,
                               videos=frozenset({1}), talking=shown)
    return args[: args.index("-map") + 2]


def raw_frames(timeline, inputs, talking, start, end) -> list[bytes]:
    """Frames [start, end) as the chunk's graph makes them (yuv420p), before any encode."""
    out = subprocess.run(["ffmpeg", "-v", "error",
                          *graph_args(timeline, inputs, talking, start, end),
                          "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"],
                         capture_output=True, check=True).stdout
    frame = SIZE[0] * SIZE[1] * 3 // 2
    assert len(out) == frame * (end - start)
    return [out[k:k + frame] for k in range(0, len(out), frame)]


def test_the_shots_sit_where_the_lines_start(render):
    _, timeline, _, _ = render
    assert [(s.scene, s.line) for s in timeline.shots] == [(0, 1), (1, 0)]
    for shot in timeline.shots:
        cue = next(c for c in timeline.cues if (c.scene, c.line) == (shot.scene, shot.line))
        assert cue.start * SETTINGS.fps == pytest.approx(shot.start)


def test_chunks_starting_inside_a_shot_give_the_frames_of_one_chunk(render):
    _, timeline, inputs, talking = render
    total = timeline.total_frames
    first, second = timeline.shots
    # One chunk starts in the first shot, the next lies wholly inside it, one starts in the
    # second shot (the video of scene 1 plays on after it).
    bounds = [0, first.start + 3, first.end - 2, second.start + 5, total]
    assert assembly.scenes_in(timeline, bounds[1], bounds[2]) == []
    whole = raw_frames(timeline, inputs, talking, 0, total)
    pieces = [f for a, b in zip(bounds, bounds[1:], strict=False) for f in
              raw_frames(timeline, inputs, talking, a, b)]
    digest = [hashlib.md5(f).hexdigest() for f in whole]
    assert [hashlib.md5(f).hexdigest() for f in pieces] == digest
    # The camera and the scene's video move: frames differ outside the shots too.
    assert len(set(digest)) > total * 0.8


def test_a_shot_shows_the_clip_from_its_frame_0_and_the_picture_around_it(render):
    _, timeline, inputs, talking = render
    means = plane_means(raw_frames(timeline, inputs, talking, 0, timeline.total_frames))
    for i, shot in enumerate(timeline.shots):
        clip = clip_means(talking[i])
        assert len(clip) == shot.frames
        # Frame k of the shot is the clip's frame k (neighbours differ by ~8 in Y).
        assert np.abs(means[shot.start:shot.end] - clip).max() < 1.5
    first = timeline.shots[0]
    for frame in (first.start - 1, first.end):  # the still, just before and just after
        assert np.abs(means[frame] - clip_means(talking[0])).min(axis=0).max() > 30


def test_a_clip_a_frame_short_still_fills_its_shot(render, tmp_path):
    _, timeline, inputs, _ = render
    shot = timeline.shots[0]
    short = make_talking(tmp_path / "short.mp4", shot.frames - 1)
    start, end = shot.start - 2, shot.end + 2
    stills = {s: inputs[s].read_bytes() for s in assembly.scenes_in(timeline, start, end)}
    mp4 = assembly.render_chunk(timeline, start, end, stills, SETTINGS, SIZE, work=tmp_path,
                                talking={0: short.read_bytes()})
    assert (tmp_path / "shot0.mp4").exists()
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", "-", "-f", "rawvideo", "-pix_fmt",
                          "yuv420p", "-"], input=mp4, capture_output=True, check=True).stdout
    frame = SIZE[0] * SIZE[1] * 3 // 2
    assert len(out) == frame * (end - start)
    means = plane_means([out[k:k + frame] for k in range(0, len(out), frame)])
    # The shot's last frame repeats the clip's last (x264 moves flat colours a little).
    last = clip_means(short)[-1]
    assert np.abs(means[-3] - last).max() < 3 and np.abs(means[-4] - last).max() < 3


def test_chunks_without_shots_keep_their_keys(render):
    board, timeline, _, _ = render
    plain = plan_timeline(board, SECONDS, Pacing(fps=SETTINGS.fps), seed=3)
    images = [f"image/{s}" for s in range(3)]
    keys = {0: "talking/a", 1: "talking/b"}
    first = timeline.shots[0]

    def key(timeline, start, end, talking=None):
        return chunks.chunk_key(timeline, start, end, SIZE, images, board, SETTINGS,
                                talking=talking)

    # Before the first talking line the timeline is today's: so are the keys.
    assert key(timeline, 0, first.start, keys) == key(plain, 0, first.start)
    assert key(timeline, 0, first.start, keys) == key(timeline, 0, first.start)
    # A chunk showing a shot names its clip; without the clip's key it cannot be made.
    shown = key(timeline, first.start - 4, first.start + 4, keys)
    assert shown != key(timeline, first.start - 4, first.start + 4, {**keys, 0: "talking/c"})
    with pytest.raises(ValueError, match="scene 1 line 2"):
        key(timeline, first.start - 4, first.start + 4)


def test_a_scene_seen_around_a_shot_draws_its_picture_twice(render):
    _, timeline, _, _ = render
    first = timeline.shots[0]
    start, end = first.start - 2, first.end + 2
    assert assembly.scenes_in(timeline, start, end) == [0]
    assert assembly.shots_in(timeline, start, end) == [0]
    graph = assembly.chunk_graph(timeline, start, end, {0: 0}, SIZE, shot_inputs={0: 1})
    assert "split=2[s0u0][s0u1]" in graph and graph.count("[1:v]tpad") == 1
    with pytest.raises(ValueError, match=r"talking shots \[0\]"):
        assembly.chunk_graph(timeline, start, end, {0: 0}, SIZE)


class Recorder:
    """An executor that only notes what a chunk's encode is given."""

    def __init__(self):
        self.asked: list[dict] = []

    async def encode_chunk(self, *args, **options):
        self.asked.append(options)
        return b"mp4", "here"


def test_an_encode_gets_the_talking_clips_of_its_shots_only(render):
    board, timeline, _, _ = render
    first = timeline.shots[0]
    executor, keys = Recorder(), {0: "talking/a", 1: "talking/b"}
    for start, end in ((0, first.start), (first.start - 4, first.start + 4)):
        stills = {s: f"image/{s}" for s in assembly.scenes_in(timeline, start, end)}
        asyncio.run(chunks.encode(executor, timeline, start, end, SIZE, stills, {}, board,
                                  SETTINGS, talking=keys))
    assert executor.asked == [{}, {"talking": {0: "talking/a"}}]
