"""GPU memory: what one worker of each model holds at each batch size, from the project's
measurements (BENCHMARKS.md), and how workers of a job's two models pack onto cards.

Pure: no Ray, no torch. A card is a ``Card`` (a name and its memory); ``pack`` answers, per
card, how many image and speech workers at which batch size, how many GB they hold and what
is left, or why the models cannot fit. The farm sizes its pools with it (placement.py), the
budget refuses a job that can never fit (budget.py), and ``vidgen plan`` prints it.

The table holds peak memory as torch counts it (``torch.cuda.max_memory_allocated``, GiB)
after a warm call. A worker holds more than that: its CUDA context and the caching
allocator's slack (``WORKER_OVERHEAD_GB``), plus what the benchmark did not load (the safety
checker, a refiner, an IP-Adapter: ``SDXL_EXTRAS_GB``, from their parameter counts, not
measured). Batch sizes between two measured ones are interpolated linearly, past the last
one extrapolated from the last two; ``Need.measured`` says which.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vidgen_ray.config import RenderSettings


@dataclass(frozen=True)
class ModelMemory:
    label: str
    peak_gb: dict[int, float]  # batch size -> measured peak (GiB)
    source: str
    estimate: bool = False  # from parameter counts, not a measurement: never "measured"
    # GPU seconds of one warm call at batch 1 with the default settings, where measured (a
    # video model's: one clip); None: not measured, and `vidgen plan` says so.
    call_seconds: float | None = None


MEASURED = {
    "sdxl": ModelMemory("SDXL", {1: 11.53, 4: 25.79},
                        "H200, fp16+SDPA, 1024x1024, 30 steps, no safety checker, 2026-11-25"),
    "bark": ModelMemory("Bark", {1: 3.98, 8: 4.74, 16: 5.61},
                        "H100, fast decoding, fp16, 5 s lines, 2026-11-26"),
    "bark-transformers": ModelMemory("Bark", {1: 2.32, 8: 3.45, 16: 4.76},
                                     "H100, transformers' generate, fp16, 2026-11-26"),
    # An ESTIMATE, NOT MEASURED (no GPU or real weights where it was written): the 2B
    # transformer and the T5-XXL text encoder in bf16 (~4 + ~9.5 GB of weights), plus a
    # 768x512x121 clip's activations and VAE decode. Measure it (benchmarks) and replace,
    # with its seconds per clip (call_seconds) beside it.
    "ltx": ModelMemory("LTX-Video", {1: 18.0},
                       "estimate, not measured: 2B DiT + T5-XXL in bf16, 768x512, 121 frames",
                       estimate=True),
    # An ESTIMATE, NOT MEASURED, likewise: LTX-2 for talking shots, ~19 B parameters of
    # video and audio DiT in bf16 (~38 GB), the Gemma 3 12B text encoder (~24 GB), the
    # VAEs and vocoder, plus a 768x512 clip of a few seconds' activations and decode.
    "ltx2": ModelMemory("LTX-2", {1: 70.0},
                        "estimate, not measured: 19B DiT + Gemma 3 12B in bf16, 768x512, 5 s",
                        estimate=True),
    # An ESTIMATE, NOT MEASURED, likewise: Stable Audio Open, ~1.2 B parameters in fp16
    # (~2.4 GB: DiT 1.06 B, T5-base, the Oobleck VAE) plus a 47 s piece's latents and decode.
    "stable_audio": ModelMemory("Stable Audio Open", {1: 5.0},
                                "estimate, not measured: DiT + T5-base + VAE in fp16, 47 s",
                                estimate=True),
}
WORKER_OVERHEAD_GB = 1.0  # CUDA context (~0.5 GB) and allocator slack: not in the peak
# Added for what the SDXL benchmark did not load: parameter counts x 2 bytes (fp16).
SDXL_EXTRAS_GB = {"image_safety_checker": 0.6,  # CLIP ViT-L/14, 304 M parameters
                  "sdxl_refiner": 4.5,  # the refiner's UNet, 2.3 B parameters
                  "ip_adapter": 1.3}  # the ViT-H image encoder, 632 M parameters
# Largest batch chosen when the setting is not given: the largest measured.
MAX_BATCH = {"image": 4, "speech": 16, "motion": 1, "talking": 1}  # one clip a call
IMAGE_SHARE = 2 / 3  # of each card for image workers; speech workers get the rest


@dataclass(frozen=True)
class Card:
    gb: float
    name: str = ""  # "L4", "H100"... empty when Ray does not say
    id: str = ""  # "<node id>:<gpu index>" on a live cluster

    def describe(self) -> str:
        return f"{self.name} ({self.gb:g} GB)" if self.name else f"{self.gb:g} GB card"


@dataclass(frozen=True)
class Model:
    """One kind's GPU model as a job's settings ask for it."""

    kind: str  # "image", "speech", "motion" or "talking"
    key: str  # a MEASURED key
    extras_gb: float = 0.0
    given_gb: float | None = None  # the user's image_gpu_gb / speech_gpu_gb: taken as is
    batch: int | None = None  # the user's batch size; None: chosen for the share

    @property
    def label(self) -> str:
        return MEASURED[self.key].label

    def need(self, batch: int) -> Need:
        if self.given_gb is not None:
            return Need(self.label, batch, self.given_gb, measured=False, source="your setting")
        table = MEASURED[self.key]
        peak = _interpolate(table.peak_gb, batch)
        return Need(self.label, batch, round(peak + self.extras_gb + WORKER_OVERHEAD_GB, 2),
                    measured=batch in table.peak_gb and not table.estimate,
                    source=table.source, estimate=table.estimate)

    def batches(self) -> list[int]:
        """The batch sizes to try, largest first: the user's alone when given."""
        return [self.batch] if self.batch else list(range(MAX_BATCH[self.kind], 0, -1))


@dataclass(frozen=True)
class Need:
    model: str
    batch: int
    gb: float  # one worker, overhead included
    measured: bool  # the peak at this batch was measured (else interpolated or given)
    source: str
    estimate: bool = False  # the table's figure is an estimate (never measured)


@dataclass(frozen=True)
class CardPlan:
    card: Card
    image_workers: int = 0
    image: Need | None = None
    speech_workers: int = 0
    speech: Need | None = None
    motion_workers: int = 0  # a clip job's video model (placed by plan.py as the farm does)
    motion: Need | None = None

    @property
    def used_gb(self) -> float:
        return sum(n * need.gb for n, need in ((self.image_workers, self.image),
                                               (self.speech_workers, self.speech),
                                               (self.motion_workers, self.motion)) if need)

    @property
    def left_gb(self) -> float:
        return self.card.gb - self.used_gb


@dataclass(frozen=True)
class Packing:
    cards: tuple[CardPlan, ...]
    image: Model | None
    speech: Model | None
    problem: str | None = None  # why the models cannot fit; None when they do
    notes: tuple[str, ...] = field(default=())
    motion: Model | None = None  # set when a clip job's motion workers are placed too

    @property
    def fits(self) -> bool:
        return self.problem is None

    def workers(self, kind: str) -> int:
        return sum(getattr(c, f"{kind}_workers") for c in self.cards)

    def need(self, kind: str) -> Need | None:
        """The need of one worker of ``kind`` as packed (the batch of its first card)."""
        return next((getattr(c, kind) for c in self.cards
                     if getattr(c, kind) and getattr(c, f"{kind}_workers")), None)


# The kinds whose worker takes a GPU share of its own: the setting naming the model, and
# its value when there is none.
OWN_SHARE_MODELS = {"motion": ("video_model", "none"), "talking": ("talking_model", "none"),
                    "beds": ("bed_model", "procedural")}


def gpu_model(kind: str, settings: RenderSettings) -> Model | None:
    """The model a worker of ``kind`` runs on a GPU; None for backends that take no GPU
    (cards, espeak, and Kokoro, a small model that runs on CPUs; no video, talking or bed
    model). Motion, talking and bed workers are not packed with the others (``pack``): each
    takes its own share."""
    if kind in OWN_SHARE_MODELS:
        setting, off = OWN_SHARE_MODELS[kind]
        name = getattr(settings, setting)
        return None if name == off else Model(kind, name, 0.0, None, 1)
    if kind == "image":
        if settings.image_model != "sdxl":
            return None
        extras = sum(gb for name, gb in SDXL_EXTRAS_GB.items() if getattr(settings, name))
        return Model("image", "sdxl", extras, settings.image_gpu_gb, _given_batch(kind, settings))
    if kind != "speech":
        raise ValueError(f"no GPU model for workers of kind {kind!r}")
    if settings.tts_model != "bark":
        return None
    transformers = settings.bark_decoding == "transformers" or settings.cpu_offload
    return Model("speech", "bark-transformers" if transformers else "bark", 0.0,
                 settings.speech_gpu_gb, _given_batch(kind, settings))


def _given_batch(kind: str, settings: RenderSettings) -> int | None:
    name = f"{kind}_batch_size"
    return getattr(settings, name) if name in settings.model_fields_set else None


def pack(cards: list[Card], image: Model | None, speech: Model | None) -> Packing:
    """Workers per card: each kind takes at most its share of a card (images 2/3, speech
    1/3, whether or not the other kind is on the GPU), at the batch whose workers carry the
    most requests at once; what is left stays free for other jobs' pools. A model whose one
    worker does not fit its share takes what the other kind's smallest worker leaves; one
    that fits on no card shared with the other takes cards of its own. ``problem`` says
    when nothing works."""
    if not cards or not (image or speech):
        problem = "no GPU in the cluster" if (image or speech) and not cards else None
        return Packing((), image, speech, problem)
    problem = _too_big(cards, image, speech)
    if problem:
        return Packing(tuple(CardPlan(c) for c in cards), image, speech, problem)
    shared = tuple(_pack_card(c, image, speech) for c in cards)
    if _all_placed(shared, image, speech):
        return Packing(shared, image, speech)
    # No card holds both: the larger model takes the largest card, the other the rest.
    order = sorted(cards, key=lambda c: -c.gb)
    first, second = sorted((m for m in (image, speech) if m),
                           key=lambda m: -m.need(1).gb)
    split = (_alone(order[0], first), *(_alone(c, second) for c in order[1:]))
    if len(cards) > 1 and _all_placed(split, image, speech):
        return Packing(split, image, speech)
    a, b = image.need(1), speech.need(1)
    largest = order[0]
    return Packing(tuple(CardPlan(c) for c in cards), image, speech, (
        f"{a.model} ({a.gb:.1f} GB per worker) and {b.model} ({b.gb:.1f} GB) need "
        f"{a.gb + b.gb:.1f} GB on one card; the largest card here is a "
        f"{largest.describe()}, of {_describe(cards)}: add a card, or use an embedded "
        "backend (cards, espeak) for one of them"))


def _too_big(cards: list[Card], image: Model | None, speech: Model | None) -> str | None:
    largest = max(cards, key=lambda c: c.gb)
    for model in (image, speech):
        if model is None:
            continue
        need = model.need(model.batches()[-1])
        if need.gb > largest.gb:
            return (f"{need.model} needs {need.gb:.1f} GB per worker (batch {need.batch}); "
                    f"the largest card here is a {largest.describe()}, of {_describe(cards)}: "
                    "use a card with more memory, a smaller batch, or the embedded backends")
    return None


def _pack_card(card: Card, image: Model | None, speech: Model | None,
               alone: bool = False) -> CardPlan:
    both = image is not None and speech is not None
    image_fit = speech_fit = (0, None)
    used = 0.0
    if image is not None:
        share = card.gb if alone else card.gb * IMAGE_SHARE
        other = speech.need(speech.batches()[-1]).gb if both else 0.0
        allowance = min(max(share, image.need(image.batches()[-1]).gb), card.gb - other)
        image_fit = _fit(image, allowance)
        used = image_fit[0] * image_fit[1].gb if image_fit[1] else 0.0
    if speech is not None:
        share = card.gb if alone else card.gb * (1 - IMAGE_SHARE)
        smallest = speech.need(speech.batches()[-1]).gb
        speech_fit = _fit(speech, min(max(share, smallest), card.gb - used))
    return CardPlan(card, image_fit[0], image_fit[1], speech_fit[0], speech_fit[1])


def _fit(model: Model, allowance: float) -> tuple[int, Need | None]:
    """(workers, need): the batch whose workers in ``allowance`` carry the most requests at
    once, the larger batch (fewer copies of the weights) on a tie."""
    best: tuple[int, Need | None] = (0, None)
    for batch in model.batches():
        need = model.need(batch)
        workers = int(allowance / need.gb + 1e-9) if need.gb > 0 else 0
        if workers and workers * batch > best[0] * (best[1].batch if best[1] else 0):
            best = (workers, need)
    return best


def _alone(card: Card, model: Model) -> CardPlan:
    """A card given to one model: the whole card is its share."""
    if model.kind == "image":
        return _pack_card(card, model, None, alone=True)
    return _pack_card(card, None, model, alone=True)


def _all_placed(plans: tuple[CardPlan, ...], image: Model | None, speech: Model | None
                ) -> bool:
    return ((image is None or sum(p.image_workers for p in plans) > 0)
            and (speech is None or sum(p.speech_workers for p in plans) > 0))


def _describe(cards: list[Card]) -> str:
    counts: dict[str, int] = {}
    for card in cards:
        counts[card.describe()] = counts.get(card.describe(), 0) + 1
    return ", ".join(f"{n} x {name}" for name, n in counts.items())


def _interpolate(points: dict[int, float], batch: int) -> float:
    """Linear between measured batch sizes, extrapolated past the last two."""
    sizes = sorted(points)
    if batch in points:
        return points[batch]
    if batch < sizes[0]:
        return points[sizes[0]]
    low = max([s for s in sizes if s < batch], default=sizes[-2])
    high = min([s for s in sizes if s > batch], default=sizes[-1])
    if low == high:
        low = sizes[-2]
    slope = (points[high] - points[low]) / (high - low)
    return points[low] + slope * (batch - low)
