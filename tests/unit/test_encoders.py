"""The video encoder (pipeline/encoders.py): x264's arguments exactly as before, NVENC's
keyframes and quality beside them, the resolution of auto|x264|nvenc (pure), and, on this
machine (no NVIDIA card), auto resolved to x264 and nvenc refused with the problem and the
fix: at start for the CLI, at submit for the service, by a chunk task, by the job flow."""

from __future__ import annotations

import asyncio
import json
import shutil

import pytest

from vidgen_ray.config import PREVIEW, RenderSettings
from vidgen_ray.errors import RenderError, SettingsError
from vidgen_ray.pipeline import encoders, flow
from vidgen_ray.pipeline.in_process import InProcessExecutor
from vidgen_ray.pipeline.job_record import JobRecord
from vidgen_ray.pipeline.source import load_storyboard
from vidgen_ray.storage import LocalStore

SCRIPT = "# Harbour\n\nThe boats come home.\n\n## Morning\n\nThe sun rose over the sea."
# What every x264 chunk was encoded with before the encoder setting: pinned, so no x264
# chunk's key (which hashes these arguments) changes.
X264_30FPS = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
              "-r", "30", "-g", "60", "-sc_threshold", "0", "-x264-params", "open-gop=0",
              "-threads", "1", "-colorspace", "bt709", "-color_primaries", "bt709",
              "-color_trc", "bt709", "-video_track_timescale", "15360", "-an"]


def value(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


def test_x264_arguments_are_those_chunks_were_always_encoded_with():
    assert encoders.encoder_args(RenderSettings()) == X264_30FPS
    assert encoders.encoder_args(RenderSettings(encoder="x264")) == X264_30FPS


def test_nvenc_keyframes_frame_and_container_match_x264s():
    x264 = encoders.encoder_args(RenderSettings(fps=24))
    nvenc = encoders.encoder_args(RenderSettings(fps=24, encoder="nvenc"))
    assert value(nvenc, "-c:v") == "h264_nvenc"
    for flag in ("-pix_fmt", "-r", "-g", "-colorspace", "-color_primaries", "-color_trc",
                 "-video_track_timescale"):
        assert value(nvenc, flag) == value(x264, flag), flag
    assert value(nvenc, "-g") == "48" and "-an" in nvenc
    # An IDR at every keyframe (each chunk's first frame is one), no scene-cut keyframes,
    # no B-frames to reorder across a join.
    assert (value(nvenc, "-forced-idr"), value(nvenc, "-no-scenecut"),
            value(nvenc, "-bf")) == ("1", "1", "0")
    assert "-x264-params" not in nvenc and "-crf" not in nvenc


@pytest.mark.parametrize(("preset", "crf", "nvenc_preset", "cq"), [
    ("veryfast", 20, "p5", "20"), ("ultrafast", 28, "p4", "28"), ("medium", 0, "p7", "1"),
    ("fast", 51, "p6", "51")])
def test_nvenc_quality_follows_the_x264_setting(preset, crf, nvenc_preset, cq):
    args = encoders.encoder_args(RenderSettings(encoder="nvenc", x264_preset=preset, crf=crf))
    assert (value(args, "-preset"), value(args, "-cq")) == (nvenc_preset, cq)
    assert (value(args, "-tune"), value(args, "-rc"), value(args, "-b:v")) == ("hq", "vbr", "0")


def test_every_x264_preset_has_an_nvenc_preset():
    presets = RenderSettings.model_fields["x264_preset"].annotation.__args__
    assert set(encoders.NVENC_PRESETS) == set(presets)


def test_auto_never_reaches_a_chunk_unresolved():
    with pytest.raises(RenderError, match="resolves it once per job"):
        encoders.encoder_args(RenderSettings(encoder="auto"))


@pytest.mark.parametrize(("asked", "problem", "resolved"), [
    ("x264", None, "x264"), ("x264", "no card", "x264"), ("auto", None, "nvenc"),
    ("auto", "no card", "x264"), ("nvenc", None, "nvenc")])
def test_resolution(asked, problem, resolved):
    assert encoders.resolve(asked, problem) == resolved


def test_nvenc_without_nvenc_is_refused_with_the_problem_and_the_fix():
    with pytest.raises(SettingsError) as info:
        encoders.resolve("nvenc", "Cannot load libcuda.so.1")
    message = info.value.message
    assert info.value.field == "encoder"
    assert "Cannot load libcuda.so.1" in message and "--encoder x264" in message
    assert "H100" in message and "L4" in message
    assert "libcuda" not in info.value.public  # what a service's client reads
    with pytest.raises(SettingsError) as info:  # a client: no details of the server's
        encoders.resolve("nvenc", "Cannot load libcuda.so.1", for_client=True)
    assert info.value.field == "settings.encoder"
    assert "libcuda" not in info.value.message and "x264" in info.value.message


def test_the_cause_is_picked_from_ffmpegs_lines():
    lines = ["ffmpeg failed (exit 1): [h264_nvenc @ 0x55aa02] Cannot load libcuda.so.1",
             "Error initializing output stream 0:0 -- Error while opening encoder"]
    assert encoders._first_cause(lines) == "Cannot load libcuda.so.1"
    assert encoders._first_cause(["something else", "last words"]) == "last words"


# ---- on this machine: ffmpeg lists h264_nvenc, and has no card to run it -------------------

@pytest.fixture
def no_nvenc():
    if encoders.nvenc_problem() is None:
        pytest.skip("this machine encodes with NVENC")
    return encoders.nvenc_problem()


@pytest.mark.ffmpeg
def test_here_auto_is_x264_and_nvenc_is_refused(no_nvenc):
    assert encoders.resolve_here("auto") == "x264"
    assert encoders.resolve_here("x264") == "x264"
    with pytest.raises(SettingsError, match="NVENC cannot encode on this machine") as info:
        encoders.resolve_here("nvenc")
    assert no_nvenc in info.value.message
    with pytest.raises(RenderError, match="refused rather than encoded with x264"):
        encoders.require("nvenc")  # a chunk task on this node
    encoders.require("x264")


@pytest.mark.ffmpeg
@pytest.mark.parametrize("preset", list(encoders.NVENC_PRESETS))
def test_ffmpeg_takes_every_nvenc_argument_and_value(preset, tmp_path):
    """ffmpeg parses the encoder's options and their values before it loads the driver: here
    the only complaint is the missing driver (on a card with NVENC, none at all)."""
    import subprocess

    settings = RenderSettings(encoder="nvenc", x264_preset=preset, crf=51)
    done = subprocess.run(["ffmpeg", "-hide_banner", "-v", "error", "-f", "lavfi", "-i",
                           "color=s=256x256:d=0.1", *encoders.encoder_args(settings),
                           "-y", str(tmp_path / "n.mp4")], capture_output=True, text=True)
    for complaint in ("Unrecognized option", "Unable to parse", "Error setting option",
                      "Unknown encoder"):
        assert complaint not in done.stderr, done.stderr
    if encoders.nvenc_problem() is not None:
        assert encoders.nvenc_problem() in done.stderr
    else:
        assert done.returncode == 0, done.stderr


@pytest.mark.ffmpeg
def test_the_cli_refuses_nvenc_at_start(no_nvenc, tmp_path):
    from typer.testing import CliRunner

    from vidgen_ray.cli.app import app

    script = tmp_path / "story.md"
    script.write_text(SCRIPT)
    done = CliRunner().invoke(app, ["render", str(script), "-o", str(tmp_path / "out"),
                                    "--private-farm", "--encoder", "nvenc"],
                              terminal_width=200)
    assert done.exit_code != 0
    text = " ".join(done.output.split())
    assert "NVENC cannot encode on this machine" in text and "--encoder x264" in text
    assert not (tmp_path / "out").exists()  # refused before any work


def test_the_services_machine_does_not_decide_the_encoder():
    """A service's replica need not run where chunks are encoded: its checks pass nvenc to
    the farm, which asks a node where chunk tasks run (tests/hardening/test_submit_checks.py
    and tests/integration/test_encoder_farm.py, through it)."""
    from vidgen_ray.service.requests import Caller, JobRequest, Limits, prepare

    for encoder in ("nvenc", "auto"):
        job = prepare(JobRequest(script=SCRIPT, settings={"encoder": encoder}), Limits(),
                      caller=Caller("alice"))
        assert job.settings.encoder == encoder  # resolved where the chunks run, once per job


@pytest.mark.ffmpeg
@pytest.mark.skipif(not shutil.which("espeak-ng"), reason="needs espeak-ng")
def test_an_auto_job_here_is_encoded_and_keyed_as_x264(no_nvenc, tmp_path):
    """The job flow resolves auto once, before any chunk: the manifest says x264, and every
    chunk is the one an x264 job stores (same keys, found again)."""

    def render(encoder: str, out: str):
        settings = RenderSettings(chunk_seconds=1.0, encoder=encoder, **PREVIEW)
        board = load_storyboard(SCRIPT, settings)
        record = JobRecord(out_dir=str(tmp_path / out), scenes=["queued"] * 2)
        record.start()
        run = flow.JobRun(record, board, settings, tmp_path / out, store,
                          InProcessExecutor(settings, record.id), lambda r, s: None)
        result = asyncio.run(run.run())
        return result, json.loads((tmp_path / out / "manifest.json").read_text())

    store = LocalStore(tmp_path / "store")
    first, manifest = render("x264", "x264")
    again, auto = render("auto", "auto")
    assert manifest["settings"]["encoder"] == auto["settings"]["encoder"] == "x264"
    chunks = sorted(k for k in manifest["parts"] if k.startswith("chunk/"))
    assert chunks and chunks == sorted(k for k in auto["parts"] if k.startswith("chunk/"))
    assert again.placement["chunk"] == []  # every chunk found in the store


@pytest.mark.ffmpeg
def test_a_job_asking_for_nvenc_here_fails_before_its_first_part(no_nvenc, tmp_path):
    """The job flow resolves the encoder first: without NVENC, nothing is made."""
    settings = RenderSettings(chunk_seconds=1.0, encoder="nvenc", **PREVIEW)
    board = load_storyboard(SCRIPT, settings)
    record = JobRecord(out_dir=str(tmp_path / "out"), scenes=["queued"] * 2)
    record.start()
    store = LocalStore(tmp_path / "store")
    run = flow.JobRun(record, board, settings, tmp_path / "out", store,
                      InProcessExecutor(settings, record.id), lambda r, s: None)
    with pytest.raises(SettingsError, match="NVENC cannot encode on this machine"):
        asyncio.run(run.run())
    assert not list((tmp_path / "store").rglob("*.*"))


def test_an_nvenc_job_keys_its_chunks_apart_from_x264s():
    from vidgen_ray.pipeline import chunks
    from vidgen_ray.timeline import plan_timeline

    keys = {}
    for encoder in ("x264", "nvenc"):
        settings = RenderSettings(chunk_seconds=1.0, encoder=encoder)
        board = load_storyboard(SCRIPT, settings)
        timeline = plan_timeline(board, [[1.5], [1.5]], chunks.pacing(settings))
        keys[encoder] = chunks.chunk_key(timeline, 0, 30, settings.size, ["i/a", "i/b"],
                                         board, settings)
    assert keys["x264"] != keys["nvenc"]
