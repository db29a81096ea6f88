"""What a failed job says: the failing stage's own error, in the words people use for the
stages, and why every other stage that did not finish did not.

The job flow names its stages as it times them (speech, images, video, audio, mux); a client
reads "pictures: scene 3: the model produced no image" (scenes counted from 1), and the video
stage that stopped because of it says "stopped: pictures failed at scene 3" in the record's
``stage_errors`` rather than an error of its own. A stage that stops because another failed
raises ``StageStopped``: never the job's error while the failure that caused it is known.
"""

from __future__ import annotations

import asyncio

from vidgen_ray.errors import RenderError, StageStopped, VidgenError, client_message
from vidgen_ray.pipeline.job_record import JobRecord, SceneStatus
from vidgen_ray.pipeline.progress import ThrottledReporter

# The flow's stage -> the word a client reads; check and qc are part of finishing.
WORDS = {"speech": "speech", "images": "pictures", "clips": "clips", "video": "video",
         "beds": "beds", "audio": "soundtrack", "mux": "finishing", "check": "finishing",
         "qc": "finishing"}
# What a job goes through; clips and beds (only in jobs with generated motion clips or
# beds) are left out, so a job without them records no "stopped" for a stage it never had.
ORDER = ("speech", "pictures", "video", "soundtrack", "finishing")
UNEXPECTED = "an unexpected error stopped it (the farm's log has the details)"


def word(stage: str | None) -> str:
    """The word for a stage of the flow (``setup`` and unknown names as they are)."""
    return WORDS.get(stage or "setup", stage or "setup")


def headline(stage: str | None, scene: int | None, text: str) -> str:
    """``text`` led by its stage's word and its scene (counted from 1), each once:
    "pictures: scene 3: no image"."""
    name = word(stage)
    if text.startswith(f"{name}: "):
        return text
    if scene is not None and not text.startswith(f"scene {scene + 1}"):
        text = f"scene {scene + 1}: {text}"
    return f"{name}: {text}"


def tagged(stage: str, exc: BaseException) -> BaseException:
    """``exc`` as the failure of ``stage``: a RenderError led by the stage and scene, for
    the operator and for a client (``public``). Typed errors (a user's file, a missing
    program) and bugs pass as they are: the farm keeps their type, and logs a bug."""
    if not isinstance(exc, RenderError) or isinstance(exc, StageStopped):
        return exc
    failure = RenderError(headline(stage, exc.scene, exc.message), stage=stage,
                          scene=exc.scene, public=headline(stage, exc.scene,
                                                           client_message(exc)))
    failure.retryable = exc.retryable
    return failure


def stopped_by(stage: str, scene: int | None) -> str:
    """What a stage that stopped because ``stage`` failed (at ``scene``) records."""
    where = f" at scene {scene + 1}" if scene is not None else ""
    return f"stopped: {word(stage)} failed{where}"


def notes(stage: str, scene: int | None, public: str, finished: set[str]) -> dict[str, str]:
    """A record's ``stage_errors`` for a failure of ``stage``: its message, and "stopped:
    ..." for every later or parallel stage that did not finish (``finished``: words)."""
    failed = word(stage)
    found = {name: stopped_by(stage, scene) for name in ORDER
             if name not in finished and name != failed}
    return {**found, failed: public}


def public_text(stage: str | None, exc: BaseException) -> str:
    """A client's message for ``exc`` as ``stage``'s failure (no private folders removed:
    the farm, which knows them, scrubs again)."""
    text = client_message(exc) if isinstance(exc, VidgenError) else UNEXPECTED
    return headline(stage, getattr(exc, "scene", None), text)


def own_first(failures: list[BaseException]) -> BaseException:
    """The failure to raise of several: a stage's own before one that only stopped."""
    return next((f for f in failures if not isinstance(f, StageStopped)), failures[0])


async def first_failure(*tasks: asyncio.Future,
                        wait_for: list[asyncio.Future] | None = None) -> list:
    """The results of ``wait_for`` (all ``tasks`` by default) once done. The first of
    ``tasks`` to fail ends the wait at once and is raised; one that only stopped because of
    another's failure is raised last, when nothing else can fail (the other's is the job's)."""
    waiting = wait_for or list(tasks)
    while True:
        failed = [t.exception() for t in tasks
                  if t.done() and not t.cancelled() and t.exception() is not None]
        own = [f for f in failed if not isinstance(f, StageStopped)]
        if own or (failed and all(t.done() for t in tasks)):
            raise own_first(failed)
        if all(t.done() for t in waiting):
            return [t.result() for t in waiting]
        # Each completion is looked at: FIRST_EXCEPTION would wait past ``wait_for``'s end.
        await asyncio.wait([t for t in tasks if not t.done()],
                           return_when=asyncio.FIRST_COMPLETED)


class StageGuard:
    """Runs a job's stages and keeps its first failure: the job's error. That stage's scene
    is marked failed and every stage not finished noted as stopped by it, in the record."""

    def __init__(self, record: JobRecord, reporter: ThrottledReporter):
        self.record, self.reporter = record, reporter
        self.failure: BaseException | None = None
        self.stage: str | None = None  # the failed stage
        self.finished: set[str] = set()  # the stages done, as words

    async def run(self, stage: str, work):
        """``work``'s result; its failure tagged with ``stage`` (the first one noted)."""
        try:
            result = await work
        except (asyncio.CancelledError, StageStopped):
            raise
        except Exception as exc:
            failure = tagged(stage, exc)
            if self.failure is None:
                self._note(stage, failure)
            if failure is exc:
                raise
            raise failure from exc
        self.finished.add(word(stage))
        return result

    def stopped(self, stage: str) -> StageStopped:
        """What ``stage`` raises when it cannot go on because of the failure."""
        return StageStopped(stopped_by(self.stage, getattr(self.failure, "scene", None)),
                       stage=stage)

    async def ready(self, ready: asyncio.Event, maker: asyncio.Future, missing: str,
                    scene: int | None = None) -> None:
        """Wait for ``ready`` (a part the video stage needs); if ``maker`` (the stage
        making it) ends without it: the failed stage's error, else a RenderError saying
        ``missing``."""
        if ready.is_set():
            return
        waiter = asyncio.ensure_future(ready.wait())
        await asyncio.wait([waiter, maker], return_when=asyncio.FIRST_COMPLETED)
        if not ready.is_set():
            waiter.cancel()
            if self.failure is not None:  # a stage failed: its error is the job's
                raise self.stopped("video")
            raise RenderError(missing, stage="video", scene=scene)

    def _note(self, stage: str, failure: BaseException) -> None:
        self.failure, self.stage = failure, stage
        scene = getattr(failure, "scene", None)
        if scene is not None and self.record.scenes[scene] == SceneStatus.running:
            self.record.set_scene(scene, SceneStatus.failed)
        self.record.stage_errors = notes(stage, scene, public_text(stage, failure),
                                         self.finished)
        self.reporter.state(self.record)


async def settle(*tasks: asyncio.Future) -> list:
    """Let every task finish (each stores what it makes), then raise a failure: an own one
    first, not that of a chunk that stopped because its picture failed."""
    results = await asyncio.gather(*tasks, return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        raise own_first(failures)
    return results
