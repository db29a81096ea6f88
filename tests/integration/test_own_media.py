"""Your own pictures, clips and music: in all three script formats, checked before the render,
fitted to the scene with its camera move and transitions, and a clip's frames the same in any
chunking (frames are a function of the absolute frame number, as for stills)."""

import subprocess
from pathlib import Path

import numpy as np
import pytest

from vidgen_ray.config import RenderSettings
from vidgen_ray.errors import MediaError
from vidgen_ray.images.base import ImageRequest
from vidgen_ray.images.cards import CardsBackend
from vidgen_ray.pipeline import assembly, media
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


def _frame(video: Path, seconds: float) -> np.ndarray:
    out = subprocess.run(["ffmpeg", "-v", "error", "-ss", f"{seconds:.3f}", "-i", str(video),
                          "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(out, dtype=np.uint8).reshape(720, 1280, 3)


def _dominant_hz(wav: Path) -> tuple[float, float]:
    """The strongest frequency of a stem's first channel, and its RMS."""
    from vidgen_ray.audio.mix import AUDIO_RATE

    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(wav), "-f", "f32le", "-ac", "1",
                          "-"], capture_output=True, check=True).stdout
    samples = np.frombuffer(raw, dtype=np.float32)
    spectrum = np.abs(np.fft.rfft(samples))
    return (float(np.argmax(spectrum[1:]) + 1) * AUDIO_RATE / len(samples),
            float(np.sqrt(np.mean(samples**2))))


@pytest.fixture(scope="module")
def media_folder(tmp_path_factory):
    from PIL import Image

    folder = tmp_path_factory.mktemp("own")
    (folder / "pics").mkdir()
    Image.new("RGB", (400, 300), (220, 30, 30)).save(folder / "pics" / "red.jpg")
    make_clip(folder / "waves.mp4", 1.0, audio=True)
    make_tone(folder / "tune.wav", 3.0)
    return folder


@pytest.mark.ray
@pytest.mark.slow
def test_markdown_picture_clip_and_music_file(ray_local, media_folder, monkeypatch):
    import json

    from vidgen_ray.farm.connect import render

    script = media_folder / "film.md"
    script.write_text("# Film\n\n## Quay\n\n![the quay](pics/red.jpg)\n\nThe boats came home."
                      "\n\n## Sea\n\n![](waves.mp4)\n\nThe waves rolled in.\n",
                      encoding="utf-8")
    monkeypatch.chdir(media_folder)  # --music is read from the current folder
    settings = RenderSettings(chunk_seconds=1.0, stems="wav", music="tune.wav",
                              music_volume=0.5, transition="cut")
    result = render(script, media_folder / "out", settings)
    board = result.storyboard
    assert [s.media.kind for s in board.scenes] == ["image", "video"]
    first = _frame(result.video, 0.8)
    # The user's picture, scaled to cover the frame: red all over, no card drawn on it.
    assert first[..., 0].mean() > 180 and first[..., 1].mean() < 80
    hz, level = _dominant_hz(result.out_dir / "stems" / "music.wav")
    assert abs(hz - 330) < 5 and level > 1e-4  # the user's tune, not a mood's pad
    manifest = json.loads((result.out_dir / "manifest.json").read_text())
    assert manifest["settings"]["music_volume"] == 0.5


@pytest.mark.ray
@pytest.mark.slow
def test_fountain_picture_note_and_no_music(ray_local, media_folder):
    from vidgen_ray.farm.connect import render

    script = media_folder / "film.fountain"
    script.write_text("Title: Film\n\nEXT. QUAY - DAY\n\n[[IMAGE: pics/red.jpg]]\n\n"
                      "Rain falls on the boats.\n", encoding="utf-8")
    settings = RenderSettings(chunk_seconds=2.0, stems="wav", music="none",
                              ambience_volume=0.0)
    result = render(script, media_folder / "out2", settings)
    assert result.storyboard.scenes[0].media.kind == "image"
    assert _frame(result.video, 1.0)[..., 0].mean() > 180
    for bus in ("music", "ambience"):
        assert _dominant_hz(result.out_dir / "stems" / f"{bus}.wav")[1] == 0.0, bus


def test_a_storyboard_reads_its_media_beside_it(tmp_path, media_folder):
    from vidgen_ray.pipeline.source import load_storyboard

    board = Storyboard(scenes=[Scene(lines=[Line(text="x")], music="../tune.wav",
                                     media=Media(path="../pics/red.jpg"))])
    folder = media_folder / "boards"
    folder.mkdir(exist_ok=True)
    path = folder / "storyboard.json"
    path.write_text(board.model_dump_json(), encoding="utf-8")
    loaded, music = media.for_local_render(load_storyboard(path), None, path)
    assert Path(loaded.scenes[0].media.path) == (media_folder / "pics" / "red.jpg").resolve()
    assert loaded.scenes[0].music.endswith("tune.wav") and music is None


def _job(script: str, files: dict[str, bytes], **settings):
    import base64

    from vidgen_ray.service.requests import JobRequest

    return JobRequest(script=script, filename="film.md", settings=settings,
                      media={n: base64.b64encode(d).decode() for n, d in files.items()})


def _left_checks() -> set[str]:
    import tempfile

    return {p.name for p in Path(tempfile.gettempdir()).glob("vidgen-upload-*")}


def test_the_service_takes_uploaded_media_and_no_server_path(tmp_path, media_folder):
    from vidgen_ray.errors import TooLargeError
    from vidgen_ray.farm.home import media_key
    from vidgen_ray.farm.journal import HomeJournal
    from vidgen_ray.service import requests as service

    limits = service.Limits(max_media_bytes=600_000)
    red = (media_folder / "pics" / "red.jpg").read_bytes()
    tune = (media_folder / "tune.wav").read_bytes()
    script = "# Film\n\n## Quay\n\n![quay](red.jpg)\n\nThe boats came home.\n"
    before = _left_checks()
    job = service.prepare(_job(script, {"red.jpg": red, "tune.wav": tune, "unused.png": red},
                                music="tune.wav"), limits)
    # The replica keeps nothing: the job names each upload by its key, the bytes go with it.
    red_key, tune_key = media_key(red, "red.jpg"), media_key(tune, "tune.wav")
    assert red_key.endswith(".jpg") and tune_key.endswith(".wav")
    assert job.storyboard.scenes[0].media.path == red_key
    assert job.sent["music"] == job.settings.music == tune_key
    assert job.media == {red_key: red, tune_key: tune}  # what is named, nothing else
    assert _left_checks() == before  # checked in a temporary folder, removed after
    # The farm keeps them in its home and names them by its own paths.
    journal = HomeJournal(tmp_path / "farm-home")
    board, settings, sent = journal.place_media(job.storyboard, job.settings, job.sent,
                                                job.media)
    kept = Path(board.scenes[0].media.path)
    assert kept.parent == journal.home.media and kept.read_bytes() == red
    assert Path(settings.music).read_bytes() == tune and sent["music"] == settings.music

    # A path on the server, absolute or relative, is never read: only uploads are.
    for path in (str(media_folder / "pics" / "red.jpg"), "pics/red.jpg", "../red.jpg"):
        with pytest.raises(MediaError, match="not a file uploaded with this job") as caught:
            service.prepare(_job(script.replace("red.jpg", path), {"red.jpg": red}), limits)
        assert caught.value.http_status == 422  # though the file exists on this machine
    with pytest.raises(MediaError, match="not a file uploaded"):
        service.prepare(_job(script, {"red.jpg": red}, music="/etc/hostname"), limits)
    # Too large, not base64, a folder in the name, a broken file named as the client named it.
    with pytest.raises(TooLargeError):
        service.prepare(_job(script, {"red.jpg": red, "big.wav": b"x" * 700_000}), limits)
    bad = _job(script, {"red.jpg": red})
    bad.media["red.jpg"] = "not base64!"
    with pytest.raises(MediaError, match="not base64"):
        service.prepare(bad, limits)
    with pytest.raises(MediaError, match="a name of 1 to 255"):
        service.prepare(_job(script, {"": red}), limits)
    # A name with folders is only a key: "pics/red.jpg" as the script writes it.
    job = service.prepare(_job(script.replace("red.jpg", "pics/red.jpg"),
                               {"pics/red.jpg": red}), limits)
    assert job.storyboard.scenes[0].media.path == red_key
    with pytest.raises(MediaError, match="scene 1: red.jpg is not a picture") as caught:
        service.prepare(_job(script, {"red.jpg": b"GIF89a broken"}), limits)
    assert "vidgen-upload-" not in str(caught.value)  # the client's name, not a path
    assert _left_checks() == before  # removed after a refusal too
    # Analysing a script reads nothing and keeps its names as written.
    from vidgen_ray.service.requests import AnalyzeRequest

    analysed = service.analyze(AnalyzeRequest(script=script, filename="film.md"), limits)
    assert analysed.scenes[0].media.path == "red.jpg"


@pytest.mark.ray
@pytest.mark.slow
def test_a_file_gone_after_the_check_is_named_not_a_crash(ray_local, media_folder, monkeypatch):
    from vidgen_ray.errors import RenderError, VidgenError
    from vidgen_ray.farm.connect import render

    script = media_folder / "gone.md"
    picture = media_folder / "pics" / "soon-gone.png"
    picture.write_bytes((media_folder / "pics" / "red.jpg").read_bytes())
    script.write_text("## Quay\n\n![](pics/soon-gone.png)\n\nThe boats.\n", encoding="utf-8")
    checked = media.for_local_render

    def check_then_lose(*args):
        found = checked(*args)
        picture.unlink()  # removed between the check and the render
        return found

    monkeypatch.setattr(media, "for_local_render", check_then_lose)
    with pytest.raises(VidgenError, match="soon-gone.png was readable when the render "
                       "started but is not now") as caught:
        render(script, media_folder / "out3", RenderSettings(chunk_seconds=2.0))
    assert isinstance(caught.value, (MediaError, RenderError))
