"""How long does a one-minute narrated video take on the farm? A 12-scene, ~60 s, 1080p30 script
(benchmarks/e2e_script.md: narration and two speakers) rendered through the real Farm (shared
pools of resident SDXL and Bark workers on Ray, FFmpeg tasks for chunks and the mix), warm.

    .venv/bin/python benchmarks/e2e_render.py                 # on GPUs: --gpus N (default 1)
    .venv/bin/python benchmarks/e2e_render.py --tiny          # the same path on the CPU
    .venv/bin/python benchmarks/e2e_render.py --projection [E2E_JSON]   # 8 logical GPUs
    .venv/bin/python benchmarks/e2e_render.py --paths quality,fast      # both picture paths
    .venv/bin/python benchmarks/e2e_render.py --tiny --motion clip      # every scene a clip

Warm: the first render on a farm starts its pools (loads the models) and is not reported;
the second, on the same farm, uses other scene seeds and a fresh parts folder, so nothing
comes from the cache. Models (benchmarks/e2e_models.py): real weights when the Hugging Face
cache holds them, else the full-size architectures with random fp16 weights (said so in the
output); ``--tiny``: the tiny random-weight models on the CPU (one logical GPU, so SDXL and
Bark share it through fractional GPUs as on a card). ``--projection``: fakes that sleep for
per-call latencies measured on a GPU (an earlier e2e JSON, else BENCHMARKS.md's numbers) on
8 logical GPUs, labelled PROJECTION, each image worker standing for one card and Bark sharing
the first (e2e_report.as_cards); FFmpeg stays real on this machine's CPUs.

``--motion clip`` makes every scene a generated clip (``motion: clip``, its description as
the motion prompt) with LTX-Video's motion workers beside SDXL and Bark (e2e_models.
motion_settings): the tiny LTX-Video with ``--tiny``, the cached weights on a GPU.

``--fast`` (or ``--paths fast``) sets ``image_fast_path=lightning``, the few-step SDXL path of
issue 17; a build without that setting says so and stops.

Reported per render (benchmarks/e2e_report.py): the stage timeline, each GPU's busy fraction,
the critical path, peak memory per worker, and the wall time. Prints a table and writes
benchmarks/results/e2e_render_<models>.json (or under ``--results``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # sibling modules
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # the repository's vidgen_ray

import e2e_models  # noqa: E402
import e2e_report  # noqa: E402
from common import RESULTS, start_ray, write_results  # noqa: E402
from machine import machine  # noqa: E402

from vidgen_ray.config import RenderSettings  # noqa: E402
from vidgen_ray.images.sdxl_sampling import steps_of  # noqa: E402
from vidgen_ray.pipeline.source import load_storyboard  # noqa: E402
from vidgen_ray.storyboard import Storyboard  # noqa: E402

SCRIPT = Path(__file__).resolve().parent / "e2e_script.md"
PATHS = ("quality", "fast")
PROJECTED_GPUS = 8
CARD_GB_LOGICAL = 80.0  # the logical GPUs stand for H100s
TARGETS = {"wall_s": 40.0, "goal_wall_s": 20.0, "busy_until_last_picture": 0.8}


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--tiny", action="store_true", help="tiny models on the CPU")
    mode.add_argument("--projection", nargs="?", const="", metavar="E2E_JSON",
                      help="fakes with measured latencies on 8 logical GPUs")
    parser.add_argument("--gpus", type=int, default=None,
                        help="cards to use (default 1; 8 logical ones for --projection)")
    parser.add_argument("--scenes", type=int, default=12, help="the script's first N scenes")
    parser.add_argument("--resolution", default="1080p")
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--paths", default="quality",
                        help="picture paths to run, comma-separated: quality, fast")
    parser.add_argument("--fast", action="store_true", help="same as --paths fast")
    parser.add_argument("--image-workers", type=int, help="default: one per card")
    parser.add_argument("--speech-workers", type=int, default=1)
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder for the JSON")
    parser.add_argument("--keep", type=Path, help="keep the rendered videos in this folder")
    parser.add_argument("--motion", choices=("camera", "clip"), default="camera",
                        help="clip: every scene a generated clip (LTX-Video's workers too)")
    args = parser.parse_args(argv)
    args.paths = ["fast"] if args.fast else [p.strip() for p in args.paths.split(",")]
    unknown = sorted(set(args.paths) - set(PATHS))
    if unknown:
        parser.error(f"unknown picture path {unknown[0]!r}: choose from {', '.join(PATHS)}")
    if not 1 <= args.scenes <= 12:
        parser.error("--scenes takes 1 to 12 (the script has 12)")
    args.mode = "tiny" if args.tiny else "projection" if args.projection is not None else "gpu"
    if args.motion == "clip" and args.mode == "projection":
        parser.error("--motion clip runs with --tiny or on a GPU (no measured LTX latency to "
                     "project yet)")
    args.gpus = args.gpus or (PROJECTED_GPUS if args.mode == "projection" else 1)
    return args


def script(scenes: int, seed_base: int | None = None, motion: str = "camera") -> Storyboard:
    """The benchmark script's first ``scenes`` scenes; ``seed_base`` gives every scene its
    own seed (the measured render draws new pictures); ``motion`` clip: every scene a
    generated clip, moving as its description says."""
    board = load_storyboard(SCRIPT).model_dump()
    board["scenes"] = board["scenes"][:scenes]
    for index, scene in enumerate(board["scenes"]):
        if seed_base is not None:
            scene["seed"] = seed_base + index
        if motion == "clip":
            scene.update(motion="clip", camera=None,
                         motion_prompt=f"slow camera drift: {scene['description']}")
    return Storyboard.model_validate(board)


def card() -> tuple[str, float | None]:
    """The first card's name and memory (GiB), or says there is no CUDA."""
    import torch

    if not torch.cuda.is_available():
        return "no CUDA (CPU)", None
    props = torch.cuda.get_device_properties(0)
    return props.name, props.total_memory / 2**30


def base_settings(args: argparse.Namespace, path: str, card_gb: float | None) -> dict:
    settings = {"resolution": args.resolution, "fps": args.fps, "aspect": "16:9",
                "image_model": "sdxl", "tts_model": "bark", "offline": True,
                "image_safety_checker": False,  # not cached offline; its cost is small
                "image_workers": args.image_workers or args.gpus,
                "speech_workers": args.speech_workers,
                "image_gpu_gb": e2e_models.IMAGE_GPU_GB,
                "speech_gpu_gb": e2e_models.SPEECH_GPU_GB,
                "gpu_memory_gb": round(card_gb or CARD_GB_LOGICAL, 1)}
    if path == "fast":
        settings["image_fast_path"] = "lightning"
    return settings


async def render(farm, board: Storyboard, settings: RenderSettings, out: Path) -> dict:
    """One job on the farm, start to finish; what the report needs of it."""
    job = await farm.submit(board, str(out), settings, parts_dir=str(out / "parts"))
    result = await farm.wait(job)
    record = await farm.status(job)
    chunks = [p.stat().st_mtime for p in (out / "parts" / "chunk").glob("*.mp4")]
    return {"record": record, "duration": result.duration, "chunk_times": chunks,
            "workers": await worker_rows(farm, record.started)}


async def worker_rows(farm, since: float) -> list[dict]:
    """Every worker of the farm's pools: kind, GPUs, stats, and its calls since ``since``."""
    rows = []
    for pool in farm.pools.values():
        stats = await pool.stats()
        calls = await asyncio.gather(*[w.calls.remote(since) for w in pool.workers])
        for index, (ready, info, timed) in enumerate(zip(pool.ready_info, stats, calls,
                                                         strict=True)):
            rows.append({"kind": pool.kind, "index": index, "gpu_ids": ready.get("gpu_ids"),
                         "gpu_share": pool.options.get("num_gpus", 0.0), "stats": info,
                         "calls": timed})
    return rows


def summary(label: str, path: str, measured: dict, warm_up_s: float, size: str,
            projected: bool) -> dict:
    record = measured["record"]
    parts = record.scene_parts
    timeline = e2e_report.stage_timeline(
        record.started, record.finished, [p.image_ready for p in parts if p.image_ready],
        [p.speech_ready for p in parts if p.speech_ready], measured["chunk_times"])
    mix = record.timings.get("audio")
    workers = e2e_report.as_cards(measured["workers"]) if projected else measured["workers"]
    return {"label": label, "path": path, "first_render_wall_s": round(warm_up_s, 2),
            "wall_s": timeline["finished"], "video_s": round(measured["duration"], 2),
            "size": size, "scenes": len(record.scenes), "timeline": timeline,
            "busy": e2e_report.busy(workers, record.started, timeline),
            "critical_path": e2e_report.critical_path(
                timeline, timeline["speech_done"] + mix if mix is not None else None),
            "memory": e2e_report.peak_memory(workers), "stage_seconds": record.timings,
            "workers": workers}


async def run_path(args, path: str, models: e2e_models.Models, base: dict, work: Path,
                   label: str) -> dict:
    """Two renders on one farm (cold, then warm with other seeds); the warm one's summary."""
    from vidgen_ray.farm.scheduler import Farm

    settings = RenderSettings(**base, **models.settings)
    farm = Farm(max_running=1, factories=models.factories or None)
    try:
        started = time.perf_counter()
        await render(farm, script(args.scenes, motion=args.motion), settings,
                     work / f"{path}-first")
        warm_up = time.perf_counter() - started
        warm_settings = settings.model_copy(update={"seed": 1})
        measured = await render(farm, script(args.scenes, seed_base=1000, motion=args.motion),
                                warm_settings, work / f"{path}-warm")
    finally:
        await farm.shutdown()
    size = f"{settings.size[0]}x{settings.size[1]}@{settings.fps}"
    return {**summary(label, path, measured, warm_up, size, models.kind == "projection"),
            "settings": {**base, **models.settings}}


async def run_all(args: argparse.Namespace, work: Path) -> dict:
    name, card_gb = card()
    runs, chosen = [], None
    for path in args.paths:
        base = base_settings(args, path, card_gb)
        if args.mode == "projection":
            steps = steps_of(RenderSettings(**base))
            chosen = e2e_models.projection(work / "models", Path(args.projection)
                                           if args.projection else None, steps)
        else:
            chosen = e2e_models.choose(args.mode, work / "models", base)
        if args.motion == "clip":
            motion, said = e2e_models.motion_settings(args.mode, work / "models")
            chosen.settings, chosen.note = {**chosen.settings, **motion}, f"{chosen.note}; {said}"
        label = (f"PROJECTION for {args.gpus} cards, {path}" if args.mode == "projection"
                 else f"tiny models on the CPU, 1 logical GPU, {path}" if args.mode == "tiny"
                 else f"{chosen.kind} models, {args.gpus} GPU(s), {path}")
        label += ", every scene a clip" if args.motion == "clip" else ""
        runs.append(await run_path(args, path, chosen, base, work, label))
    return {"machine": machine(), "device": name, "gpus": args.gpus, "models": chosen.kind,
            "note": chosen.note, "projection": args.mode == "projection",
            "motion": args.motion,
            "latency": chosen.latency, "script": SCRIPT.name, "runs": runs,
            "targets": TARGETS if chosen.kind in ("real", "random") else None,
            "date": time.strftime("%Y-%m-%d")}


def report(result: dict) -> None:
    print(f"machine: {result['machine']}; device: {result['device']}")
    print(f"models: {result['note']}")
    for run in result["runs"]:
        print(e2e_report.table(run))
        if result["targets"]:
            print("  " + targets_line(run, result["targets"]))


def targets_line(run: dict, targets: dict) -> str:
    gpus = run["busy"]["gpus"]
    busy = min((g["busy_until_last_picture"] for g in gpus.values()), default=0.0)
    wall_ok = run["wall_s"] <= targets["wall_s"]
    busy_ok = busy >= targets["busy_until_last_picture"]
    return (f"targets (one H100-class card): wall {run['wall_s']:.1f} s <= "
            f"{targets['wall_s']:.0f} s {'met' if wall_ok else 'MISSED'} (goal "
            f"{targets['goal_wall_s']:.0f} s); GPU busy until the last picture {busy:.0%} >= "
            f"{targets['busy_until_last_picture']:.0%} {'met' if busy_ok else 'MISSED'}")


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    work = Path(tempfile.mkdtemp(prefix="vidgen_e2e_"))
    start_ray(os.cpu_count() or 2, args.gpus, object_store_mb=1024)
    try:
        result = asyncio.run(run_all(args, work))
    finally:
        import ray

        ray.shutdown()
        if args.keep:
            shutil.copytree(work, args.keep, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("models"))
        shutil.rmtree(work, ignore_errors=True)
    report(result)
    clips = "_clip" if result["motion"] == "clip" else ""
    target = write_results(f"e2e_render_{result['models']}{clips}", result, args.results)
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
