"""``vidgen plan [SCRIPT]``: what a render would do and where, without doing it; without a
script, how the model workers pack onto the cards (``--gpu L4 --images sdxl --voice bark``,
``--video-model ltx`` for a job with clip scenes: its motion workers too).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from vidgen_ray.cli.common import SCRIPT_HELP, fail
from vidgen_ray.cli.options import (
    BEDS_FLAGS,
    IMAGE_FLAGS,
    MOTION_FLAGS,
    PLAN_FLAGS,
    with_flags,
    with_llm_options,
)
from vidgen_ray.config import RenderSettings, load_settings
from vidgen_ray.errors import SettingsError, VidgenError

GPU_HELP = ("Plan for cards of this type instead of the cluster's: L4, A10G, 4090, A100-80G, "
            "H100, H200 (or another name Ray reports).")


@with_llm_options
@with_flags({**PLAN_FLAGS, "images": IMAGE_FLAGS["images"], **MOTION_FLAGS,
             "music_model": BEDS_FLAGS["music_model"],
             "ambience_model": BEDS_FLAGS["ambience_model"]},
            into="plan_settings")
def plan(
    script: Path | None = typer.Argument(None, help=SCRIPT_HELP + " Without one, only the "
                                         "GPU packing.", show_default=False),
    gpu: str | None = typer.Option(None, "--gpu", metavar="NAME", help=GPU_HELP),
    gpus: int = typer.Option(1, "--gpus", min=1, max=1024, help="Cards of the --gpu type."),
    voice: str | None = typer.Option(None, "--voice", help="Speech backend: espeak, kokoro, "
                                     "bark (a voice after a colon is allowed and ignored)."),
    as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON."),
    plan_settings: dict | None = None,
    llm_settings: dict | None = None,
) -> None:
    """Show, without rendering, the work SCRIPT makes (requests, calls, chunks), where it
    would run (workers per kind, GPU share each, FFmpeg nodes), how the model workers pack
    onto each card (workers, batch size, GB, what is left; with --video-model ltx the motion
    workers too, LTX-Video's memory an estimate, not measured) and an estimate of its cost
    (clips per clip scene; their GPU time is not measured yet)."""
    from vidgen_ray.farm.connect import cluster_resources  # imports ray: only here
    from vidgen_ray.farm.plan import plan_render
    from vidgen_ray.pipeline.source import load_storyboard
    from vidgen_ray.speech import parse_voice_option

    try:
        backend = parse_voice_option(voice)[0] if voice else None
        settings = load_settings(tts_model=backend, **(plan_settings or {}),
                                 **(llm_settings or {}))
        cluster = cluster_resources(settings.ray_address)
        if gpu:
            cluster = with_cards(cluster, gpu, gpus)
        if script is None:
            tables, data = _packing_only(settings, cluster)
        else:
            planned = plan_render(load_storyboard(script, settings), settings, cluster)
            tables, data = planned.rows(), planned.to_dict()
    except VidgenError as exc:
        fail(exc)
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    out = Console()
    for section, rows in tables.items():
        table = Table(title=section, title_justify="left")
        for column in rows[0] if rows else []:
            table.add_column(column)
        for row in rows:
            table.add_row(*row.values())
        out.print(table)
    if script is None and data.get("fits") is False:  # the answer to "can this run here?"
        fail(SettingsError(f"the models cannot fit: {data['notes'][0]}", field="gpu"))


def with_cards(cluster: dict[str, float], name: str, count: int) -> dict[str, float]:
    """The cluster with its GPUs replaced by ``count`` cards named ``name``."""
    from vidgen_ray.farm.placement import GPU_MEMORY_GB

    if name not in GPU_MEMORY_GB:
        raise SettingsError(f"--gpu {name!r} is not a card we know the memory of: choose one "
                            f"of {', '.join(sorted(GPU_MEMORY_GB))}, or set "
                            "VIDGEN_GPU_MEMORY_GB", field="gpu")
    kept = {k: v for k, v in cluster.items()
            if k != "GPU" and not k.startswith("accelerator_type:")}
    return kept | {"GPU": float(count), f"accelerator_type:{name}": float(count)}


def _packing_only(settings: RenderSettings, cluster: dict[str, float]) -> tuple[dict, dict]:
    """The GPU packing alone, as tables and as JSON."""
    from dataclasses import asdict

    from vidgen_ray.farm.plan import clip_cost_note, packing_rows, plan_gpus

    gpus = plan_gpus(settings, cluster)  # a job with clip scenes, when a video model is set
    clips = [clip_cost_note(settings)] if settings.video_model != "none" else []
    if gpus is None:
        note = ("no worker takes GPU: the embedded backends (cards, espeak) and Kokoro run "
                "on CPUs" if cluster.get("GPU") else "no GPU in the cluster: name one with "
                "--gpu (L4, A10G, 4090, A100-80G, H100, H200)")
        return ({"Notes": [{"note": n} for n in (note, *clips)]},
                {"gpus": None, "notes": [note, *clips]})
    notes = [*([gpus.problem] if gpus.problem else []), *clips]
    tables = {"GPU packing": packing_rows(gpus)}
    if notes:
        tables["Notes"] = [{"note": note} for note in notes]
    return tables, {"gpus": asdict(gpus), "fits": gpus.fits, "notes": notes}
