"""Job records and their states: explicit state machines, pure data.

A job and each of its scenes move through the states in ``JOB_TRANSITIONS`` and
``SCENE_TRANSITIONS``; ``advance`` is the only way to change one, so an illegal move (a done
job started again, a cancelled scene finishing) is a loud ``IllegalTransition``, not a
silently wrong record (errors.py). The job flow fills a record in as it works; the farm
persists it (farm/jobs.py: atomic files, the queue), which is why the models live down here.
"""

from __future__ import annotations

import secrets
import time
from enum import Enum
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from vidgen_ray.errors import IllegalTransition

JOB_ID = r"^[a-z0-9][a-z0-9-]{5,63}$"
STAGES = ("speech", "images", "clips", "talking", "video", "beds", "mux")
# Every job has these from the start; "clips" (generated motion clips, video_model),
# "talking" (talking shots, shots talking) and "beds" (generated music and ambience,
# music_model / ambience_model) appear in a job's progress only once it has some to make.
ALWAYS_STAGES = ("speech", "images", "video", "mux")


class JobStatus(str, Enum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"


class SceneStatus(str, Enum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"
    stopped = "stopped"  # not finished because another part of its job failed


JOB_TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.queued: frozenset({JobStatus.running, JobStatus.cancelled}),
    # running -> queued: a restarted farm puts back the jobs its predecessor was running.
    JobStatus.running: frozenset({JobStatus.done, JobStatus.failed, JobStatus.cancelled,
                                  JobStatus.queued}),
    JobStatus.failed: frozenset({JobStatus.queued}),  # retry
    JobStatus.cancelled: frozenset({JobStatus.queued}),  # resume
    # done -> queued: made again after its outputs were cleaned (Farm.retry allows it
    # only when they are missing; its stored parts are reused).
    JobStatus.done: frozenset({JobStatus.queued}),
}
SCENE_TRANSITIONS: dict[SceneStatus, frozenset[SceneStatus]] = {
    # queued -> done: every part of the scene is already stored, nothing to run.
    SceneStatus.queued: frozenset({SceneStatus.running, SceneStatus.done,
                                   SceneStatus.cancelled, SceneStatus.stopped}),
    # running -> queued: its worker died, or the job was put back after a farm restart.
    SceneStatus.running: frozenset({SceneStatus.done, SceneStatus.failed,
                                    SceneStatus.cancelled, SceneStatus.stopped,
                                    SceneStatus.queued}),
    SceneStatus.failed: frozenset({SceneStatus.queued}),
    SceneStatus.cancelled: frozenset({SceneStatus.queued}),
    SceneStatus.stopped: frozenset({SceneStatus.queued}),
    SceneStatus.done: frozenset(),
}
_State = TypeVar("_State", JobStatus, SceneStatus)
_TABLES = {JobStatus: ("job", JOB_TRANSITIONS), SceneStatus: ("scene", SCENE_TRANSITIONS)}


def advance(current: _State, new: _State | str) -> _State:
    """``new`` (as a status of ``current``'s kind) if the table allows the move; else raise."""
    kind, table = _TABLES[type(current)]
    new = type(current)(new)
    allowed = table[current]
    if new not in allowed:
        options = " or ".join(sorted(s.value for s in allowed))
        why = f"a {current.value} {kind} can only go to {options}" if options else \
            f"{current.value} is final"
        raise IllegalTransition(f"a {kind} cannot go from {current.value} to {new.value}: {why}",
                                current.value, new.value)
    return new


def new_job_id() -> str:
    return "job-" + secrets.token_hex(6)


class StageProgress(BaseModel):
    model_config = ConfigDict(extra="forbid")

    done: int = Field(0, ge=0)
    total: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _done_within_total(self) -> StageProgress:
        if self.done > self.total:
            raise ValueError(f"progress {self.done}/{self.total}: done cannot exceed total")
        return self


class SceneParts(BaseModel):
    """Where one scene's parts are in the job's parts store (content keys) and when each was
    ready, so the web monitor can show a scene's picture and speech as soon as they exist."""

    model_config = ConfigDict(extra="forbid")

    image: str | None = None
    speech: list[str] = Field(default_factory=list)  # one key per line, in order
    image_ready: float | None = None
    speech_ready: float | None = None  # when its last line was stored


def _fresh_progress() -> dict[str, StageProgress]:
    return {stage: StageProgress() for stage in ALWAYS_STAGES}


class JobRecord(BaseModel):
    """One job as the farm persists it and the API reports it."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    id: str = Field(default_factory=new_job_id, pattern=JOB_ID)
    status: JobStatus = JobStatus.queued
    priority: int = Field(0, ge=-100, le=100, description="Higher runs first.")
    created: float = Field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    out_dir: str
    title: str = ""
    scenes: list[SceneStatus] = Field(default_factory=list)
    progress: dict[str, StageProgress] = Field(default_factory=_fresh_progress)
    error: str | None = None
    failed_scene: int | None = Field(None, ge=0)
    # Why each stage that did not finish did not: the failed stage's error, "stopped: ..."
    # for the others (pipeline/stage_errors.py), by the stage's word (pictures, video...).
    stage_errors: dict[str, str] = Field(default_factory=dict)
    timings: dict[str, float] = Field(default_factory=dict)
    # The job service's fields: who submitted it, and where its results were stored
    # (file name -> content key in the service's store).
    owner: str | None = None
    outputs: dict[str, str] = Field(default_factory=dict)
    scene_parts: list[SceneParts] = Field(default_factory=list)  # filled as keys are known

    @field_validator("progress")
    @classmethod
    def _known_stages(cls, progress: dict[str, StageProgress]) -> dict[str, StageProgress]:
        unknown = sorted(set(progress) - set(STAGES))
        if unknown:
            raise ValueError(f"unknown stage {unknown[0]!r}: stages are {', '.join(STAGES)}")
        return progress

    @property
    def unfinished(self) -> bool:
        """Queued or running: what a restarted farm must take up again."""
        return self.status in (JobStatus.queued, JobStatus.running)

    def part_keys(self) -> set[str]:
        """The content keys of every picture and line of speech the record names."""
        return {key for parts in self.scene_parts for key in (parts.image, *parts.speech) if key}

    def start(self) -> None:
        self.status = advance(self.status, JobStatus.running)
        self.started = time.time()

    def finish(self) -> None:
        self.status = advance(self.status, JobStatus.done)
        self.finished = time.time()

    def fail(self, message: str, scene: int | None = None, stage: str | None = None) -> None:
        """Failed, with the message (meant for a client: no server paths); ``scene`` (0-based)
        is the scene whose part failed, marked failed if it was running; ``stage`` (a word:
        pictures, video...) the one that failed, noted with the message in
        ``stage_errors``. The other unfinished scenes are stopped: nothing runs on."""
        self.status = advance(self.status, JobStatus.failed)
        # A bad index is not recorded: raising here would lose the failure being reported.
        if scene is not None and not 0 <= scene < len(self.scenes):
            scene = None
        self.finished, self.error, self.failed_scene = time.time(), message, scene
        if stage is not None:
            self.stage_errors = {**self.stage_errors, stage: message}
        if scene is not None and self.scenes[scene] is SceneStatus.running:
            self.set_scene(scene, SceneStatus.failed)
        self._end_scenes(SceneStatus.stopped)

    def cancel(self) -> None:
        self.status = advance(self.status, JobStatus.cancelled)
        self.finished = time.time()
        self._end_scenes(SceneStatus.cancelled)

    def requeue(self) -> None:
        """Back in the queue (retry, resume, farm restart, a done job whose outputs were
        cleaned); done scenes stay done (their parts are stored)."""
        self.status = advance(self.status, JobStatus.queued)
        self.started = self.finished = self.error = self.failed_scene = None
        self.stage_errors = {}
        for index, scene in enumerate(self.scenes):
            if scene not in (SceneStatus.done, SceneStatus.queued):
                self.set_scene(index, SceneStatus.queued)

    def set_scene(self, index: int, status: SceneStatus | str) -> None:
        scenes = list(self.scenes)
        scenes[index] = advance(scenes[index], status)
        self.scenes = scenes  # assigned whole so that pydantic validates it

    def report(self, stage: str, done: int, total: int) -> None:
        if stage not in STAGES:
            raise ValueError(f"unknown stage {stage!r}: stages are {', '.join(STAGES)}")
        self.progress = {**self.progress, stage: StageProgress(done=done, total=total)}

    def _end_scenes(self, status: SceneStatus) -> None:
        for index, scene in enumerate(self.scenes):
            if scene in (SceneStatus.queued, SceneStatus.running):
                self.set_scene(index, status)
