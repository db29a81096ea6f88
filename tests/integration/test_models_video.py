"""`vidgen models` for the video and audio models of issue 21 against a local hub serving the
tiny LTX-Video, LTX-2 and Stable Audio Open (HF_ENDPOINT): download by group name, status,
verify, and LTX-Video's pipeline loading offline from what was downloaded. The tiny LTX-Video
repository is shaped like the real one: its T5 sharded with an index, and a single-file
checkpoint at the root that no pipeline here loads."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vidgen_ray.cli.app import app
from vidgen_ray.testing.hub import LocalHub, RepoFile, read_folder
from vidgen_ray.testing.tiny_ltx import build_ltx
from vidgen_ray.testing.tiny_ltx2 import build_ltx2
from vidgen_ray.testing.tiny_stable_audio import build_stable_audio

LTX, LTX2 = "Lightricks/LTX-Video", "diffusers/LTX-2.3-Distilled-Diffusers"
AUDIO = "stabilityai/stable-audio-open-1.0"
ROOT_CHECKPOINT = "ltx-video-2b-v0.9.5.safetensors"
SHARD = "text_encoder/model-00002-of-00002.safetensors"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from transformers import T5EncoderModel

    root = tmp_path_factory.mktemp("tiny")
    ltx = build_ltx(root / "ltx")
    encoder = T5EncoderModel.from_pretrained(ltx / "text_encoder")
    (ltx / "text_encoder" / "model.safetensors").unlink()
    encoder.save_pretrained(ltx / "text_encoder", max_shard_size="10KB")  # 2 shards + index
    ltx_files = read_folder(ltx)
    assert SHARD in {f.path for f in ltx_files}
    return {LTX: [*ltx_files, RepoFile(ROOT_CHECKPOINT, b"not for diffusers"),
                  RepoFile("README.md", b"# LTX-Video\n")],
            LTX2: read_folder(build_ltx2(root / "ltx2")),
            AUDIO: read_folder(build_stable_audio(root / "stable_audio"))}


def run(home: Path, *args, **env):
    return CliRunner().invoke(app, ["models", *args], env={"HF_HOME": str(home),
                                                           "HF_HUB_CACHE": None, **env})


def statuses(home: Path, name: str = "all", **env) -> dict:
    result = run(home, "status", name, "--json", **env)
    assert result.exit_code == 0, result.output
    return {row["name"]: row for row in json.loads(result.stdout)}


def snapshot(home: Path, repo: str) -> Path:
    folder = home / "hub" / ("models--" + repo.replace("/", "--")) / "snapshots"
    return next(folder.iterdir())


def test_ltx_downloads_by_name_loads_offline_and_verify_finds_a_damaged_shard(tmp_path, tiny):
    hf = tmp_path / "hf"
    assert "ltx" not in statuses(hf)  # no video model: not among the settings' models
    assert statuses(hf, VIDGEN_VIDEO_MODEL="ltx")["ltx"]["state"] == "absent"
    with LocalHub(tiny) as hub:
        done = run(hf, "download", "ltx", "--no-progress", HF_ENDPOINT=hub.url)
        assert done.exit_code == 0, done.output
    held = {p.relative_to(snapshot(hf, LTX)).as_posix()
            for p in snapshot(hf, LTX).rglob("*") if p.is_file()}
    assert held == {f.path for f in tiny[LTX]} - {ROOT_CHECKPOINT, "README.md"}
    row = statuses(hf, "ltx")["ltx"]
    assert (row["state"], row["missing"]) == ("complete", [])

    from diffusers import LTXImageToVideoPipeline

    pipe = LTXImageToVideoPipeline.from_pretrained(LTX, cache_dir=hf / "hub",
                                                   local_files_only=True)
    assert pipe.text_encoder.config.d_model == 16

    assert run(hf, "verify", "ltx").exit_code == 0
    blob = (snapshot(hf, LTX) / SHARD).resolve()
    data = bytearray(blob.read_bytes())
    data[-1] ^= 0xFF  # one flipped byte in the last tensor of the second shard
    blob.write_bytes(bytes(data))
    checked = run(hf, "verify", "ltx")
    assert checked.exit_code == 1
    assert f"DAMAGED {LTX}/{SHARD}: content sha256" in checked.stdout
    assert "vidgen models download ltx" in " ".join(checked.output.split())

    (snapshot(hf, LTX) / SHARD).unlink()  # an interrupted download: one shard of two
    row = statuses(hf, "ltx")["ltx"]
    assert (row["state"], row["missing"]) == ("partial", [SHARD])


def test_ltx2_and_stable_audio_download_by_name_and_all_takes_only_what_settings_use(
        tmp_path, tiny):
    hf = tmp_path / "hf"
    with LocalHub(tiny) as hub:
        for name in ("ltx2", "stable-audio"):
            done = run(hf, "download", name, "--no-progress", HF_ENDPOINT=hub.url)
            assert done.exit_code == 0, done.output
    for name, repo in (("ltx2", LTX2), ("stable-audio", AUDIO)):
        row = statuses(hf, name)[name]
        assert (row["state"], row["repo_id"], row["files"]) == ("complete", repo,
                                                                 len(tiny[repo]))
        assert run(hf, "verify", name).exit_code == 0
    assert "--shots talking" in statuses(hf, "ltx2")["ltx2"]["role"]
    assert not {"ltx2", "stable-audio"} & set(statuses(hf))
    # Each is one of all's once a render setting uses it.
    assert "stable-audio" in statuses(hf, VIDGEN_AMBIENCE_MODEL="stable_audio")
    assert "ltx2" in statuses(hf, VIDGEN_SHOTS="talking")
    unknown = run(hf, "status", "ltx3")
    assert unknown.exit_code == 2 and "ltx2, stable-audio" in unknown.output
