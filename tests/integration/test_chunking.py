"""Any frame range renders alone: one chunk and eight chunks give identical frames.

x264 places keyframes differently per chunking, so frames are compared before encoding: the
chunk's filter graph is run into framemd5, which hashes each raw frame."""

import subprocess
from pathlib import Path

import pytest

from vidgen_ray.config import RenderSettings
from vidgen_ray.images.base import ImageRequest
from vidgen_ray.images.cards import CardsBackend
from vidgen_ray.pipeline import assembly
from vidgen_ray.storyboard import Line, Scene, Storyboard
from vidgen_ray.timeline import Pacing, plan_timeline

pytestmark = [pytest.mark.ffmpeg]

SETTINGS = RenderSettings(fps=12)


@pytest.fixture(scope="module")
def timeline_and_stills(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stills")
    scenes = [Scene(title=f"Scene {i}", lines=[Line(text="x")], mood="calm",
                    transition="cut" if i == 2 else "dissolve") for i in range(6)]
    board = Storyboard(scenes=scenes)
    timeline = plan_timeline(board, [[1.2]] * 6, Pacing(fps=SETTINGS.fps), seed=3)
    width, height = SETTINGS.size
    pngs = CardsBackend().generate([
        ImageRequest(i + 1, s.title, "A test card.", (), s.mood, width, height, i)
        for i, s in enumerate(scenes)])
    stills = {}
    for i, png in enumerate(pngs):
        stills[i] = folder / f"{i}.png"
        stills[i].write_bytes(png)
    return timeline, stills


def raw_frame_hashes(timeline, stills, start, end):
    needed = {s: stills[s] for s in assembly.scenes_in(timeline, start, end)}
    args = assembly.chunk_args(timeline, start, end, needed, SETTINGS, Path("-"))
    graph_part = args[: args.index("-map") + 2]
    out = subprocess.run(["ffmpeg", "-v", "error", *graph_part, "-r", str(SETTINGS.fps),
                          "-f", "framemd5", "-"], capture_output=True, text=True, check=True)
    return [line.split()[-1] for line in out.stdout.splitlines() if not line.startswith("#")]


def test_one_chunk_and_eight_chunks_give_identical_frames(timeline_and_stills):
    timeline, stills = timeline_and_stills
    total = timeline.total_frames
    whole = raw_frame_hashes(timeline, stills, 0, total)
    ranges = timeline.chunks(total / SETTINGS.fps / 8)
    assert len(ranges) == 8
    pieces = [h for a, b in ranges for h in raw_frame_hashes(timeline, stills, a, b)]
    assert len(whole) == total
    assert pieces == whole
    # And the camera really moves: consecutive frames differ inside a scene.
    assert len(set(whole)) > total * 0.8
