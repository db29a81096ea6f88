"""The farm's GPU budget: which cards its pools hold, whether the pools a job needs fit,
and which idle pools to retire for them (least recently used first). Pure: no Ray; the
shared pools (pools.py) ask it and act on the answer.

Shares are Ray's: a worker holds ``num_gpus`` of one card (placement.gpu_fraction, its
memory over the card's), so a card is full at 1.0. A pool's workers are where Ray put them
(their ready() names node and GPU) once they are up, and where this module planned them
while they start, so two jobs starting pools at once never count the same room twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vidgen_ray.config import RenderSettings
from vidgen_ray.farm.memory import Card, pack
from vidgen_ray.farm.placement import (
    DEFAULT_GPU_GB,
    GPU_MEMORY_GB,
    KINDS,
    bed_gb,
    gpu_model,
    need_gb,
    on_gpu,
    sized,
    worker_options,
)

_EPSILON = 1e-6


@dataclass
class Hold:
    """What one pool holds and who uses it."""

    key: tuple
    cards: list[str] = field(default_factory=list)  # card id per worker (GPU workers only)
    share: float = 0.0  # of one card, per worker
    users: set[str] = field(default_factory=set)  # running jobs using the pool
    last_used: float = 0.0  # when its last user left (monotonic seconds)
    idle_timeout_s: float | None = None


@dataclass(frozen=True)
class Ask:
    """A pool to start: each worker's share of a card and how many workers are wanted."""

    share: float
    wanted: int


def cards_of(nodes: list[dict], settings: RenderSettings) -> list[Card]:
    """The cluster's cards from ``ray.nodes()``: one per GPU of each live node, named by its
    ``accelerator_type`` and sized by the ``gpu_memory_gb`` setting, else by the name."""
    cards = []
    for node in nodes:
        if not node.get("Alive", True):
            continue
        resources = node.get("Resources", {})
        names = [k.removeprefix("accelerator_type:") for k in resources
                 if k.startswith("accelerator_type:")]
        name = names[0] if names else ""
        gb = settings.gpu_memory_gb or GPU_MEMORY_GB.get(name, DEFAULT_GPU_GB)
        cards += [Card(gb, name, f"{node['NodeID']}:{i}")
                  for i in range(int(resources.get("GPU", 0)))]
    return cards


def takes_gpu(settings: RenderSettings) -> bool:
    """Whether a job with these settings runs a model on a GPU (where the cluster has one)."""
    return any(gpu_model(kind, settings) is not None for kind in KINDS)


def never_fits(cards: list[Card], settings: RenderSettings) -> str | None:
    """Why a job with these settings can never run on these cards, even with every other
    pool retired; None when it can (or takes no GPU)."""
    if not takes_gpu(settings) or not cards:
        return None  # nothing on a GPU, or no GPU: model workers run on CPUs
    motion = gpu_model("motion", settings)
    largest = max(cards, key=lambda c: c.gb)
    if motion is not None and motion.need(1).gb > largest.gb:  # it takes a card of its own
        need = motion.need(1)
        return (f"{need.model} needs {need.gb:.1f} GB per worker ({need.source}); the "
                f"largest card here is a {largest.describe()}: use a larger card, or "
                "video_model none")
    talking = gpu_model("talking", settings)
    if talking is not None and talking.need(1).gb > largest.gb:  # a share of its own too
        need = talking.need(1)
        return (f"{need.model} needs {need.gb:.1f} GB per worker ({need.source}); the "
                f"largest card here is a {largest.describe()}: use a larger card, or "
                "shots scene")
    if bed_gb(settings) > largest.gb:  # the bed model takes a share of its own too
        return (f"the bed model needs {bed_gb(settings):.1f} GB per worker; the largest "
                f"card here is a {largest.describe()}: use a larger card, or music_model "
                "and ambience_model procedural")
    problem = pack(cards, gpu_model("image", settings), gpu_model("speech", settings)).problem
    return problem or _not_together(cards, settings)


def _not_together(cards: list[Card], settings: RenderSettings) -> str | None:
    """Why one worker of each of the job's GPU pools does not fit on the cards at once
    (each fits alone: checked above), every card counted as large as the smallest."""
    smallest = min(card.gb for card in cards)
    cluster = {"GPU": float(len(cards))}
    sized_settings = sized(settings.model_copy(update={"gpu_memory_gb": smallest}), cluster)
    kinds = [kind for kind in KINDS if on_gpu(kind, sized_settings, cluster)]
    asks = [Ask(worker_options(kind, sized_settings, cluster)["num_gpus"], 1) for kind in kinds]
    if fit({str(i): 1.0 for i in range(len(cards))}, asks) is not None:
        return None
    needs = ", ".join(f"{kind} {need_gb(kind, sized_settings, cluster):.1f} GB"
                      for kind in kinds)
    return (f"one worker of each of its GPU pools ({needs}) does not fit on {len(cards)} x "
            f"{smallest:g} GB at once: use more or larger cards, or fewer GPU models")


def free_shares(cards: list[Card], holds: list[Hold]) -> dict[str, float]:
    """Each card's share not held by any pool."""
    free = {card.id: 1.0 for card in cards}
    for hold in holds:
        for card in hold.cards:
            if card in free:
                free[card] -= hold.share
    return free


def fit(free: dict[str, float], asks: list[Ask]) -> tuple[list[int], list[list[str]]] | None:
    """Workers of each ask that fit, and the cards they go on: one worker of every ask first
    (a job needs both its pools), then more, in order, up to each ``wanted``. None when not
    one of each fits. First fit, largest share first: what Ray does with fractional GPUs."""
    room = dict(free)
    placed: list[list[str]] = [[] for _ in asks]
    order = sorted(range(len(asks)), key=lambda i: -asks[i].share)
    for i in order:
        card = _first_fit(room, asks[i].share)
        if card is None:
            return None
        placed[i].append(card)
    for i in order:
        while len(placed[i]) < asks[i].wanted:
            card = _first_fit(room, asks[i].share)
            if card is None:
                break
            placed[i].append(card)
    return [len(p) for p in placed], placed


def _first_fit(room: dict[str, float], share: float) -> str | None:
    for card, left in room.items():
        if left + _EPSILON >= share:
            room[card] = left - share
            return card
    return None


def make_room(cards: list[Card], holds: list[Hold], asks: list[Ask]
              ) -> tuple[list[tuple], list[int], list[list[str]]] | None:
    """(pools to retire, workers per ask, their cards): idle pools are retired least
    recently used first until every ask gets its wanted workers, or until none is idle;
    retiring stops as soon as that is reached. None when not even one worker of each ask
    fits with every idle pool gone (pools in use must finish first)."""
    idle = sorted((h for h in holds if not h.users and h.cards), key=lambda h: h.last_used)
    kept = list(holds)
    retired: list[tuple] = []
    best = fit(free_shares(cards, kept), asks)
    for hold in idle:
        if best is not None and best[0] == [a.wanted for a in asks]:
            break
        kept.remove(hold)
        retired.append(hold.key)
        best = fit(free_shares(cards, kept), asks)
    if best is None:
        return None
    # Retire only what the best answer needed: drop retirements from the end while it holds.
    while retired:
        last = next(h for h in holds if h.key == retired[-1])
        trial = fit(free_shares(cards, [*kept, last]), asks)
        if trial is None or trial[0] != best[0]:
            break
        kept.append(last)
        retired.pop()
        best = trial
    return retired, best[0], best[1]


def expired(holds: list[Hold], now: float) -> list[tuple]:
    """Pools no job has used for longer than their idle timeout."""
    return [h.key for h in holds if not h.users and h.idle_timeout_s is not None
            and now - h.last_used >= h.idle_timeout_s]
