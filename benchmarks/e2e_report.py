"""What the e2e benchmark reports about one render, computed from what the farm recorded
(pure, so tests check it on made-up numbers):

- the stage timeline, seconds from the job's start: first and last picture and speech done
  (the job record's per-scene ready times), first and last chunk (when each chunk was
  stored), finished (the record);
- each GPU's busy fraction: the union of its workers' call intervals (every worker times its
  calls: farm/actors/resident.py), over the wall time and up to the last picture;
- the critical path: the chain of waits that ended last (inputs, then the chunks encoded
  after them, then finishing), and which link was longest;
- peak memory per worker: torch's peak allocation on a GPU, the process's peak RSS on CPU.
"""

from __future__ import annotations

EVENTS = ("first_picture", "last_picture", "speech_done", "first_chunk", "last_chunk",
          "finished")


def stage_timeline(started: float, finished: float, image_ready: list[float],
                   speech_ready: list[float], chunk_times: list[float]) -> dict[str, float]:
    """Seconds from the job's start to each event (EVENTS, in that order of keys)."""
    if not (image_ready and speech_ready and chunk_times):
        raise ValueError("a finished render has pictures, speech and chunks: "
                         f"{len(image_ready)} pictures, {len(speech_ready)} scenes voiced, "
                         f"{len(chunk_times)} chunks recorded")
    at = {"first_picture": min(image_ready), "last_picture": max(image_ready),
          "speech_done": max(speech_ready), "first_chunk": min(chunk_times),
          "last_chunk": max(chunk_times), "finished": finished}
    return {name: round(at[name] - started, 3) for name in EVENTS}


def union_seconds(intervals: list[tuple[float, float]], low: float, high: float) -> float:
    """Seconds of [low, high] covered by at least one interval."""
    clipped = sorted((max(a, low), min(b, high)) for a, b in intervals if b > low and a < high)
    total, reach = 0.0, low
    for start, end in clipped:
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total


def busy(workers: list[dict], started: float, timeline: dict[str, float]) -> dict:
    """Busy fractions per GPU (its workers' calls together) and per worker, over the wall
    time and over [start, last picture]. ``workers``: kind, index, gpu_ids, calls."""
    wall, pictures = timeline["finished"], timeline["last_picture"]
    by_gpu: dict[str, list[tuple[float, float]]] = {}
    per_worker = []
    for worker in workers:
        spans = [(c["start"], c["end"]) for c in worker["calls"]]
        for gpu in worker.get("gpu_ids") or []:
            by_gpu.setdefault(str(gpu), []).extend(spans)
        per_worker.append({
            "worker": f"{worker['kind']}[{worker['index']}]", "gpu_ids": worker.get("gpu_ids"),
            "calls": len(spans),
            "busy_of_wall": _fraction(union_seconds(spans, started, started + wall), wall)})
    gpus = {gpu: {"busy_of_wall": _fraction(union_seconds(spans, started, started + wall),
                                            wall),
                  "busy_until_last_picture": _fraction(
                      union_seconds(spans, started, started + pictures), pictures)}
            for gpu, spans in sorted(by_gpu.items())}
    return {"gpus": gpus, "workers": per_worker}


def as_cards(workers: list[dict]) -> list[dict]:
    """A projection's layout: image worker i on card i, the speech workers sharing card 0
    (one SDXL per card, Bark beside the first). Fakes only sleep, so where Ray packed them
    on the logical GPUs does not change their times; this says which card each stands for."""
    return [{**w, "gpu_ids": [str(w["index"] if w["kind"] == "image" else 0)],
             "logical_gpu_ids": w.get("gpu_ids")} for w in workers]


def _fraction(part: float, whole: float) -> float:
    return round(part / whole, 3) if whole > 0 else 0.0


def critical_path(timeline: dict[str, float], mix_done: float | None = None) -> dict:
    """The links that ended last, in order, and the longest of them: the picture or speech
    stage (whichever finished later: chunks need both), the chunks encoded after it, the
    soundtrack if its mix ended after the last chunk, and finishing (join, mux, checks,
    sidecars, QC)."""
    inputs = max(("pictures", timeline["last_picture"]), ("speech", timeline["speech_done"]),
                 key=lambda item: item[1])
    chunks_end = timeline["last_chunk"]
    links = [(inputs[0], inputs[1]),
             ("chunks after the last input", max(0.0, chunks_end - inputs[1]))]
    ready = chunks_end
    if mix_done is not None and mix_done > chunks_end:
        links.append(("soundtrack after the last chunk", mix_done - chunks_end))
        ready = mix_done
    links.append(("finishing", max(0.0, timeline["finished"] - ready)))
    longest = max(links, key=lambda link: link[1])
    return {"links": [{"stage": name, "seconds": round(s, 3)} for name, s in links],
            "bound_by": longest[0],
            "bound_share": _fraction(longest[1], timeline["finished"])}


def peak_memory(workers: list[dict]) -> list[dict]:
    """Per worker: GPU peak allocated (GiB) when it ran on CUDA, else peak RSS (GiB)."""
    rows = []
    for worker in workers:
        stats = worker.get("stats", {})
        gpu = stats.get("gpu_peak_allocated_bytes")
        rss = stats.get("peak_rss_bytes")
        rows.append({"worker": f"{worker['kind']}[{worker['index']}]",
                     "gpu_peak_gib": round(gpu / 2**30, 2) if gpu is not None else None,
                     "rss_peak_gib": round(rss / 2**30, 2) if rss is not None else None})
    return rows


def table(run: dict) -> str:
    """One render's numbers as text: timeline, busy GPUs, critical path, memory."""
    out = [f"{run['label']}: wall {run['wall_s']:.2f} s for {run['video_s']:.1f} s of "
           f"{run['size']} video ({run['scenes']} scenes)"]
    out.append("  timeline (s from job start): " + ", ".join(
        f"{name.replace('_', ' ')} {run['timeline'][name]:.2f}" for name in EVENTS))
    for gpu, numbers in run["busy"]["gpus"].items():
        out.append(f"  GPU {gpu}: busy {numbers['busy_of_wall']:.0%} of the wall time, "
                   f"{numbers['busy_until_last_picture']:.0%} until the last picture")
    for worker in run["busy"]["workers"]:
        out.append(f"  {worker['worker']:<10} GPUs {worker['gpu_ids'] or '-'}: "
                   f"{worker['calls']} calls, busy {worker['busy_of_wall']:.0%}")
    path = run["critical_path"]
    out.append("  critical path: " + " -> ".join(
        f"{link['stage']} {link['seconds']:.2f} s" for link in path["links"])
        + f"; bound by {path['bound_by']} ({path['bound_share']:.0%} of the wall)")
    for row in run["memory"]:
        gpu = "-" if row["gpu_peak_gib"] is None else f"{row['gpu_peak_gib']:.2f} GiB"
        rss = "-" if row["rss_peak_gib"] is None else f"{row['rss_peak_gib']:.2f} GiB"
        out.append(f"  peak memory {row['worker']:<10} GPU {gpu}, RSS {rss}")
    return "\n".join(out)
