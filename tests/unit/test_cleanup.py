"""`vidgen cleanup` on folders with files of different ages (os.utime): a dry run lists and
keeps, --yes deletes exactly the old ones, and nothing goes from a home with a live job."""

import os
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vidgen_ray.cli.app import app
from vidgen_ray.errors import SettingsError
from vidgen_ray.farm.cleanup import parse_age
from vidgen_ray.farm.jobs import JobRecord, save_record
from vidgen_ray.testing.hub import RepoFile, write_cache

DAY = 86400.0


def aged(path: Path, days: float, data: bytes = b"x" * 1000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    stamp = time.time() - days * DAY
    os.utime(path, (stamp, stamp))
    return path


def finished_job(home: Path, days_ago: float, status: str = "done") -> JobRecord:
    record = JobRecord(out_dir=str(home / "outputs"), created=time.time() - days_ago * DAY)
    record.start()
    if status == "done":
        record.finish()
        record.finished = time.time() - days_ago * DAY
    save_record(record, home / "parts" / "jobs")
    return record


def cleanup(*args, **env):
    result = CliRunner().invoke(app, ["cleanup", *map(str, args)], env=env)
    return result


def test_ages_parse_and_bad_ones_say_how():
    assert parse_age("7d") == 7 * DAY and parse_age("12h") == 43200 and parse_age("2w") == 14 * DAY
    with pytest.raises(SettingsError, match="e.g. 7d"):
        parse_age("seven days")


def test_artifacts_older_than_go_only_with_yes(tmp_path):
    home = tmp_path / "service"
    old_part = aged(home / "parts" / "image" / "aaaa.png", 40)
    new_part = aged(home / "parts" / "image" / "bbbb.png", 2)
    old_job, new_job = finished_job(home, 40), finished_job(home, 2)
    old_out = aged(home / "outputs" / old_job.id / "video.mp4", 40, b"v" * 5000)
    new_out = aged(home / "outputs" / new_job.id / "video.mp4", 2)

    dry = cleanup("--artifacts", "--older-than", "30d", "--home", home)
    assert dry.exit_code == 0, dry.output
    assert f"would delete {old_part}" in dry.stdout
    assert f"would delete {old_out.parent}" in dry.stdout
    assert str(new_part) not in dry.stdout and str(new_out.parent) not in dry.stdout
    assert "would free 6.0 KB in 2 item(s)" in " ".join(dry.output.split())
    assert old_part.exists() and old_out.exists()  # a dry run deletes nothing

    done = cleanup("--artifacts", "--older-than", "30d", "--home", home, "--yes")
    assert done.exit_code == 0 and "freed 6.0 KB" in " ".join(done.output.split())
    assert not old_part.exists() and not old_out.parent.exists()
    assert new_part.exists() and new_out.exists()
    assert (home / "parts" / "jobs" / f"{old_job.id}.json").exists()  # history stays


def test_nothing_goes_from_a_home_with_a_live_job(tmp_path):
    home = tmp_path / "render"
    old_part = aged(home / "parts" / "speech" / "cccc.wav", 90)
    running = finished_job(home, 90, status="running")
    result = cleanup("--artifacts", "--older-than", "1d", "--home", home, "--yes")
    assert result.exit_code == 0
    assert running.id in result.output and old_part.exists()


def test_temp_files_of_interrupted_writes(tmp_path):
    home = tmp_path / "render"
    stale = [aged(home / "parts" / "image" / ".tmp-abc123", 10),
             aged(home / "parts" / "jobs" / ".job-0123456789ab.x1y2.tmp", 10),
             aged(home / ".job-0123456789ab.deadbeef.video.mp4", 10)]
    fresh = aged(home / "parts" / "image" / ".tmp-def456", 0.01)  # a write going on now
    kept = aged(home / "parts" / "image" / "eeee.png", 10)
    result = cleanup("--temp", "--older-than", "7d", "--home", home, "--yes")
    assert result.exit_code == 0, result.output
    assert not any(p.exists() for p in stale)
    assert fresh.exists() and kept.exists()
    assert "nothing" not in result.output
    default_age = cleanup("--temp", "--home", home)  # 1 day: the fresh one still stays
    assert str(fresh) not in default_age.stdout


def test_models_dry_run_then_one_model(tmp_path):
    hub = tmp_path / "hf" / "hub"
    for repo in ("stabilityai/stable-diffusion-xl-base-1.0", "suno/bark"):
        write_cache(hub, repo, [RepoFile("config.json", b"{}"),
                                RepoFile("model.safetensors", b"\0" * 4096)])
    env = {"HF_HOME": str(tmp_path / "hf")}
    dry = cleanup("--models", **env)
    assert dry.stdout.count("would delete") == 2 and (hub / "models--suno--bark").exists()
    done = cleanup("--model", "bark", "--yes", **env)
    assert done.exit_code == 0 and not (hub / "models--suno--bark").exists()
    assert (hub / "models--stabilityai--stable-diffusion-xl-base-1.0").exists()
    assert cleanup(**env).exit_code == 2  # nothing asked for: says what it can do
