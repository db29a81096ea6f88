"""Chunks of each encoder join exactly: encoded apart (pipeline/assembly.py render_chunk),
joined with the concat demuxer and ``-c copy`` as finishing does, the video has every frame,
decodes without an error, and has an IDR keyframe at each chunk's first frame. x264 here;
NVENC where a card has one (the GPU suite runs this file too); skipped where it has none."""

from __future__ import annotations

import json
import subprocess

import pytest

from vidgen_ray.config import RenderSettings
from vidgen_ray.images.base import ImageRequest
from vidgen_ray.images.cards import CardsBackend
from vidgen_ray.pipeline import assembly, encoders
from vidgen_ray.programs import decode_errors
from vidgen_ray.storyboard import Line, Scene, Storyboard
from vidgen_ray.timeline import Pacing, plan_timeline

pytestmark = [pytest.mark.ffmpeg]


@pytest.mark.parametrize("encoder", ["x264", "nvenc"])
def test_chunks_of_one_encoder_join_with_copy(encoder, tmp_path):
    if encoder == "nvenc" and encoders.nvenc_problem() is not None:
        pytest.skip(f"no NVENC here: {encoders.nvenc_problem()}")
    settings = RenderSettings(fps=12, resolution="360p", encoder=encoder)
    scenes = [Scene(title=f"Scene {i}", lines=[Line(text="x")], transition="dissolve")
              for i in range(3)]
    timeline = plan_timeline(Storyboard(scenes=scenes), [[1.2]] * 3,
                             Pacing(fps=settings.fps), seed=3)
    width, height = settings.size
    pngs = CardsBackend().generate([ImageRequest(i + 1, s.title, "A card.", (), "calm",
                                                 width, height, i)
                                    for i, s in enumerate(scenes)])
    listing, starts = [], []
    for n, (a, b) in enumerate(timeline.chunks(1.0)):
        stills = {s: pngs[s] for s in assembly.scenes_in(timeline, a, b)}
        path = tmp_path / f"chunk{n}.mp4"
        path.write_bytes(assembly.render_chunk(timeline, a, b, stills, settings))
        listing.append((path, (b - a) / settings.fps))
        starts.append(a)
    concat, video = tmp_path / "chunks.ffconcat", tmp_path / "video.mp4"
    concat.write_text(assembly.concat_list(listing))
    subprocess.run(["ffmpeg", "-v", "error", "-f", "concat", "-safe", "0", "-i", str(concat),
                    "-c", "copy", str(video)], check=True)
    frames = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v", "-show_frames", "-show_entries",
         "frame=key_frame,pict_type:stream=codec_name,pix_fmt,r_frame_rate", "-of", "json",
         str(video)], capture_output=True, text=True, check=True).stdout)
    assert len(starts) >= 3 and decode_errors(video) == ""
    assert len(frames["frames"]) == timeline.total_frames
    keys = [i for i, f in enumerate(frames["frames"]) if f["key_frame"] == 1]
    assert set(starts) <= set(keys), (starts, keys)
    stream = frames["streams"][0]
    assert (stream["codec_name"], stream["pix_fmt"], stream["r_frame_rate"]) == \
        ("h264", "yuv420p", "12/1")
