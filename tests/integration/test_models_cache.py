"""`vidgen models` against a Hugging Face cache laid out from the tiny models in a tmp
HF_HOME (status, verify catching corrupted and truncated files, clear), and `download` and
`updates` against a local HTTP server speaking the hub's endpoints (HF_ENDPOINT)."""

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vidgen_ray.cli.app import app
from vidgen_ray.models.verify import safetensors_problem
from vidgen_ray.testing.hub import LocalHub, read_folder, write_cache
from vidgen_ray.testing.tiny_bark import build_bark
from vidgen_ray.testing.tiny_sdxl import build_sdxl

SDXL, BARK = "stabilityai/stable-diffusion-xl-base-1.0", "suno/bark"
UNET = "unet/diffusion_pytorch_model.safetensors"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    return {SDXL: read_folder(build_sdxl(root / "sdxl")),
            BARK: read_folder(build_bark(root / "bark"))}


@pytest.fixture
def home(tmp_path, tiny):
    """A tmp HF_HOME whose cache holds the tiny SDXL and Bark under the default ids."""
    commits = {repo: write_cache(tmp_path / "hf" / "hub", repo, files)
               for repo, files in tiny.items()}
    return tmp_path / "hf", commits


def run(home: Path, *args, **env):
    result = CliRunner().invoke(app, ["models", *args], env={"HF_HOME": str(home),
                                                             "HF_HUB_CACHE": None, **env})
    return result


def statuses(home: Path) -> dict:
    result = run(home, "status", "--json")
    assert result.exit_code == 0, result.output
    return {row["name"]: row for row in json.loads(result.stdout)}


def snapshot(home: Path, repo: str) -> Path:
    folder = home / "hub" / ("models--" + repo.replace("/", "--")) / "snapshots"
    return next(folder.iterdir())


def test_status_reports_each_model_with_revision_size_and_completeness(home, tiny):
    hf, commits = home
    rows = statuses(hf)
    assert set(rows) == {"sdxl", "bark", "bark-voices", "kokoro", "safety-checker"}
    assert rows["safety-checker"]["state"] == "absent"
    sdxl = rows["sdxl"]
    assert (sdxl["state"], sdxl["revision"], sdxl["files"]) == ("complete", commits[SDXL],
                                                                 len(tiny[SDXL]))
    assert sdxl["size_bytes"] == sum(len(f.data) for f in tiny[SDXL])
    voices = [f for f in tiny[BARK] if f.path.startswith("speaker_embeddings")]
    assert rows["bark-voices"]["state"] == "complete"
    assert rows["bark-voices"]["files"] == len(voices)
    assert rows["bark"]["state"] == "complete"

    (snapshot(hf, SDXL) / UNET).unlink()  # an interrupted download: no UNet weights
    (snapshot(hf, BARK) / "speaker_embeddings/v2/en_speaker_1_fine_prompt.npy").unlink()
    rows = statuses(hf)
    assert rows["sdxl"]["state"] == "partial" and rows["sdxl"]["missing"] == ["unet/<weights>"]
    assert rows["bark-voices"]["missing"] == ["speaker_embeddings/v2/en_speaker_1_fine_prompt.npy"]
    table = run(hf, "status", COLUMNS="200")
    assert "partial" in table.stdout and "complete" in table.stdout


def test_verify_passes_an_intact_cache_and_names_corrupted_and_truncated_files(home):
    hf, _ = home
    assert run(hf, "verify", "all").exit_code == 0
    blob = (snapshot(hf, SDXL) / UNET).resolve()
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte deep in the weights
    blob.write_bytes(bytes(data))
    config = (snapshot(hf, BARK) / "config.json").resolve()  # a git-sha1 named blob
    config.write_text(config.read_text().replace("{", "{ ", 1))
    result = run(hf, "verify", "all")
    assert result.exit_code == 1
    damaged = [line for line in result.stdout.splitlines() if line.startswith("DAMAGED")]
    assert len(damaged) == 2
    assert f"{SDXL}/{UNET}: content sha256" in damaged[0] or f"{SDXL}/{UNET}" in damaged[1]
    assert any(f"{BARK}/config.json: content git-sha1" in line for line in damaged)
    assert "vidgen models download all" in " ".join(result.output.split())


def test_safetensors_header_check_catches_truncation_without_hashes(home, tmp_path):
    hf, _ = home
    source = (snapshot(hf, SDXL) / "vae/diffusion_pytorch_model.safetensors").resolve()
    intact = tmp_path / "intact.safetensors"
    shutil.copyfile(source, intact)
    assert safetensors_problem(intact) is None
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(source.read_bytes()[:-100])
    assert "outside the file" in safetensors_problem(cut)
    stub = tmp_path / "stub.safetensors"
    stub.write_bytes(source.read_bytes()[:200])
    assert "truncated" in safetensors_problem(stub)
    # In a cache without symlinks (copies, not blob links) only the header check can see it.
    link = snapshot(hf, SDXL) / "vae/diffusion_pytorch_model.safetensors"
    link.unlink()
    shutil.copyfile(cut, link)
    result = run(hf, "verify", "sdxl")
    assert result.exit_code == 1
    assert "vae/diffusion_pytorch_model.safetensors: tensor" in result.stdout


def test_clear_is_a_dry_run_until_yes(home):
    hf, _ = home
    folder = hf / "hub" / "models--suno--bark"
    shown = run(hf, "clear", "bark")
    assert shown.exit_code == 0 and f"would delete {folder}" in shown.stdout
    assert folder.is_dir()
    done = run(hf, "clear", "bark", "--yes")
    assert done.exit_code == 0 and f"deleted {folder}" in done.stdout
    assert not folder.exists()
    rows = statuses(hf)
    assert rows["bark"]["state"] == rows["bark-voices"]["state"] == "absent"
    assert rows["sdxl"]["state"] == "complete"  # only what was named went
    assert run(hf, "clear", "nonsense").exit_code == 2


def test_a_dangling_link_is_reported_and_cleared(home):
    """huggingface_hub's scan leaves such a repository out: status, verify and clear see it."""
    hf, _ = home
    (snapshot(hf, SDXL) / UNET).resolve().unlink()  # the blob went, its link stayed
    assert statuses(hf)["sdxl"]["state"] == "partial"
    assert UNET in statuses(hf)["sdxl"]["missing"]
    result = run(hf, "verify", "sdxl")
    assert result.exit_code == 1 and f"{SDXL}/{UNET}: its blob is missing" in result.stdout
    folder = hf / "hub" / ("models--" + SDXL.replace("/", "--"))
    assert run(hf, "clear", "sdxl", "--yes").exit_code == 0 and not folder.exists()


def test_blobs_in_the_shared_store_verify_and_clear_with_their_payload(home):
    """Files fetched through Xet: the repository's blob links on into <cache>/blobs/, the
    payload named by its Xet hash. verify checks the content against the repository's blob
    name; clear frees the payload too, and says so."""
    from huggingface_hub.utils._shared_blobs import publish_blob_to_shared_store

    hf, _ = home
    cache = hf / "hub"
    link = snapshot(hf, SDXL) / UNET
    blob = Path(os.path.abspath(link.parent / os.readlink(link)))  # the repository's blob
    size = blob.stat().st_size
    xet_hash = hashlib.sha256(b"xet" + blob.read_bytes()).hexdigest()
    assert publish_blob_to_shared_store(blob_path=str(blob), xet_hash=xet_hash,
                                        cache_dir=cache, expected_size=size)
    payload = cache / "blobs" / xet_hash[:2] / xet_hash
    assert blob.is_symlink() and payload.is_file()
    assert statuses(hf)["sdxl"]["state"] == "complete"
    checked = run(hf, "verify", "sdxl")
    assert checked.exit_code == 0, checked.output
    shown = run(hf, "clear", "sdxl")
    assert "would free" in shown.output and payload.is_file()
    freed = run(hf, "clear", "sdxl", "--yes")
    assert freed.exit_code == 0 and not payload.exists()
    assert not (cache / ("models--" + SDXL.replace("/", "--"))).exists()
    said = freed.stdout.split("(")[-1].rstrip(")\n")  # deleted <folder> (<size>)
    assert float(said.split()[0]) * {"KB": 1e3, "MB": 1e6}[said.split()[1]] >= size * 0.99


def test_download_from_a_mirror_then_updates(tmp_path, tiny):
    hf = tmp_path / "hf"
    with LocalHub(tiny) as hub:
        result = run(hf, "download", "all", "--no-progress", HF_ENDPOINT=hub.url)
        assert result.exit_code == 1  # the safety checker is not on this hub: named
        assert "stable-diffusion-safety-checker" in " ".join(result.output.split())
        again = run(hf, "download", "sdxl", "--no-progress", HF_ENDPOINT=hub.url,
                    VIDGEN_IMAGE_SAFETY_CHECKER="false")
        assert again.exit_code == 0, again.output
        assert any(r.startswith("GET /api/models/suno/bark") for r in hub.requests)
        rows = statuses(hf)
        assert {rows[n]["state"] for n in ("sdxl", "bark", "bark-voices")} == {"complete"}
        assert run(hf, "verify", "sdxl", "--online", HF_ENDPOINT=hub.url).exit_code == 0

        # What was downloaded is enough for the real loaders, offline.
        from diffusers import StableDiffusionXLPipeline
        from transformers import BarkModel

        StableDiffusionXLPipeline.from_pretrained(SDXL, cache_dir=hf / "hub",
                                                  local_files_only=True)
        BarkModel.from_pretrained(BARK, cache_dir=hf / "hub", local_files_only=True)

        assert "up to date" in run(hf, "updates", "sdxl", HF_ENDPOINT=hub.url).stdout
        changed = [f for f in tiny[SDXL] if f.path != "scheduler/scheduler_config.json"]
        new = hub.publish(SDXL, changed)
        said = run(hf, "updates", "sdxl", HF_ENDPOINT=hub.url).stdout
        assert f"newer revision {new[:12]} published" in said
        offline = run(hf, "updates", "sdxl", HF_ENDPOINT=hub.url, VIDGEN_OFFLINE="1").stdout
        assert "cannot tell offline" in offline
    gone = run(hf, "updates", "sdxl", HF_ENDPOINT=hub.url).stdout  # the hub is down now
    assert "cannot tell: cannot reach" in gone


def test_fp16_only_files_load_through_the_variant_and_full_ones_still_do(tmp_path, tiny):
    """`download` fetches fp16 files where a repository has them: SDXL on a GPU loads them
    with variant="fp16"; a model with full-precision files only still loads."""
    import diffusers
    import torch

    from vidgen_ray.images.sdxl import _load

    full = tmp_path / "full"
    for file in tiny[SDXL]:
        (full / file.path).parent.mkdir(parents=True, exist_ok=True)
        (full / file.path).write_bytes(file.data)
    pipe = diffusers.StableDiffusionXLPipeline.from_pretrained(str(full))
    half = tmp_path / "half"
    pipe.to(torch.float16).save_pretrained(half, variant="fp16")
    assert not list(half.rglob("diffusion_pytorch_model.safetensors"))
    loader = diffusers.StableDiffusionXLPipeline
    loaded = _load(loader, str(half), True, "SDXL model", "--sdxl-model", "fp16",
                   dtype=torch.float16)
    assert loaded.unet.dtype == torch.float16
    fallback = _load(loader, str(full), True, "SDXL model", "--sdxl-model", "fp16",
                     dtype=torch.float16)
    assert fallback.unet.dtype == torch.float16
