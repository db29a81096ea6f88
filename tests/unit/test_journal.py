"""The Farm's journals and what a Farm does with one before any job runs (no Ray needed:
nothing here starts a pool): recovery at start, reads for the job service, watching."""

from __future__ import annotations

import asyncio
import os
import pickle
import time

import pytest

from vidgen_ray.config import RenderSettings
from vidgen_ray.errors import NotFoundError, RenderError
from vidgen_ray.farm.home import JobHome, StoredRequest
from vidgen_ray.farm.jobs import JobRecord, JobStatus, SceneParts, load_record, save_record
from vidgen_ray.farm.journal import FolderJournal, HomeJournal
from vidgen_ray.farm.scheduler import Farm
from vidgen_ray.storyboard import Line, Scene, Storyboard

BOARD = Storyboard(scenes=[Scene(title="Quay", lines=[Line(text="Gulls.")])])
PICTURE = "image/" + "c" * 64


@pytest.fixture
def fsyncs(monkeypatch) -> list[int]:
    """The file descriptors synced to the disk (os.fsync still runs)."""
    synced, real = [], os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd))[1])
    return synced


def test_a_record_is_synced_only_when_its_state_moved(tmp_path, fsyncs):
    record = JobRecord(out_dir=str(tmp_path), scenes=["queued"])
    FolderJournal().save(record, tmp_path / "parts", state_changed=False)
    assert fsyncs == []
    record.report("images", 1, 2)
    FolderJournal().save(record, tmp_path / "parts", state_changed=True)
    assert len(fsyncs) == 1
    saved = load_record(tmp_path / "parts" / "jobs" / f"{record.id}.json")
    assert saved.progress["images"].done == 1


def test_a_home_journal_travels_as_its_arguments(tmp_path):
    journal = HomeJournal(tmp_path / "home")
    copy = pickle.loads(pickle.dumps(journal))
    assert copy.home.root == journal.home.root and copy.store is None
    assert copy.private() == [str(journal.home.root)]


def test_a_job_whose_settings_are_no_longer_taken_fails_saying_why(tmp_path):
    home = tmp_path / "home"
    JobHome(home).save_request(StoredRequest(id="job-oldsettings1", storyboard=BOARD,
                                             settings={"gone_setting": 1}))
    (found,) = HomeJournal(home).recover()
    assert not found.resumed and found.record.status == JobStatus.failed
    assert found.record.error.startswith("its settings are no longer valid")
    assert str(home) not in found.record.error
    assert found.settings is not None  # the defaults: the job stays listable


def seed_done_job(home) -> JobRecord:
    JobHome(home).save_request(StoredRequest(id="job-finished0001", storyboard=BOARD))
    out = home / "outputs" / "job-finished0001"
    out.mkdir(parents=True)
    (out / "video.mp4").write_bytes(b"video")
    (home / "parts" / "image").mkdir(parents=True)
    (home / "parts" / PICTURE).with_suffix(".png").write_bytes(b"png")
    record = JobRecord(id="job-finished0001", out_dir=str(out), status=JobStatus.done,
                       scenes=["done"], finished=time.time(),
                       scene_parts=[SceneParts(image=PICTURE)])
    save_record(record, home / "parts" / "jobs")
    return record


def test_a_farm_takes_its_home_up_at_start_and_serves_its_files(tmp_path):
    home = tmp_path / "home"
    seed_done_job(home)

    async def scenario():
        farm = Farm(journal=HomeJournal(home))  # in a running loop: it starts itself
        assert await farm.start() == []  # nothing to resume; a second start is a no-op
        (record,) = await farm.list_jobs()
        assert record.status == JobStatus.done and await farm.keeps_home()
        board, stored = await farm.scenes(record.id)
        assert board == BOARD and stored == [PICTURE]
        assert await farm.part(record.id, PICTURE) == b"png"
        with pytest.raises(NotFoundError, match="not made yet"):
            await farm.part(record.id, "image/" + "d" * 64)  # not this job's
        assert await farm.files(record.id) == ["video.mp4"]
        assert await farm.file(record.id, "video.mp4") == b"video"
        with pytest.raises(NotFoundError, match="no artifact"):
            await farm.file(record.id, "../../requests/job-finished0001.json")
        stats = await farm.stats()
        assert (stats["queued"], stats["running"], stats["workers"]) == (0, 0, {})

    asyncio.run(scenario())


def test_watch_answers_at_each_change_or_at_its_timeout(tmp_path):
    home = tmp_path / "home"
    seed_done_job(home)

    async def scenario():
        farm = Farm(journal=HomeJournal(home))
        await farm.start()
        job = farm.jobs["job-finished0001"]
        job.record.status = JobStatus.running  # as if it ran: a watch then waits
        seen, _ = await farm.watch(job.record.id)
        started = time.monotonic()
        assert (await farm.watch(job.record.id, seen, timeout=0.2))[0] == seen
        assert time.monotonic() - started >= 0.2
        waiting = asyncio.ensure_future(farm.watch(job.record.id, seen))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        job.record.report("images", 1, 1)
        farm._save(job.record, state_changed=False)  # JobRun's progress callback
        version, record = await asyncio.wait_for(waiting, 1)
        assert version == seen + 1 and record.progress["images"].done == 1

    asyncio.run(scenario())


def test_a_render_farm_takes_no_service_jobs(tmp_path):
    async def scenario():
        farm = Farm()
        assert not await farm.keeps_home()
        with pytest.raises(RenderError, match="keeps no job home"):
            await farm.enqueue(BOARD, RenderSettings())

    asyncio.run(scenario())


def test_the_home_keeps_uploads_by_their_sha256_and_names_them_by_its_paths(tmp_path):
    from vidgen_ray.farm.home import media_key
    from vidgen_ray.storyboard import Media

    journal = HomeJournal(tmp_path / "home")
    picture, tune = b"\x89PNG a picture", b"RIFF a tune"
    key, music = media_key(picture, "Quay.PNG"), media_key(tune, "tune.wav")
    assert key.endswith(".png") and media_key(picture, "quay/../x") == key[:-4]
    board = Storyboard(scenes=[Scene(lines=[Line(text="x")], media=Media(path=key))])
    settings = RenderSettings(music=music)
    placed, parsed, sent = journal.place_media(board, settings, {"music": music, "fps": 12},
                                               {key: picture, music: tune})
    path = journal.home.media / key
    assert placed.scenes[0].media.path == str(path) and path.read_bytes() == picture
    assert parsed.music == sent["music"] == str(journal.home.media / music)
    assert sent["fps"] == 12 and settings.music == music  # the caller's copy is left alone
    # Sent again: the same file, not a second one; no temporary files are left.
    journal.place_media(board, settings, {"music": music}, {key: picture, music: tune})
    assert sorted(p.name for p in journal.home.media.iterdir()) == sorted([key, music])
    # Bytes that are not their key's, a key that is a path, a name that was not sent.
    for files in ({key: b"other bytes"}, {"../" + key: picture}):
        with pytest.raises(RenderError, match="not named by its sha256"):
            journal.place_media(board, settings, {}, files)
    with pytest.raises(RenderError, match="not sent with it"):
        journal.place_media(board, settings, {"music": music}, {key: picture})
    # No uploads, no media: as it was.
    plain = Storyboard(scenes=[Scene(lines=[Line(text="x")])])
    assert journal.place_media(plain, RenderSettings(), {}, {}) == (plain, RenderSettings(), {})
