"""Your own pictures, clips and music: in all three script formats, checked before the render,
fitted to the scene with its camera move and transitions, and a clip's frames the same in any
chunking (frames are a function of the absolute frame number, as for stills)."""

import subprocess
from pathlib import Path

import pytest

from vidgen_ray import assembly, media
from vidgen_ray.config import RenderSettings
from vidgen_ray.errors import MediaError
from vidgen_ray.images.base import ImageRequest
from vidgen_ray.images.cards import CardsBackend
from vidgen_ray.storyboard import Line, Media, Scene, Storyboard
from vidgen_ray.timeline import Pacing, plan_timeline

pytestmark = [pytest.mark.ffmpeg]

SETTINGS = RenderSettings(fps=12)


def make_clip(path: Path, seconds: float, size: str = "320x240", audio: bool = False) -> Path:
    """A test clip whose every frame differs (a moving pattern and a frame counter)."""
    args = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi",
            "-i", f"testsrc2=size={size}:rate=25:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=f=440:duration={seconds}"]
    subprocess.run([*args, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-shortest", str(path)],
                   check=True)
    return path


def make_tone(path: Path, seconds: float) -> Path:
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"sine=f=330:duration={seconds}", str(path)], check=True)
    return path


@pytest.fixture(scope="module")
def clip_timeline(tmp_path_factory):
    """Six scenes, every other one shown by a 1.3 s clip (shorter than its scene: looped),
    with dissolves and a cut between them."""
    folder = tmp_path_factory.mktemp("clips")
    clip = make_clip(folder / "clip.mp4", 1.3)
    scenes = [Scene(title=f"Scene {i}", lines=[Line(text="x")], mood="calm",
                    transition="cut" if i == 2 else "wipe_left" if i == 3 else "dissolve",
                    media=Media(path=str(clip)) if i % 2 else None) for i in range(6)]
    board = Storyboard(scenes=scenes)
    timeline = plan_timeline(board, [[1.6]] * 6, Pacing(fps=SETTINGS.fps), seed=3)
    width, height = SETTINGS.size
    pngs = CardsBackend().generate([
        ImageRequest(i + 1, s.title, "A test card.", (), s.mood, width, height, i)
        for i, s in enumerate(scenes)])
    inputs = {}
    for i, png in enumerate(pngs):
        inputs[i] = clip if i % 2 else folder / f"{i}.png"
        if not i % 2:
            inputs[i].write_bytes(png)
    return timeline, inputs, frozenset(range(1, 6, 2))


def raw_frame_hashes(timeline, inputs, videos, start, end):
    needed = {s: inputs[s] for s in assembly.scenes_in(timeline, start, end)}
    args = assembly.chunk_args(timeline, start, end, needed, SETTINGS, Path("-"),
                               videos=videos)
    graph_part = args[: args.index("-map") + 2]
    out = subprocess.run(["ffmpeg", "-v", "error", *graph_part, "-r", str(SETTINGS.fps),
                          "-f", "framemd5", "-"], capture_output=True, text=True, check=True)
    return [line.split()[-1] for line in out.stdout.splitlines() if not line.startswith("#")]


def test_a_clip_scene_gives_the_same_frames_in_one_chunk_and_in_seven(clip_timeline):
    timeline, inputs, videos = clip_timeline
    total = timeline.total_frames
    whole = raw_frame_hashes(timeline, inputs, videos, 0, total)
    ranges = timeline.chunks(total / SETTINGS.fps / 7)
    assert len(ranges) == 7
    pieces = [h for a, b in ranges for h in raw_frame_hashes(timeline, inputs, videos, a, b)]
    assert len(whole) == total
    assert pieces == whole
    # The clip plays (and loops) rather than standing still: its frames differ.
    clip = timeline.clips[1]
    shown = whole[clip.start + 2: clip.end - 2]
    assert len(set(shown)) > len(shown) * 0.8


def test_bad_media_is_refused_with_its_name(tmp_path):
    clip = make_clip(tmp_path / "short.mp4", 0.2)
    tone = make_tone(tmp_path / "tone.wav", 2.0)
    text = tmp_path / "notes.png"
    text.write_text("not a picture", encoding="utf-8")

    def board(**fields) -> Storyboard:
        return Storyboard(scenes=[Scene(lines=[Line(text="x")], **fields)])

    cases = [
        (board(media=Media(path=str(tmp_path / "gone.jpg"))), None, "gone.jpg was not found"),
        (board(media=Media(path=str(text))), None, "notes.png is not a picture"),
        (board(media=Media(path=str(clip))), None, "short.mp4 lasts 0.20 s"),
        (board(media=Media(path=str(tone), kind="video")), None, "tone.wav has no video"),
        (board(music=str(text)), None, "notes.png has no audio stream"),
        (board(), str(clip), "short.mp4 has no audio stream"),
        (board(media=Media(path=str(tmp_path), kind="image")), None, "is not a file"),
    ]
    for storyboard, music, expected in cases:
        with pytest.raises(MediaError, match=expected.replace(".", r"\.")) as caught:
            media.check(storyboard, music)
        assert caught.value.http_status == 422
    media.check(board(media=Media(path=str(make_clip(tmp_path / "ok.mp4", 1.0))),
                      music=str(tone)), str(tone))  # good files pass
