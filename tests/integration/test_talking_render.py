"""Talking shots in a render (issue 21), in process, through the real loaders: with ``shots
talking`` each of a character's lines cuts to its cast portrait animated by a tiny
random-weight LTX-2 (offline, CPU, one thread) from the line's own espeak-ng speech, while a
``motion: clip`` scene is animated by a tiny LTX-Video. The video is valid and as long as
its timeline; a shot starts on the frame its speech starts and lasts the line to the frame;
a second run makes nothing again; chunks cut inside a shot join exactly."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from vidgen_ray.config import PREVIEW, RenderSettings
from vidgen_ray.pipeline import assembly, flow
from vidgen_ray.pipeline.in_process import NODE
from vidgen_ray.storage import LocalStore
from vidgen_ray.storyboard import Character, Line, Scene, Storyboard
from vidgen_ray.testing.jobs import Counter, run_job
from vidgen_ray.timeline import AUDIO_RATE

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")
pytestmark = [pytest.mark.ffmpeg,
              pytest.mark.skipif(not (shutil.which("ffmpeg") and shutil.which("espeak-ng")),
                                 reason="needs ffmpeg and espeak-ng")]

BOARD = Storyboard(
    characters=[Character(name="MARA", description="a lighthouse keeper with grey hair")],
    scenes=[
        Scene(title="Tower", description="a tower at dusk", characters=["MARA"],
              lines=[Line(text="Night falls."), Line(speaker="MARA", text="Light the lamp.")]),
        Scene(title="Window", description="a window in the storm", motion="clip",
              motion_prompt="rain streaks the window",
              lines=[Line(speaker="MARA", text="It rains again.")])])
TALKING_LINES = [(0, 1), (1, 0)]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    from vidgen_ray.testing.tiny_ltx import build_ltx
    from vidgen_ray.testing.tiny_ltx2 import build_ltx2

    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("tiny")
    return str(build_ltx(folder / "ltx")), str(build_ltx2(folder / "ltx2"))


def settings_for(models, **more) -> RenderSettings:
    ltx, ltx2 = models
    return RenderSettings(**{**PREVIEW, "chunk_seconds": 1.0, "offline": True,
                             "video_model": "ltx", "ltx_model": ltx, "ltx_steps": 2,
                             "ltx_frames": 9, "ltx_fps": 8, "ltx_clip_side": 96,
                             "clip_crossfade": 0.25, "max_clips_per_scene": 2,
                             "shots": "talking", "ltx2_model": ltx2, "ltx2_sigmas": (1.0, 0.5),
                             "ltx2_clip_side": 64, **more})


Counted = Counter()  # the requests the real backend was asked to make


def render(out, store, settings):
    def build():  # the model packages only once a test runs (importorskip)
        from vidgen_ray.motion import create_talking_backend

        return create_talking_backend("ltx2", settings)
    return run_job(BOARD, settings, out, store,
                   {"talking": Counted.factory(build, "make_clip")})


def probe(video, *args: str) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", *args, "-show_streams", "-of", "json",
                          str(video)], capture_output=True, text=True, check=True)
    return {s["codec_type"]: s for s in json.loads(out.stdout)["streams"]}


def decodes_cleanly(video) -> bool:
    out = subprocess.run(["ffmpeg", "-v", "error", "-xerror", "-i", str(video), "-f", "null",
                          "-"], capture_output=True, text=True)
    return out.returncode == 0 and not out.stderr.strip()


@pytest.fixture(scope="module")
def rendered(models, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("talking")
    store = LocalStore(tmp / "store", flow.PART_SUFFIXES)
    Counted.made = 0
    run, result, record = render(tmp / "out", store, settings_for(models))
    return tmp, store, run, result, record


def test_characters_lines_cut_to_talking_shots_in_a_valid_video(rendered, models):
    tmp, store, run, result, record = rendered
    settings = settings_for(models)
    timeline = run.video.plan(BOARD, run.speech_keys)
    streams = probe(result.video, "-count_frames")
    assert int(streams["video"]["nb_read_frames"]) == timeline.total_frames
    assert "audio" in streams and decodes_cleanly(result.video)
    # One shot per character line, none for the narrator's; one clip made for each.
    assert [(s.scene, s.line) for s in timeline.shots] == TALKING_LINES
    assert Counted.made == 2
    assert record.progress["talking"].done == record.progress["talking"].total == 2
    for shot in timeline.shots:
        cue = next(c for c in timeline.cues if (c.scene, c.line) == (shot.scene, shot.line))
        # The speech starts on the shot's first frame, at a whole sample of the mix...
        assert cue.start * settings.fps == pytest.approx(shot.start, abs=1e-9)
        assert (shot.start * AUDIO_RATE) % settings.fps == 0
        # ...and the clip, made from that speech at the video's rate, lasts it to the frame.
        key = run.talking.key(shot.scene, shot.line)
        clip = probe(store.path(key), "-count_frames")["video"]
        assert clip["r_frame_rate"] == f"{settings.fps}/1"
        assert int(clip["nb_read_frames"]) == shot.frames
        assert shot.frames == -(-round((cue.end - cue.start) * AUDIO_RATE) * settings.fps
                                // AUDIO_RATE)
    manifest = json.loads((tmp / "out" / "manifest.json").read_text())
    assert set(run.talking.keys) <= set(manifest["parts"])
    assert manifest["backends"]["talking"].startswith("ltx2-talk-1 ")
    assert manifest["settings"]["shots"] == "talking"
    # The portraits were drawn (cards here) though cards draw the scenes without them.
    assert set(run.plan_of_pictures.portrait_keys) == {"MARA"}


def test_a_second_run_makes_nothing_again(rendered, models):
    tmp, store, _, result, _ = rendered
    Counted.made = 0
    _, again, _ = render(tmp / "out", store, settings_for(models))
    assert Counted.made == 0
    assert again.placement == {"chunk": [], "mix": [], "finish": [NODE]}
    assert again.video.read_bytes() == result.video.read_bytes()


def test_chunks_cut_inside_a_shot_join_exactly(rendered, models, tmp_path):
    """The chunks' own frames (before the encode) are those of one piece: shots, the clip
    scene and the stills are all read by absolute frame."""
    _, store, run, _, _ = rendered
    settings = settings_for(models)
    timeline = run.video.plan(BOARD, run.speech_keys)
    stills = {s: store.path(k) for s, k in enumerate(run.plan_of_pictures.image_keys)}
    stills[1] = store.path(run.motion.fitted_key(1, timeline))
    shots = {i: store.path(k) for i, k in run.talking.shown(
        timeline, list(range(len(timeline.shots)))).items()}

    def raw(a: int, b: int) -> list[str]:
        needed = {s: stills[s] for s in assembly.scenes_in(timeline, a, b)}
        talking = {i: shots[i] for i in assembly.shots_in(timeline, a, b)}
        args = assembly.chunk_args(timeline, a, b, needed, settings, tmp_path / "x.mp4",
                                   videos=frozenset({1}) & set(needed), talking=talking)
        graph = args[:args.index("-map") + 2]
        out = subprocess.run(["ffmpeg", "-v", "error", *graph, "-r", str(settings.fps),
                              "-f", "framemd5", "-"], capture_output=True, text=True,
                             check=True)
        return [line.split()[-1] for line in out.stdout.splitlines()
                if not line.startswith("#")]

    ranges = timeline.chunks(1.0)
    inside = [a for a, _ in ranges if any(s.start < a < s.end for s in timeline.shots)]
    assert inside, "a chunk boundary falls inside a shot"
    pieces = [h for a, b in ranges for h in raw(a, b)]
    assert pieces == raw(0, timeline.total_frames)
