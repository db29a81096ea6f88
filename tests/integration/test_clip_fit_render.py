"""Generated clips fitted to a scene by the real FFmpeg (pipeline/clip_fit.py): exactly the
scene's frames at the render's rate and size, each frame the one its span names: a clip's
own frame, or during a crossfade the blend of two at the span's weight, wraps included."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from vidgen_ray.pipeline.clip_fit import ClipPlan, fit_args, fit_clips
from vidgen_ray.programs import ffmpeg, run_tool

pytestmark = [pytest.mark.ffmpeg]

FPS = 30
SOURCE = (64, 48)
# Each clip a flat colour of its own (its chroma), whose brightness climbs frame by frame:
# which clip and which of its frames shows is read back from a frame's mean Y, U and V.
CHROMA = [(90, 170), (170, 90), (200, 200)]


def make_clip(path: Path, chroma: tuple[int, int]) -> Path:
    """One second at 24 fps (a model's native rate), stored losslessly."""
    cb, cr = chroma
    ffmpeg(["-f", "lavfi", "-i", f"nullsrc=s={SOURCE[0]}x{SOURCE[1]}:r=24:d=1",
            "-vf", f"geq=lum='40+6*N':cb={cb}:cr={cr},format=yuv420p",
            "-c:v", "libx264", "-qp", "0", "-preset", "ultrafast", str(path)])
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("clips")
    return [make_clip(folder / f"clip{i}.mp4", chroma) for i, chroma in enumerate(CHROMA)]


def planes(path: Path, size: tuple[int, int], vf: str = "null") -> np.ndarray:
    """Each frame's mean Y, U and V: an array of (frames, 3)."""
    width, height = size
    raw = run_tool("ffmpeg", ["-v", "error", "-i", str(path), "-vf", vf, "-f", "rawvideo",
                              "-pix_fmt", "yuv420p", "-"])
    luma, chroma = width * height, width * height // 4
    frames = np.frombuffer(raw, np.uint8).reshape(-1, luma + 2 * chroma).astype(float)
    return np.stack([frames[:, :luma].mean(1), frames[:, luma:luma + chroma].mean(1),
                     frames[:, luma + chroma:].mean(1)], axis=1)


def fitted(plan: ClipPlan, clips: list[Path], size: tuple[int, int], out: Path) -> np.ndarray:
    """Make the fitted clip, check its frame count, size and rate; its frames' means."""
    ffmpeg(fit_args(plan, clips[:plan.clips], FPS, size, out))
    shown = json.loads(run_tool("ffprobe", [
        "-v", "error", "-count_frames", "-select_streams", "v:0", "-of", "json",
        "-show_entries", "stream=nb_read_frames,width,height,r_frame_rate", str(out)]))
    stream = shown["streams"][0]
    assert int(stream["nb_read_frames"]) == plan.scene_frames
    assert (stream["width"], stream["height"]) == size
    assert stream["r_frame_rate"] == f"{FPS}/1"
    return planes(out, size)


def expected(plan: ClipPlan, clips: list[Path]) -> np.ndarray:
    """What each output frame should be, from the spans and the clips at the render's rate."""
    sources = [planes(clip, SOURCE, f"fps={FPS}") for clip in clips[:plan.clips]]
    assert all(len(source) >= plan.clip_frames for source in sources)
    frames = []
    for span in plan.spans:
        for f in range(span.start, span.end):
            frame = sources[span.clip][span.clip_frame(f)]
            if span.incoming is not None:
                weight = span.weight(f)
                frame = (1 - weight) * frame + weight * sources[span.incoming][f - span.start]
            frames.append(frame)
    return np.array(frames)


def test_a_chain_of_three_clips_shows_each_frame_its_span_names(clips, tmp_path):
    """70 frames from three clips of 30 (a one-second clip at 30 fps), crossfaded over 6:
    a clip's frames exactly where its spans say, the crossfades blends of both."""
    plan = fit_clips(70, 1.0, FPS, 6, 3)
    assert (plan.clips, plan.looped) == (3, False)
    frames = fitted(plan, clips, (64, 48), tmp_path / "fitted.mp4")
    assert np.abs(frames - expected(plan, clips)).max() <= 1  # alpha is 8-bit
    # At the boundaries: clip 0's frame 23 alone, then its frame 24 under clip 1's first.
    np.testing.assert_allclose(frames[23], planes(clips[0], SOURCE, f"fps={FPS}")[23], atol=1)
    middle = frames[27]  # mid-crossfade: between clip 0 and clip 1 in both chroma planes
    assert CHROMA[0][0] + 20 < middle[1] < CHROMA[1][0] - 20
    assert CHROMA[1][1] + 20 < middle[2] < CHROMA[0][1] - 20
    np.testing.assert_allclose(frames[69, 1:], CHROMA[2], atol=1)  # the trimmed last clip


def test_a_looped_plan_wraps_back_to_the_first_clip_through_a_crossfade(clips, tmp_path):
    plan = fit_clips(100, 1.0, FPS, 6, 2)
    assert (plan.clips, plan.placements, plan.looped) == (2, 4, True)
    frames = fitted(plan, clips, (64, 48), tmp_path / "looped.mkv")
    assert np.abs(frames - expected(plan, clips)).max() <= 1
    wrap = plan.spans[3]
    assert (wrap.clip, wrap.incoming) == (1, 0)
    np.testing.assert_allclose(frames[wrap.start - 1, 1:], CHROMA[1], atol=1)
    assert CHROMA[0][0] + 20 < frames[wrap.start + 3, 1] < CHROMA[1][0] - 20
    np.testing.assert_allclose(frames[wrap.end, 1:], CHROMA[0], atol=1)  # clip 0 again


def test_one_clip_trimmed_and_scaled_to_cover_another_shape(clips, tmp_path):
    plan = fit_clips(17, 1.0, FPS, 6, 3)
    assert (plan.clips, plan.placements) == (1, 1)
    frames = fitted(plan, clips, (96, 32), tmp_path / "short.mp4")
    assert np.abs(frames - expected(plan, clips)).max() <= 1
