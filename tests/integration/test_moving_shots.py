"""Moving shots in a render (issue 21), in process: a scene with motion ``clip`` and
video_model ltx gets clips from a tiny random-weight LTX-Video (built offline, CPU, one
thread), fitted to its frames and shown by the chunks; a second run makes nothing again; a
chunked render and a one-chunk render of the same frames agree."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from vidgen_ray.config import PREVIEW, RenderSettings
from vidgen_ray.pipeline import flow
from vidgen_ray.pipeline.in_process import NODE
from vidgen_ray.pipeline.job_record import SceneStatus
from vidgen_ray.storage import LocalStore
from vidgen_ray.storyboard import Line, Scene, Storyboard
from vidgen_ray.testing.jobs import Counter, run_job

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")
pytestmark = [pytest.mark.ffmpeg,
              pytest.mark.skipif(not (shutil.which("ffmpeg") and shutil.which("espeak-ng")),
                                 reason="needs ffmpeg and espeak-ng")]

BOARD = Storyboard(scenes=[
    Scene(title="Harbour", description="boats at dawn", lines=[Line(text="The boats.")]),
    Scene(title="Window", description="a window in the storm", motion="clip",
          motion_prompt="rain streaks the window", lines=[Line(text="It rains again.")]),
    Scene(title="Lamp", description="a lamp in the tower", lines=[Line(text="Light it.")])])
CLIP_SCENE = 1


@pytest.fixture(scope="module")
def ltx(tmp_path_factory):
    from vidgen_ray.testing.tiny_ltx import build_ltx

    torch.set_num_threads(1)
    return str(build_ltx(tmp_path_factory.mktemp("tiny") / "ltx"))


def settings_for(ltx: str, **more) -> RenderSettings:
    # 9 frames at 8 fps: 1.125 s clips, 16 frames each at the preview's 15 fps, so the
    # ~2.5 s clip scene chains two clips and loops them (max 2), crossfading over 4 frames.
    return RenderSettings(**{**PREVIEW, "chunk_seconds": 1.0, "video_model": "ltx",
                             "ltx_model": ltx, "offline": True, "ltx_steps": 2,
                             "ltx_frames": 9, "ltx_fps": 8, "ltx_clip_side": 96,
                             "clip_crossfade": 0.25, "max_clips_per_scene": 2, **more})


Counted = Counter()  # the requests the real backend was asked to make


def render(out, store, settings):
    def build():  # the model packages only once a test runs (importorskip)
        from vidgen_ray.motion.ltx import create_ltx_backend

        return create_ltx_backend(settings)
    return run_job(BOARD, settings, out, store,
                   {"motion": Counted.factory(build, "make_clip")})


def frame_hashes(video, first: int, last: int, fps: int) -> list[str]:
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", str(video), "-vf",
                          f"select='between(n,{first},{last - 1})'", "-vsync", "0",
                          "-f", "framemd5", "-"], capture_output=True, text=True, check=True)
    return [line.split()[-1] for line in out.stdout.splitlines() if not line.startswith("#")]


def probe_frames(video) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-show_streams", "-of",
                          "json", str(video)], capture_output=True, text=True, check=True)
    return {s["codec_type"]: s for s in json.loads(out.stdout)["streams"]}


def decodes_cleanly(video) -> bool:
    out = subprocess.run(["ffmpeg", "-v", "error", "-xerror", "-i", str(video), "-f", "null",
                          "-"], capture_output=True, text=True)
    return out.returncode == 0 and not out.stderr.strip()


def test_a_clip_scene_is_animated_fitted_and_reused(ltx, tmp_path):
    settings = settings_for(ltx)
    store = LocalStore(tmp_path / "store", flow.PART_SUFFIXES)
    Counted.made = 0
    run, result, record = render(tmp_path / "out", store, settings)
    streams = probe_frames(result.video)
    timeline = run.video.plan(BOARD, run.speech_keys)
    assert int(streams["video"]["nb_read_frames"]) == timeline.total_frames
    assert (streams["video"]["width"], streams["video"]["height"]) == settings.size
    assert "audio" in streams and decodes_cleanly(result.video)
    # The clip scene holds still (the clip moves), its clips were made and fitted.
    clip = timeline.clips[CLIP_SCENE]
    assert clip.motion == "static"
    made = run.motion.made[CLIP_SCENE]
    assert made.plan.clips == 2 and made.plan.looped and Counted.made == 2
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert set(run.motion.keys) <= set(manifest["parts"])
    assert {k.split("/")[0] for k in run.motion.keys} == {"motion", "motion-fit"}
    assert manifest["notes"] == []  # a video model is set: nothing to say of clip scenes
    assert manifest["backends"]["motion"].startswith("ltx-1 ")
    assert record.progress["clips"].done == record.progress["clips"].total == 2
    assert [s.kind for s in result.spans].count("fit") == 1
    # Within the scene (past its dissolve in), the frames change: the clip plays.
    shown = frame_hashes(result.video, clip.start + clip.fade_in, clip.end - 8, settings.fps)
    assert len(shown) >= 20 and len(set(shown)) > len(shown) * 0.8
    # A second run finds every part: no clip made, nothing fitted or encoded again.
    Counted.made = 0
    _, again, record = render(tmp_path / "out", store, settings)
    assert Counted.made == 0
    assert again.placement == {"chunk": [], "mix": [], "finish": [NODE]}
    assert again.video.read_bytes() == result.video.read_bytes()
    assert record.scenes == [SceneStatus.done] * 3


def test_chunked_and_one_chunk_renders_agree_frame_for_frame(ltx, tmp_path):
    """The chunks' own frames (before the encode) are those of a one-chunk render: the
    fitted clip is read by absolute frame in every chunk. The encoded videos join cleanly."""
    store = LocalStore(tmp_path / "store", flow.PART_SUFFIXES)
    chunked, one = settings_for(ltx, chunk_seconds=1.0), settings_for(ltx, chunk_seconds=60.0)
    run, first, _ = render(tmp_path / "chunked", store, chunked)
    _, whole, _ = render(tmp_path / "one", store, one)
    assert decodes_cleanly(first.video) and decodes_cleanly(whole.video)
    frames = [int(probe_frames(v)["video"]["nb_read_frames"]) for v in (first.video,
                                                                       whole.video)]
    assert frames[0] == frames[1]
    # Lossless chunks of each render, compared decoded: identical frames.
    from vidgen_ray.pipeline import assembly

    timeline = run.video.plan(BOARD, run.speech_keys)
    stills = {s: store.path(k) for s, k in enumerate(run.plan_of_pictures.image_keys)}
    stills[CLIP_SCENE] = store.path(run.motion.fitted_key(CLIP_SCENE, timeline))
    videos = frozenset({CLIP_SCENE})

    def raw(a: int, b: int) -> list[str]:
        needed = {s: stills[s] for s in assembly.scenes_in(timeline, a, b)}
        args = assembly.chunk_args(timeline, a, b, needed, chunked, tmp_path / "x.mp4",
                                   videos=videos & set(needed))
        graph = args[:args.index("-map") + 2]
        out = subprocess.run(["ffmpeg", "-v", "error", *graph, "-r", str(chunked.fps),
                              "-f", "framemd5", "-"], capture_output=True, text=True,
                             check=True)
        return [line.split()[-1] for line in out.stdout.splitlines()
                if not line.startswith("#")]

    clip = timeline.clips[CLIP_SCENE]
    pieces = [h for a, b in timeline.chunks(1.0) if b > clip.start and a < clip.end
              for h in raw(a, b)]
    ranges = [(a, b) for a, b in timeline.chunks(1.0) if b > clip.start and a < clip.end]
    assert len(ranges) >= 2
    assert pieces == raw(ranges[0][0], ranges[-1][1])
