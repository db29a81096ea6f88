"""What a render would do, without doing it: ``vidgen plan SCRIPT``.

The task graph (requests, worker calls, chunks), where each kind of work would run on a given
cluster (``placement`` decides, exactly as the farm will), how the model workers pack onto
each card by the measured memory table (``memory.pack``: workers, batch size, GB, what is
left, or why they cannot fit; with clip scenes the motion workers too, placed as the farm's
budget places a clip job's pools), and an estimate of the work: encoding, and the clips each
clip scene takes (their GPU time only where the table has a measured time per clip: none
yet).
Speech is not synthesized, so its length is guessed from the text at an assumed speaking
rate; the timeline is then planned by ``plan_timeline`` as a render would, so the chunk count
is the one a render of speech that long would use.

Pure: no Ray, no FFmpeg. ``cluster`` is a dict shaped like ``ray.cluster_resources()``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

from vidgen_ray.config import RenderSettings
from vidgen_ray.farm.budget import Ask, fit
from vidgen_ray.farm.memory import MEASURED, CardPlan, Packing, gpu_model
from vidgen_ray.farm.placement import (
    assembly_options,
    cards,
    on_gpu,
    packing,
    pool_size,
    sized,
    worker_options,
)
from vidgen_ray.farm.plan_generated import (
    BedCost,
    TalkingCost,
    bed_cost,
    bed_rows,
    talking_cost,
    talking_rows,
)
from vidgen_ray.pipeline.motion_parts import clip_scenes, plan_fit, scene_frames
from vidgen_ray.pipeline.talking_parts import talking_lines
from vidgen_ray.storyboard import Storyboard
from vidgen_ray.timeline import Pacing, Timeline, motion_notes, plan_timeline

SPEECH_CHARS_PER_SECOND = 15.0  # a typical narrator at speed 1.0; tts_speed scales it
ENCODE_CPU_SECONDS = 2.1  # CPU-s per second of 1280x720 video (BENCHMARKS.md)
_REFERENCE_PIXELS = 1280 * 720


@dataclass(frozen=True)
class TaskGraph:
    scenes: int
    lines: int
    speech_requests: int  # one per line
    image_requests: int  # one per scene
    speech_calls: int  # worker calls: requests in batches of speech_batch_size
    image_calls: int
    chunks: int  # pieces of video encoded in parallel, then joined
    chunk_seconds: float


@dataclass(frozen=True)
class Placement:
    kind: str  # "image", "speech" or "ffmpeg"
    count: int  # workers in the pool; for ffmpeg, chunk encodes that can run at once
    gpus_each: float
    cpus_each: float
    per_gpu: int | None  # workers of this kind that fit on one GPU; None off the GPU
    runs_on: str  # "GPU", "CPU", "assembly nodes" or "any CPU"
    options: dict  # the Ray options, as the farm will pass them


@dataclass(frozen=True)
class Estimate:
    video_seconds: float
    frames: int
    width: int
    height: int
    speech_chars_per_second: float
    encode_cpu_seconds: float
    encode_wall_seconds: float | None  # at best, with every encode slot busy; None: no slot


@dataclass(frozen=True)
class MotionCost:
    """What a render's clip scenes ask of the motion workers."""

    scenes: tuple[int, ...]  # the clip scenes, numbered from 1
    seconds: tuple[float, ...]  # each one's time on screen (the estimated timeline)
    clips: tuple[int, ...]  # clips generated for each (max_clips_per_scene at most)
    gpu_seconds_per_clip: float | None  # the memory table's, where measured; None: not yet


@dataclass(frozen=True)
class RenderPlan:
    title: str
    graph: TaskGraph
    placement: tuple[Placement, ...]
    estimate: Estimate
    cluster: dict[str, float]
    notes: tuple[str, ...]  # things the user should know before rendering
    gpus: Packing | None = None  # the model workers per card; None without GPU models
    motion: MotionCost | None = None  # None without clip scenes (or without a video model)
    talking: TalkingCost | None = None  # None without talking shots
    beds: BedCost | None = None  # None without generated beds

    def to_dict(self) -> dict:
        return asdict(self)

    def rows(self) -> dict[str, list[dict[str, str]]]:
        """Tables to print: title -> rows, every row of a table with the same columns."""
        tables = {"Task graph": _graph_rows(self.graph),
                  "Placement": [_placement_row(p) for p in self.placement],
                  "Estimate": _estimate_rows(self.estimate, self.graph)}
        if self.gpus is not None and self.gpus.cards:
            tables["GPU packing"] = packing_rows(self.gpus)
        if self.motion is not None:
            tables["Clip scenes"] = _motion_rows(self.motion)
        if self.talking is not None:
            tables["Talking shots"] = talking_rows(self.talking)
        if self.beds is not None:
            tables["Generated beds"] = bed_rows(self.beds)
        if self.notes:
            tables["Notes"] = [{"note": note} for note in self.notes]
        return tables


def plan_render(storyboard: Storyboard, settings: RenderSettings,
                cluster: dict[str, float]) -> RenderPlan:
    clips = clip_scenes(storyboard, settings)  # the motion pool starts only for these
    gpus = plan_gpus(settings, cluster, motion=bool(clips))
    settings = sized(settings, cluster)  # batch sizes as the farm will choose them
    timeline = estimate_timeline(storyboard, settings)
    graph = _graph(storyboard, settings, timeline)
    talking = talking_cost(timeline, settings.talking_model)
    beds = bed_cost(storyboard, settings, timeline)
    kinds = ("image", "speech", *(("motion",) if clips else ()),
             *(("talking",) if talking else ()), *(("beds",) if beds else ()))
    workers = tuple(_worker_placement(kind, settings, cluster) for kind in kinds)
    ffmpeg = _ffmpeg_placement(settings, cluster, workers)
    estimate = _estimate(settings, timeline, graph, ffmpeg)
    notes = [*([gpus.problem] if gpus and gpus.problem else []),
             *_notes(cluster, workers, ffmpeg),
             *motion_notes(storyboard, settings.video_model),
             *([clip_cost_note(settings)] if clips else [])]
    return RenderPlan(title=storyboard.title, graph=graph, placement=(*workers, ffmpeg),
                      estimate=estimate, cluster=dict(cluster), notes=tuple(notes), gpus=gpus,
                      motion=_motion_cost(settings, timeline, clips) if clips else None,
                      talking=talking, beds=beds)


def plan_gpus(settings: RenderSettings, cluster: dict[str, float],
              motion: bool = True) -> Packing | None:
    """The model workers per card, as the farm sizes its pools; None when no worker takes
    GPU (the embedded backends, or no GPU in the cluster). ``motion``: the job has clip
    scenes, so its video model's pool starts too (the plan without a script assumes so)."""
    kinds = ("image", "speech", "motion") if motion else ("image", "speech")
    if not any(on_gpu(kind, settings, cluster) for kind in kinds):
        return None
    packed = packing(settings, cluster)
    if not (motion and on_gpu("motion", settings, cluster)):
        return packed
    return _with_motion(packed, settings, cluster)


def _with_motion(packed: Packing, settings: RenderSettings,
                 cluster: dict[str, float]) -> Packing:
    """The cards as an idle farm fills them for a job with clip scenes (pools.py asks
    ``budget.fit``: one worker of each pool first, largest GPU share first, then more up to
    each pool's size), so SDXL and Bark may sit elsewhere than ``pack`` alone puts them;
    or why the three pools cannot all start."""
    model = gpu_model("motion", settings)
    if model is None or not packed.fits:
        return replace(packed, motion=model)
    sized_settings = sized(settings, cluster)
    kinds = [k for k in ("image", "speech", "motion") if on_gpu(k, sized_settings, cluster)]
    asks = [Ask(worker_options(k, sized_settings, cluster)["num_gpus"],
                pool_size(k, sized_settings, cluster)) for k in kinds]
    free = [replace(card, id=str(i)) for i, card in enumerate(cards(settings, cluster))]
    placed = fit({card.id: 1.0 for card in free}, asks)
    need = model.need(1)
    if placed is None:
        beside = " beside the image and speech workers" if len(kinds) > 1 else ""
        how = "an estimate, not measured" if need.estimate else "measured"
        return replace(packed, cards=tuple(CardPlan(card) for card in free), motion=model,
                       problem=(f"{need.model} ({need.gb:.1f} GB per worker, {how}) does not "
                                f"fit{beside} on {len(free)} x {free[0].describe()}: a job "
                                "with clip scenes would be refused; use more or larger "
                                "cards, cards/espeak for pictures or speech, or video_model "
                                "none"))
    where = dict(zip(kinds, placed[1], strict=True))
    needs = {"image": packed.need("image"), "speech": packed.need("speech"), "motion": need}
    counts = {kind: [where.get(kind, []).count(card.id) for card in free]
              for kind in ("image", "speech", "motion")}
    plans = tuple(CardPlan(card, counts["image"][i], needs["image"], counts["speech"][i],
                           needs["speech"], counts["motion"][i], needs["motion"])
                  for i, card in enumerate(free))
    return replace(packed, cards=plans, motion=model)


def clip_cost_note(settings: RenderSettings) -> str:
    """What one clip scene costs, in clips (from the settings), and in GPU time only where
    the memory table has a measured time per clip."""
    seconds = settings.ltx_frames / settings.ltx_fps
    table = MEASURED[settings.video_model]
    said = (f"about {table.call_seconds:g} GPU-s per clip ({table.source})"
            if table.call_seconds is not None else
            f"GPU time per clip is not measured yet (farm/memory.py has none for "
            f"{table.label}), so none is given")
    return (f"a clip scene takes one {seconds:.1f} s clip ({settings.ltx_frames} frames at "
            f"{settings.ltx_fps} fps) per {seconds - settings.clip_crossfade:.1f} s on screen "
            f"(clips crossfade {settings.clip_crossfade:g} s), {settings.max_clips_per_scene} "
            f"at most (max_clips_per_scene; a longer scene shows them again); {said}")


def _motion_cost(settings: RenderSettings, timeline: Timeline,
                 scenes: list[int]) -> MotionCost:
    frames = scene_frames(timeline)
    clips = tuple(plan_fit(settings, frames[i]).clips for i in scenes)
    return MotionCost(scenes=tuple(i + 1 for i in scenes),
                      seconds=tuple(frames[i] / settings.fps for i in scenes), clips=clips,
                      gpu_seconds_per_clip=MEASURED[settings.video_model].call_seconds)


def estimate_timeline(storyboard: Storyboard, settings: RenderSettings) -> Timeline:
    """The timeline a render would plan if every line took its length in characters at the
    assumed speaking rate."""
    rate = SPEECH_CHARS_PER_SECOND * settings.tts_speed
    seconds = [[len(line.text) / rate for line in scene.lines] for scene in storyboard.scenes]
    pacing = Pacing(fps=settings.fps, crossfade=settings.crossfade,
                    transition=settings.transition)
    return plan_timeline(storyboard, seconds, pacing, seed=settings.seed,
                         generated=settings.video_model != "none",
                         talking=talking_lines(storyboard, settings))


def _graph(storyboard: Storyboard, settings: RenderSettings, timeline: Timeline) -> TaskGraph:
    lines, scenes = storyboard.line_count(), len(storyboard.scenes)
    pictures = scenes * len(set(settings.picture_sizes.values()))  # a set per shape
    return TaskGraph(
        scenes=scenes, lines=lines, speech_requests=lines, image_requests=pictures,
        speech_calls=math.ceil(lines / settings.speech_batch_size),
        image_calls=math.ceil(pictures / settings.image_batch_size),
        chunks=len(timeline.chunks(settings.chunk_seconds)) * (1 + len(settings.rendition_sizes)),
        chunk_seconds=settings.chunk_seconds)


def _worker_placement(kind: str, settings: RenderSettings,
                      cluster: dict[str, float]) -> Placement:
    options = worker_options(kind, settings, cluster)
    gpus = float(options.get("num_gpus", 0))
    return Placement(
        kind=kind, count=pool_size(kind, settings, cluster), gpus_each=gpus,
        cpus_each=float(options.get("num_cpus", 1)),
        per_gpu=math.floor(1 / gpus + 1e-6) if gpus else None,
        runs_on="GPU" if gpus else "CPU", options=options)


def _ffmpeg_placement(settings: RenderSettings, cluster: dict[str, float],
                      workers: tuple[Placement, ...]) -> Placement:
    """FFmpeg tasks, counted as the chunk encodes that fit in what the resident workers
    leave free (a CPU worker holds its CPU for as long as it lives)."""
    options = assembly_options(cluster, settings.ffmpeg_threads)
    free = dict(cluster)
    free["CPU"] = free.get("CPU", 0.0) - sum(w.count * w.cpus_each for w in workers)
    needs = {"CPU": float(options.get("num_cpus", 1)), **options.get("resources", {})}
    slots = min(math.floor(max(0.0, free.get(name, 0.0)) / amount + 1e-9)
                for name, amount in needs.items())
    runs_on = "assembly nodes" if "assembly" in needs else "any CPU"
    return Placement(kind="ffmpeg", count=slots, gpus_each=0.0, cpus_each=needs["CPU"],
                     per_gpu=None, runs_on=runs_on, options=options)


def _estimate(settings: RenderSettings, timeline: Timeline, graph: TaskGraph,
              ffmpeg: Placement) -> Estimate:
    width, height = settings.size
    cpu = ENCODE_CPU_SECONDS * timeline.duration * width * height / _REFERENCE_PIXELS
    wall = None
    if ffmpeg.count and graph.chunks:
        # Chunks are equal, so they run in waves of `slots`; threads share a chunk's work.
        waves = math.ceil(graph.chunks / ffmpeg.count)
        wall = waves * cpu / graph.chunks / ffmpeg.cpus_each
    elif not graph.chunks:
        wall = 0.0
    return Estimate(video_seconds=timeline.duration, frames=timeline.total_frames,
                    width=width, height=height,
                    speech_chars_per_second=SPEECH_CHARS_PER_SECOND * settings.tts_speed,
                    encode_cpu_seconds=cpu, encode_wall_seconds=wall)


def _notes(cluster: dict[str, float], workers: tuple[Placement, ...],
           ffmpeg: Placement) -> list[str]:
    notes = []
    gpus = cluster.get("GPU", 0.0)
    if not gpus:
        notes.append("no GPU in the cluster: model workers run on CPUs, one CPU each")
    asked = sum(w.count * w.gpus_each for w in workers)
    if gpus and asked > gpus + 1e-6:
        notes.append(f"the worker pools ask for {asked:.2f} GPUs and the cluster has "
                     f"{gpus:g}: some workers will wait; lower VIDGEN_IMAGE_WORKERS or "
                     "VIDGEN_SPEECH_WORKERS")
    if ffmpeg.count == 0:
        notes.append(f"no room for an FFmpeg task (it needs {ffmpeg.cpus_each:g} CPU on "
                     f"{ffmpeg.runs_on}) while the workers hold their CPUs: add CPUs, or "
                     "lower VIDGEN_IMAGE_WORKERS, VIDGEN_SPEECH_WORKERS or "
                     "VIDGEN_FFMPEG_THREADS")
    return notes


# ---- tables --------------------------------------------------------------------------------

def packing_rows(gpus: Packing) -> list[dict[str, str]]:
    """One row per card: its workers of each kind (count, model, batch, GB each; motion
    workers when a clip job's are placed), the GB they hold and what is left."""
    def workers(count: int, need, model) -> str:
        if model is None:
            return "no GPU (embedded or CPU backend)"
        if not count or need is None:
            return f"no {model.label} worker"
        how = ("your setting" if model.given_gb else
               "estimate, not measured" if need.estimate else
               "peak measured" if need.measured else "peak interpolated")
        return f"{count} x {need.model}, batch {need.batch}, {need.gb:.1f} GB each ({how})"

    rows = []
    for i, plan in enumerate(gpus.cards):
        row = {"card": f"{i} {plan.card.describe()}",
               "image workers": workers(plan.image_workers, plan.image, gpus.image),
               "speech workers": workers(plan.speech_workers, plan.speech, gpus.speech)}
        if gpus.motion is not None:
            row["motion workers"] = workers(plan.motion_workers, plan.motion, gpus.motion)
        rows.append(row | {"GB used": f"{plan.used_gb:.1f}", "GB left": f"{plan.left_gb:.1f}"})
    return rows


def _motion_rows(motion: MotionCost) -> list[dict[str, str]]:
    per_clip = motion.gpu_seconds_per_clip
    rows = [{"scene": str(scene), "on screen": f"{seconds:.1f} s", "clips": str(clips),
             "GPU time": "not measured yet" if per_clip is None else f"{clips * per_clip:.0f} s"}
            for scene, seconds, clips in zip(motion.scenes, motion.seconds, motion.clips,
                                             strict=True)]
    total = sum(motion.clips)
    rows.append({"scene": "all", "on screen": f"{sum(motion.seconds):.1f} s",
                 "clips": str(total), "GPU time": "not measured yet" if per_clip is None
                 else f"{total * per_clip:.0f} s"})
    return rows


def _graph_rows(graph: TaskGraph) -> list[dict[str, str]]:
    def row(stage: str, requests: int, calls: int, runs_on: str) -> dict[str, str]:
        return {"stage": stage, "requests": str(requests), "calls": str(calls),
                "runs on": runs_on}

    return [row("speech", graph.speech_requests, graph.speech_calls, "speech workers"),
            row("images", graph.image_requests, graph.image_calls, "image workers"),
            row(f"video chunks ({graph.chunk_seconds:g} s)", graph.chunks, graph.chunks,
                "FFmpeg"),
            row("soundtrack mix", 1, 1, "FFmpeg"),
            row("mux", 1, 1, "FFmpeg")]


def _placement_row(placement: Placement) -> dict[str, str]:
    ffmpeg = placement.kind == "ffmpeg"
    return {"work": "FFmpeg tasks" if ffmpeg else f"{placement.kind} workers",
            "count": f"{placement.count} at once" if ffmpeg else str(placement.count),
            "GPU each": f"{placement.gpus_each:.4g}",
            "per GPU": "-" if placement.per_gpu is None else str(placement.per_gpu),
            "CPU each": f"{placement.cpus_each:g}", "runs on": placement.runs_on}


def _estimate_rows(estimate: Estimate, graph: TaskGraph) -> list[dict[str, str]]:
    wall = estimate.encode_wall_seconds
    values = {
        "video": f"{estimate.video_seconds:.1f} s ({estimate.frames} frames, "
                 f"{estimate.width}x{estimate.height})",
        "assumed speech rate": f"{estimate.speech_chars_per_second:g} characters/s",
        "encode work": f"{estimate.encode_cpu_seconds:.0f} CPU-s",
        "encode time, at best": "no slot to run in" if wall is None else f"{wall:.0f} s",
        "speech calls": f"{graph.speech_calls} for {graph.speech_requests} lines",
        "image calls": f"{graph.image_calls} for {graph.image_requests} scenes",
    }
    return [{"estimate": name, "value": value} for name, value in values.items()]
