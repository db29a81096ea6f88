"""The real job flow, end to end, without Ray: cards, espeak-ng and FFmpeg in this process
(pipeline/in_process.py), so the flow is tested apart from the farm."""

import asyncio
import json
import shutil
import subprocess

import pytest

from vidgen_ray.config import PREVIEW, RenderSettings
from vidgen_ray.pipeline import flow
from vidgen_ray.pipeline.in_process import NODE, InProcessExecutor
from vidgen_ray.pipeline.job_record import JobRecord, SceneStatus
from vidgen_ray.pipeline.slots import Span, most_at_once
from vidgen_ray.pipeline.source import load_storyboard
from vidgen_ray.storage import LocalStore

pytestmark = [pytest.mark.ffmpeg,
              pytest.mark.skipif(not (shutil.which("ffmpeg") and shutil.which("espeak-ng")),
                                 reason="needs ffmpeg and espeak-ng")]

SCRIPT = """# Two scenes

## Harbour

Waves broke on the harbour wall.

MARA: The boats are late.

## Morning

The sun rose over a calm sea.
"""


class CountingStore(LocalStore):
    """A real store that counts how often each part is read back."""

    def __init__(self, root):
        super().__init__(root)
        self.reads: dict[str, int] = {}

    def get(self, key: str) -> bytes:
        self.reads[key] = self.reads.get(key, 0) + 1
        return super().get(key)


def _run(tmp_path, store, settings, slots=None):
    board = load_storyboard(SCRIPT, settings)
    record = JobRecord(out_dir=str(tmp_path / "out"), scenes=["queued"] * len(board.scenes))
    record.start()
    heard: list[tuple[bool, dict]] = []
    run = flow.JobRun(record, board, settings, tmp_path / "out", store,
                      InProcessExecutor(settings, record.id, slots=slots),
                      lambda r, state: heard.append((state, r.model_dump(mode="json"))))
    return run, asyncio.run(run.run()), record, heard


def test_the_job_flow_renders_a_video_without_ray(tmp_path):
    settings = RenderSettings(chunk_seconds=1.0, **PREVIEW)
    store = CountingStore(tmp_path / "store")
    run, result, record, heard = _run(tmp_path, store, settings)
    out = tmp_path / "out"
    assert result.video == out / "video.mp4" and result.video.stat().st_size > 0
    streams = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", str(result.video)],
        capture_output=True, text=True, check=True).stdout)["streams"]
    assert sorted(s["codec_type"] for s in streams) == ["audio", "video"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["job"] == record.id and "video.mp4" in manifest["outputs"]
    assert manifest["notes"] == []  # nothing was done otherwise than the storyboard asked
    assert record.scenes == [SceneStatus.done, SceneStatus.done]
    assert set(result.placement["chunk"]) == {NODE} and result.placement["mix"] == [NODE]
    assert result.placement["finish"] == [NODE]  # joined, muxed and checked by the executor
    # Status changes came flagged, and the last counts of every stage were passed on.
    assert any(state for state, _ in heard)
    final = heard[-1][1]["progress"]
    assert all(final[s]["done"] == final[s]["total"] > 0 for s in final)
    # Each line's length came with it: speech is read back only to be mixed, and once more
    # for the live preview, however many of its segments the line is heard in.
    speech = [k for k in manifest["parts"] if k.startswith("speech/")]
    assert speech and all(store.reads.get(k, 0) == 2 for k in speech)


def test_a_second_run_finds_every_part_and_makes_the_same_video(tmp_path):
    settings = RenderSettings(chunk_seconds=1.0, **PREVIEW)
    store = CountingStore(tmp_path / "store")
    _, first, _, _ = _run(tmp_path, store, settings)
    video = first.video.read_bytes()
    run, again, record, _ = _run(tmp_path, store, settings)
    assert again.video.read_bytes() == video
    assert again.placement == {"chunk": [], "mix": [], "finish": [NODE]}  # only finished
    assert record.scenes == [SceneStatus.done, SceneStatus.done]


def test_ffmpeg_work_in_process_waits_for_a_free_slot(tmp_path):
    """Every chunk is asked for at once, yet with one slot the FFmpeg runs (timed in the
    thread that ran each) never overlap; with three they do, so the bound is what holds them
    apart. The video is the same either way."""
    settings = RenderSettings(**{**PREVIEW, "chunk_seconds": 1.0, "renditions": ["360x640"]})
    _, one, _, _ = _run(tmp_path / "one", LocalStore(tmp_path / "one" / "store"), settings, 1)
    _, three, _, _ = _run(tmp_path / "three", LocalStore(tmp_path / "three" / "store"),
                          settings, 3)
    chunks = [s for s in one.spans if s.kind == "chunk"]
    assert len(chunks) >= 4 and len(one.spans) == len(chunks) + 1 + 2  # + mix + 2 finishes
    assert most_at_once(running(one.spans)) == 1
    assert 1 < most_at_once(running(three.spans)) <= 3
    assert one.video.read_bytes() == three.video.read_bytes()


def running(spans: list[Span]) -> list[Span]:
    """From the start of each run, not from when it was handed over."""
    return [Span(s.kind, s.node, s.started, s.started, s.ended) for s in spans]
