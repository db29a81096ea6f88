"""Each kind of backend failing, through the real job flow without Ray (pipeline/in_process.py):
the job's error is the failing stage's own, led by the stage and the scene (counted from 1),
the scene is marked failed, and every stage it stops says so in the record, at once.

Pictures and speech fail through fakes that break as models do (testing/fake_backends.py);
the FFmpeg stages fail in the real ffmpeg: a picture that is no PNG (a chunk), a music file
that is no sound (the soundtrack), stored chunks that were damaged (finishing)."""

from __future__ import annotations

import asyncio
import shutil
import time
from functools import partial

import pytest

from vidgen_ray.config import PREVIEW, RenderSettings
from vidgen_ray.errors import RenderError, StageStopped, client_message
from vidgen_ray.pipeline import flow
from vidgen_ray.pipeline.in_process import InProcessExecutor
from vidgen_ray.pipeline.job_record import JobRecord, SceneStatus
from vidgen_ray.pipeline.stage_errors import first_failure, headline, notes, stopped_by
from vidgen_ray.storage import LocalStore
from vidgen_ray.storyboard import Line, Scene, Storyboard
from vidgen_ray.testing.fake_backends import (
    CRASH,
    SMUDGE,
    STAMMER,
    FlakyImageBackend,
    FlakySpeechBackend,
)

needs_tools = pytest.mark.skipif(not (shutil.which("ffmpeg") and shutil.which("espeak-ng")),
                                 reason="needs ffmpeg and espeak-ng")
SETTINGS = RenderSettings(chunk_seconds=1.0, **PREVIEW)
FAKES = {"image": partial(FlakyImageBackend, latency_s=0.0),
         "speech": partial(FlakySpeechBackend, latency_s=0.0)}


def board(*titles: str, line: str = "The tide turns.", odd: int | None = None,
          odd_line: str = "") -> Storyboard:
    return Storyboard(title="failures", scenes=[
        Scene(title=title, lines=[Line(text=odd_line if i == odd else f"{line} Part {i + 1}.")])
        for i, title in enumerate(titles)])


def run_job(tmp_path, storyboard: Storyboard, settings=SETTINGS, factories=FAKES, store=None):
    """(the error the flow raised or its result, the record, seconds until it ended)."""
    record = JobRecord(out_dir=str(tmp_path / "out"),
                       scenes=["queued"] * len(storyboard.scenes))
    record.start()
    run = flow.JobRun(record, storyboard, settings, tmp_path / "out",
                      store or LocalStore(tmp_path / "parts", flow.PART_SUFFIXES),
                      InProcessExecutor(settings, record.id, factories=factories),
                      lambda r, s: None)

    async def timed():
        started = time.perf_counter()
        try:
            return await run.run(), time.perf_counter() - started
        except RenderError as exc:
            return exc, time.perf_counter() - started

    outcome, seconds = asyncio.run(timed())
    return outcome, record, seconds


def check_failure(error, record: JobRecord, stage: str, word: str, scene: int | None):
    """The failure as the farm records it: the stage's own error, scene marked, others
    stopped by it."""
    assert isinstance(error, RenderError), error
    assert (error.stage, error.scene) == (stage, scene), (error.stage, error.scene, error)
    lead = f"{word}: " + (f"scene {scene + 1}" if scene is not None else "")
    assert error.message.startswith(lead) and client_message(error).startswith(lead), error
    if scene is not None:
        assert record.scenes[scene] == SceneStatus.failed
    assert record.stage_errors[word] == client_message(error)
    for name, note in record.stage_errors.items():
        if name != word:
            assert note == stopped_by(stage, scene), (name, note)
    assert "finishing" in record.stage_errors or word == "finishing"
    assert "stopped" not in client_message(error)


# ---- pure ------------------------------------------------------------------------------------

def test_a_headline_leads_with_the_stage_word_and_the_scene_once():
    assert headline("images", 2, "no image") == "pictures: scene 3: no image"
    assert headline("images", 2, "scene 3: no image") == "pictures: scene 3: no image"
    assert headline("video", 1, "scene 2 (frames 0-12 at 64x36): ffmpeg failed") == \
        "video: scene 2 (frames 0-12 at 64x36): ffmpeg failed"
    assert headline("audio", None, "soundtrack: ffmpeg failed") == "soundtrack: ffmpeg failed"
    assert headline("check", None, "the video is 2 s short") == \
        "finishing: the video is 2 s short"
    assert headline("setup", None, "no GPU") == "setup: no GPU"
    assert stopped_by("images", 2) == "stopped: pictures failed at scene 3"
    assert stopped_by("mux", None) == "stopped: finishing failed"
    assert notes("speech", 0, "speech: scene 1: x", {"pictures"}) == {
        "speech": "speech: scene 1: x", "video": "stopped: speech failed at scene 1",
        "soundtrack": "stopped: speech failed at scene 1",
        "finishing": "stopped: speech failed at scene 1"}


def test_the_first_own_failure_ends_the_wait_at_once_and_a_stopped_stage_never_wins():
    async def own():
        await asyncio.sleep(0.05)
        raise RenderError("pictures: scene 1: no image", stage="images")

    async def stopped():
        raise StageStopped("stopped: pictures failed at scene 1", stage="video")

    async def go():
        slow = asyncio.ensure_future(asyncio.sleep(30))
        tasks = [asyncio.ensure_future(stopped()), asyncio.ensure_future(own()), slow]
        started = time.perf_counter()
        with pytest.raises(RenderError) as failed:
            await first_failure(*tasks)
        slow.cancel()
        seconds = time.perf_counter() - started
        # Waiting for one task only: its result, while the other has not failed.
        first = asyncio.ensure_future(asyncio.sleep(0, "voiced"))
        later = asyncio.ensure_future(own())
        results = await first_failure(first, later, wait_for=[first])
        later.cancel()
        return failed.value, seconds, results

    error, seconds, results = asyncio.run(go())
    assert error.stage == "images" and seconds < 5, (error, seconds)
    assert results == ["voiced"]


def test_a_record_notes_the_failed_stage_and_a_retry_forgets_it():
    record = JobRecord(out_dir="/x", scenes=["running", "running"])
    record.start()
    record.stage_errors = {"video": "stopped: pictures failed at scene 2"}
    record.fail("pictures: scene 2: no image", scene=1, stage="pictures")
    assert record.stage_errors == {"video": "stopped: pictures failed at scene 2",
                                   "pictures": "pictures: scene 2: no image"}
    assert record.scenes == [SceneStatus.stopped, SceneStatus.failed]
    again = JobRecord.model_validate_json(record.model_dump_json())
    assert again.stage_errors == record.stage_errors
    record.requeue()
    assert record.stage_errors == {} and record.error is None


# ---- each backend failing, through the job flow -------------------------------------------------

@needs_tools
@pytest.mark.ffmpeg
def test_a_picture_backend_that_crashes_fails_the_job_as_pictures(tmp_path):
    error, record, _ = run_job(tmp_path, board("Harbour", f"The {CRASH}", "Night"))
    check_failure(error, record, "images", "pictures", 1)
    assert "cannot load weights" in error.message
    assert record.stage_errors["video"] == "stopped: pictures failed at scene 2"
    # The pictures that could be made were kept for a retry.
    assert len(list((tmp_path / "parts" / "image").glob("*.png"))) == 2


@needs_tools
@pytest.mark.ffmpeg
def test_a_speech_backend_that_fails_fails_the_job_as_speech(tmp_path):
    storyboard = board("Harbour", "Night", "Dawn", odd=1, odd_line=f"They {STAMMER} here.")
    error, record, _ = run_job(tmp_path, storyboard)
    check_failure(error, record, "speech", "speech", 1)
    assert "voice cache" in error.message
    assert record.stage_errors["video"] == "stopped: speech failed at scene 2"


@needs_tools
@pytest.mark.ffmpeg
def test_a_chunk_ffmpeg_cannot_encode_fails_the_job_as_video(tmp_path):
    error, record, _ = run_job(tmp_path, board("Harbour", f"{SMUDGE} on the lens", "Night"))
    check_failure(error, record, "video", "video", 1)
    assert "ffmpeg failed (exit" in client_message(error)
    assert record.stage_errors["finishing"] == "stopped: video failed at scene 2"


@needs_tools
@pytest.mark.ffmpeg
def test_a_soundtrack_ffmpeg_cannot_mix_fails_the_job_as_soundtrack(tmp_path):
    music = tmp_path / "music.mp3"
    music.write_bytes(b"no sound in here " * 64)  # a file changed after it was checked
    settings = SETTINGS.model_copy(update={"music": str(music)})
    error, record, _ = run_job(tmp_path, board("Harbour", "Night"), settings)
    check_failure(error, record, "audio", "soundtrack", None)
    assert client_message(error).startswith("soundtrack: ffmpeg failed")
    assert record.stage_errors["finishing"] == "stopped: soundtrack failed"
    assert SceneStatus.failed not in record.scenes


@needs_tools
@pytest.mark.ffmpeg
def test_stored_chunks_ffmpeg_cannot_join_fail_the_job_as_finishing(tmp_path):
    storyboard = board("Harbour", "Night")
    result, _, _ = run_job(tmp_path, storyboard)
    assert isinstance(result, flow.RenderResult), result
    for chunk in (tmp_path / "parts" / "chunk").glob("*.mp4"):
        chunk.write_bytes(b"a damaged chunk")  # found stored, so not encoded again
    error, record, _ = run_job(tmp_path, storyboard)
    check_failure(error, record, "mux", "finishing", None)
    assert record.stage_errors == {"finishing": client_message(error)}


@needs_tools
@pytest.mark.ffmpeg
def test_a_failed_stage_stops_the_job_without_waiting_for_the_slow_one_beside_it(tmp_path):
    slow_speech = partial(FlakySpeechBackend, latency_s=2.0)  # 6 lines: 12 s of speech
    factories = {**FAKES, "speech": slow_speech}
    storyboard = board(f"The {CRASH}", *(f"Scene {i}" for i in range(5)))
    error, record, seconds = run_job(tmp_path, storyboard, factories=factories)
    check_failure(error, record, "images", "pictures", 0)
    assert seconds < 6, seconds  # the pictures failed at once: speech was stopped
    assert record.stage_errors["speech"] == "stopped: pictures failed at scene 1"
