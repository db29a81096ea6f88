"""WorkerPool: N resident workers of one kind, fed from asyncio code with backpressure.

    pool = WorkerPool("image", settings)
    await pool.start()                         # actors placed, models loaded
    async for index, png in pool.map(requests):
        ...                                    # each result as soon as its batch is done
    await pool.shutdown()

Every worker has at most K calls in flight (one running, the others queued at the actor so
it never idles) and every call carries at most B requests (``Backpressure``). ``call`` waits
while the pool is full; ``map`` keeps at most N * K calls of its own going and submits the
next batch only when one finishes, so a 500-scene job never floods the object store.

Failures: a worker that dies is restarted by Ray and its calls sent again once it is back,
up to DEATHS_PER_CALL times (then the call fails: its requests kill the worker). A
``VidgenError`` raised by a backend comes out of ``call``/``map`` as itself; anything else
as a ``RenderError``. Cancelling the coroutine that awaits a call frees its slot at once
and cancels its Ray task; a call still waiting for a slot is never sent. Ray 2.60 cancels
calls already queued at a (synchronous) worker only on a best-effort basis, and one that is
running finishes there: a cancelled job wastes at most N * K calls of work.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

import ray

from vidgen_ray.config import RenderSettings, backend_options
from vidgen_ray.errors import RenderError
from vidgen_ray.farm.actors.bed_worker import BedWorker
from vidgen_ray.farm.actors.errors import unwrap
from vidgen_ray.farm.actors.image_worker import ImageWorker
from vidgen_ray.farm.actors.motion_worker import MotionWorker
from vidgen_ray.farm.actors.speech_worker import SpeechWorker
from vidgen_ray.farm.actors.talking_worker import TalkingWorker
from vidgen_ray.farm.backpressure import Backpressure
from vidgen_ray.farm.placement import Kind, pool_size, worker_options

log = logging.getLogger("vidgen.farm")
_WORKERS = {"image": (ImageWorker, "generate"), "speech": (SpeechWorker, "synthesize"),
            "motion": (MotionWorker, "make_clips"), "talking": (TalkingWorker, "make_clips"),
            "beds": (BedWorker, "make_beds")}
DEATHS_PER_CALL = 3  # a call's worker dying this often under it: the call kills it


class WorkerPool:
    def __init__(self, kind: Kind, settings: RenderSettings,
                 cluster: dict[str, float] | None = None, size: int | None = None,
                 factory: Callable[[], object] | None = None, *,
                 ready_timeout_s: float = 600.0, call_timeout_s: float = 600.0):
        if kind not in _WORKERS:
            raise ValueError(f"unknown worker kind {kind!r}: choose one of "
                             f"{', '.join(_WORKERS)}")
        self.kind = kind
        self.settings = settings
        self.cluster = cluster if cluster is not None else ray.cluster_resources()
        self.size = size or pool_size(kind, settings, self.cluster)
        batch = {"image": settings.image_batch_size, "speech": settings.speech_batch_size,
                 "motion": 1, "talking": 1, "beds": 1}[kind]  # a clip or a bed a call
        self.policy = Backpressure(settings.max_in_flight, batch)
        self.options = worker_options(kind, settings, self.cluster)
        self.factory = factory
        self.ready_timeout_s = ready_timeout_s
        self.call_timeout_s = call_timeout_s  # no call finishing this long: the pool is stuck
        self.ready_info: list[dict] = []
        self.calls = 0  # calls sent: answered, failed or cancelled
        self.requests = 0  # requests in those calls
        self.max_in_flight_seen = 0
        self._workers: list = []
        self._in_flight: list[int] = []
        self._slots: asyncio.Condition | None = None  # made in the loop that uses the pool

    @property
    def workers(self) -> list:
        """The actor handles, by worker index."""
        return list(self._workers)

    @property
    def in_flight(self) -> int:
        """Calls in flight now, over all workers."""
        return sum(self._in_flight)

    # ---- life cycle ----------------------------------------------------------------------

    async def start(self) -> list[dict]:
        """Place the workers and wait until every one has loaded its backend; returns each
        worker's ``ready()`` (node, GPU ids, pid, backend version)."""
        cls, _ = _WORKERS[self.kind]
        backend, _ = backend_options(self.settings, self.kind)
        actor = ray.remote(cls).options(**self.options)
        self._workers = [actor.remote(backend, self.settings, self.factory)
                         for _ in range(self.size)]
        self._in_flight = [0] * self.size
        try:
            self.ready_info = await asyncio.wait_for(
                asyncio.gather(*[w.ready.remote() for w in self._workers]),
                self.ready_timeout_s)
        except asyncio.TimeoutError:
            await self.shutdown()
            raise RenderError(self._placement_hint()) from None
        except ray.exceptions.RayTaskError as exc:
            await self.shutdown()
            raise unwrap(exc) from None
        except ray.exceptions.RayActorError as exc:  # the constructor raised: no retry helps
            await self.shutdown()
            raise _creation_error(self.kind, exc) from None
        return self.ready_info

    async def shutdown(self) -> None:
        """Kill the workers (they are not restarted); calls waiting for a slot then fail."""
        for worker in self._workers:
            ray.kill(worker)
        self._workers = []
        async with self._condition():
            self._condition().notify_all()

    async def __aenter__(self) -> WorkerPool:
        await self.start()
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.shutdown()

    async def health(self) -> list[dict]:
        """Each worker's ``health()``: ok, calls served, pid (and a fake backend's log)."""
        return await asyncio.wait_for(
            asyncio.gather(*[w.health.remote() for w in self._workers]), self.call_timeout_s)

    async def stats(self) -> list[dict]:
        """Each worker's ``stats()`` and calls in flight; a worker that does not answer
        within 10 s shows as not ok with the reason, instead of stalling the caller."""
        async def one(index: int, worker) -> dict:
            try:
                info = await asyncio.wait_for(worker.stats.remote(), 10.0)
            except asyncio.TimeoutError:
                info = {"ok": False, "error": "did not answer within 10 s (busy or stuck)"}
            except ray.exceptions.RayError as exc:  # shown to API clients: Ray's text is logged
                log.warning("%s worker %d is not answering: %s", self.kind, index, exc)
                info = {"ok": False, "error": "its process is gone (it may be restarting)"}
            return {**info, "in_flight": self._in_flight[index]}
        return list(await asyncio.gather(*[one(i, w) for i, w in enumerate(self._workers)]))

    async def release(self) -> list[dict]:
        """Every worker drops its model and frees its memory (reloaded on its next call);
        returns each worker's ``stats()`` afterwards."""
        return await asyncio.wait_for(
            asyncio.gather(*[w.release.remote() for w in self._workers]), self.call_timeout_s)

    # ---- work ----------------------------------------------------------------------------

    async def call(self, requests: list) -> list:
        """Send one batch (at most B requests) to the least-loaded worker and return its
        results in order; waits first while every worker has K calls in flight."""
        if not requests:
            return []
        if len(requests) > self.policy.batch_size:
            raise ValueError(f"a call carries at most {self.policy.batch_size} requests, "
                             f"got {len(requests)}: use map() for more")
        index = await self._acquire()
        try:
            for deaths in range(1, DEATHS_PER_CALL + 1):
                try:
                    return await self._send(index, requests)
                except ray.exceptions.RayActorError as exc:
                    if deaths == DEATHS_PER_CALL or not await self._back(index):
                        raise _died(self.kind, index, deaths, exc) from None
        finally:
            self.calls += 1
            self.requests += len(requests)
            await self._release(index)

    async def _send(self, index: int, requests: list) -> list:
        """One try. Ray would resend a call whose worker died for ever (the actor's
        max_task_retries=-1): a batch that kills its worker each time (out of memory, a crash
        in a model's native code) held the job until the call timeout. ``call`` resends it
        itself, once the worker is back, at most DEATHS_PER_CALL times."""
        _, method = _WORKERS[self.kind]
        ref = getattr(self._workers[index], method).options(max_task_retries=0).remote(requests)
        try:
            return await asyncio.wait_for(ref, self.call_timeout_s)
        except ray.exceptions.RayTaskError as exc:
            raise unwrap(exc) from None
        except asyncio.TimeoutError:
            ray.cancel(ref)
            raise RenderError(f"a call to {self.kind} worker {index} did not finish within "
                              f"{self.call_timeout_s:.0f} s: check 'ray status' for "
                              "pending actors") from None
        except asyncio.CancelledError:
            ray.cancel(ref)  # best effort: a call running at the worker finishes there
            raise

    async def _back(self, index: int) -> bool:
        """Whether a worker whose process died is back (Ray restarts it, on another node if
        its node was lost) with its backend loaded."""
        try:
            await asyncio.wait_for(self._workers[index].ready.remote(), self.ready_timeout_s)
        except (ray.exceptions.RayError, asyncio.TimeoutError):
            return False
        return True

    async def map(self, requests: list) -> AsyncIterator[tuple[int, object]]:
        """Every request through the pool: yields (index, result) for each request as soon as
        its batch is done, in completion order. At most N * K of this map's calls are in
        flight; the next batch is sent when one finishes. A failed batch does not stop the
        others: every other request is still made and yielded (a job keeps its finished
        parts), then the first failure is raised. Leaving the loop early cancels the calls in
        flight (at once under ``contextlib.aclosing``, else when the generator is collected).

        Batches are at most B and balanced so the last round keeps every worker busy."""
        size = self.policy.balanced_batch(len(requests), self.size)
        starts = iter(range(0, len(requests), size or 1))
        running: set[asyncio.Task] = set()
        failure: BaseException | None = None
        try:
            while True:
                while len(running) < self.policy.capacity(self.size):
                    start = next(starts, None)
                    if start is None:
                        break
                    batch = requests[start:start + size]
                    running.add(asyncio.ensure_future(self._indexed(start, batch)))
                if not running:
                    if failure is not None:
                        raise failure
                    return
                done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    running.discard(task)
                    if task.exception() is not None:
                        failure = failure or task.exception()
                        continue
                    start, results = task.result()
                    for offset, result in enumerate(results):
                        yield start + offset, result
        finally:
            for task in running:
                task.cancel()
            if running:
                await asyncio.wait(running)
            for task in running:  # leaving early: mark the cancelled calls' outcomes seen
                if not task.cancelled():
                    task.exception()

    async def _indexed(self, start: int, batch: list) -> tuple[int, list]:
        return start, await self.call(batch)

    # ---- slots ---------------------------------------------------------------------------

    async def _acquire(self) -> int:
        slots = self._condition()
        async with slots:
            while True:
                if not self._workers:
                    raise RenderError(f"the {self.kind} pool has no workers: await start() "
                                      "before calling it, and not after shutdown()")
                if (index := self.policy.pick(self._in_flight)) is not None:
                    break
                await slots.wait()
            self._in_flight[index] += 1
            self.max_in_flight_seen = max(self.max_in_flight_seen, self.in_flight)
            return index

    async def _release(self, index: int) -> None:
        self._in_flight[index] -= 1
        # Never contended (no holder of the lock awaits anything but wait()), so this does
        # not suspend, even in a cancelled task's cleanup.
        async with self._condition():
            self._condition().notify_all()

    def _condition(self) -> asyncio.Condition:
        if self._slots is None:
            self._slots = asyncio.Condition()
        return self._slots

    def _placement_hint(self) -> str:
        asks = {k: v for k, v in self.options.items() if k in ("num_gpus", "num_cpus")}
        ask = " and ".join(f"{v:g} {k[4:-1].upper()}" for k, v in asks.items() if v)
        env = f"VIDGEN_{self.kind.upper()}_WORKERS"
        return (f"{self.size} {self.kind} worker(s) asking for {ask or 'no resources'} each "
                f"were not all ready within {self.ready_timeout_s:g} s: no node can host "
                f"them (cluster has {_describe(self.cluster)}), or the model is still "
                f"loading. Add a {'GPU' if 'num_gpus' in asks else 'CPU'} node or set "
                f"{env} lower")


def _died(kind: str, index: int, deaths: int, exc: ray.exceptions.RayActorError
          ) -> RenderError:
    if deaths == 1:
        return RenderError(f"{kind} worker {index} is gone and was not restarted: {exc}",
                           public=f"{_article(kind)} {kind} worker died and did not come back")
    return RenderError(f"{kind} worker {index}'s process died {deaths} times on the same "
                       "request(s): they kill it (out of memory, or a crash in the model's "
                       "native code); its log says why ('ray logs')")


def _describe(cluster: dict[str, float]) -> str:
    return ", ".join(f"{cluster.get(k, 0):g} {k}" for k in ("GPU", "CPU"))


def _creation_error(kind: str, exc: ray.exceptions.RayActorError) -> RenderError:
    """A worker whose constructor raised something other than a VidgenError (those come
    back from ready() as themselves): name the exception, not Ray's whole traceback."""
    lines = [line for line in str(exc).splitlines() if line.strip()] or [str(exc)]
    return RenderError(f"{_article(kind)} {kind} worker could not start: {lines[-1]}")


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"
