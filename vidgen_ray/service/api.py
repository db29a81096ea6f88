"""The job service over HTTP: FastAPI as the ingress of a Ray Serve deployment.

A thin layer: decisions live in requests.py (auth, requests, paging, metrics) and the jobs in
the cluster's one Farm (farm/scheduler.py) with a home journal (farm/journal.py): a detached
actor that restarts when it dies and then resumes its unfinished jobs. The replica reads no
disk of the farm's and writes none: scenes, parts and files come from the farm, results in S3
from the store, and uploads go to the farm with the job, so the two may run on different
nodes. Every error answers ``{"error": {"type", "message", "field"}}`` with the status its
VidgenError class names (errors.py).

    serve run serve_app:app          # or: serve deploy serve_config.yaml
"""

import asyncio
import functools
import logging

import ray
from fastapi import FastAPI, Query, Request, Security
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from ray import serve

from vidgen_ray.config import ServiceSettings, user_data_dir
from vidgen_ray.errors import FarmUnavailable, NotFoundError
from vidgen_ray.farm.actors.errors import unwrap
from vidgen_ray.farm.actors.rate_limiter import farm_limiter
from vidgen_ray.farm.connect import farm_actor
from vidgen_ray.farm.home import check_job_id
from vidgen_ray.farm.jobs import JobRecord, JobStatus
from vidgen_ray.farm.journal import HomeJournal
from vidgen_ray.programs import check_ffmpeg
from vidgen_ray.service import downloads
from vidgen_ray.service import page_data as monitor
from vidgen_ray.service import requests as service
from vidgen_ray.service.guard import Guard, body_cap_bytes, docs_page
from vidgen_ray.service.http_errors import error_responses as _errors
from vidgen_ray.service.http_errors import install_error_handlers
from vidgen_ray.service.metrics import metrics_text
from vidgen_ray.service.page_data import FarmView, PriorityRequest, SceneView
from vidgen_ray.service.requests import JobPage, JobRequest, JobView
from vidgen_ray.storyboard import Storyboard

log = logging.getLogger("vidgen.api")
FARM_TIMEOUT_S = 30.0  # a farm that does not answer in this long is restarting or stuck


api = FastAPI(
    title="VidGen job service",
    version="1",
    description="Submit scripts to the shared render farm; poll; download the video, "
                "subtitles, storyboard and manifest. Authenticate with 'Authorization: "
                "Bearer <key>'. Every error answers {\"error\": {\"type\", \"message\", "
                "\"field\"}}.",
    responses=_errors(401, 500, 503), docs_url=None, redoc_url=None)
bearer = HTTPBearer(auto_error=False, description="An API key from VIDGEN_API_KEYS.")
# /readyz and /metrics answer without a key (probes, Prometheus) unless the operator sets
# VIDGEN_PROBES_NEED_KEY: the document says a key is optional there ({} is "no auth").
PROBE_SECURITY = {"security": [{}, {"HTTPBearer": []}]}


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


api.add_middleware(Guard, cap=body_cap_bytes)
install_error_handlers(api)  # before serve.ingress(api), which takes the app as it is then


def service_journal(settings: ServiceSettings) -> HomeJournal:
    """The farm's journal where this service's settings place it (a folder, maybe S3)."""
    home, store_url = service.storage_locations(settings, user_data_dir())
    return HomeJournal(home, store_url, settings.s3_endpoint_url)


@serve.deployment(name="vidgen", ray_actor_options={"num_cpus": 0}, max_ongoing_requests=200)
@serve.ingress(api)
class JobService:
    def __init__(self, factories: dict | None = None):
        self.settings = ServiceSettings()
        check_ffmpeg()  # an unfit FFmpeg is named when the service starts, not per job
        self.keys = service.load_keys(self.settings)
        if not self.keys:
            log.warning("VIDGEN_API_OPEN is set: the job service answers anyone, without keys")
        self.limits = service.Limits.from_settings(self.settings)
        journal = service_journal(self.settings)
        self.store = journal.store  # results in S3: answered with presigned links
        self.farm = farm_actor(journal, factories=factories)  # the cluster's one farm

    # ---- jobs ----------------------------------------------------------------------------

    @api.post("/v1/jobs", status_code=202, response_model=JobView, summary="Submit a job",
              responses={200: {"model": JobView, "description": "This idempotency key was "
                               "sent before: the job it made."},
                         202: {"description": "Queued.", "headers": {"Location": {
                             "description": "The job's path.", "schema": {"type": "string"}}}},
                         **_errors(400, 403, 413, 422, 429)})
    async def submit(self, body: JobRequest, request: Request,
                     credentials: HTTPAuthorizationCredentials | None = Security(bearer)):
        """Queue a script or storyboard. 202 with the job and its URL (also in Location);
        429 with Retry-After when the farm's queue is full."""
        caller = self._caller(credentials)
        job = await asyncio.to_thread(service.prepare, body, self.limits, farm_limiter, caller)
        record, created = await self._call(self.farm.enqueue.remote(
            job.storyboard, job.settings, body.priority, caller.name, body.idempotency_key,
            self.limits.queued_quota(caller), sent=job.sent, media=job.media))
        view = service.job_view(record, _base(request))
        # A path, not a URL built from the Host header a client sent.
        return JSONResponse(view.model_dump(mode="json"), status_code=202 if created else 200,
                            headers={"Location": f"/v1/jobs/{view.id}"})

    @api.get("/v1/jobs", response_model=JobPage, summary="List jobs",
             responses=_errors(422))
    async def list_jobs(self, request: Request,
                        state: JobStatus | None = Query(None, description="Only this state."),
                        offset: int = Query(0, ge=0), limit: int | None = Query(
                            None, ge=1, le=1000, description="Page size (default 50)."),
                        credentials: HTTPAuthorizationCredentials | None = Security(bearer)
                        ) -> JobPage:
        """Your jobs (every job for an admin key), newest first."""
        caller = self._caller(credentials)
        records = await self._call(self.farm.list_jobs.remote())
        chosen, total, after = service.page(records, caller, state, offset,
                                            limit or self.settings.page_size)
        return JobPage(jobs=[service.job_view(r, _base(request)) for r in chosen],
                       total=total, next_offset=after)

    @api.get("/v1/jobs/{job_id}", response_model=JobView, summary="A job's state",
             responses=_errors(403, 404))
    async def status(self, job_id: str, request: Request,
                     credentials: HTTPAuthorizationCredentials | None = Security(bearer)
                     ) -> JobView:
        """State, progress per stage, per-scene states, error, timings, result links."""
        return service.job_view(await self._record(job_id, credentials), _base(request))

    @api.delete("/v1/jobs/{job_id}", response_model=JobView, summary="Cancel a job",
                responses=_errors(403, 404))
    async def cancel(self, job_id: str, request: Request,
                     credentials: HTTPAuthorizationCredentials | None = Security(bearer)
                     ) -> JobView:
        """Stop a queued or running job; its finished parts are kept for a retry."""
        await self._record(job_id, credentials)
        record = await self._call(self.farm.cancel.remote(job_id))
        return service.job_view(record, _base(request))

    @api.post("/v1/jobs/{job_id}/retry", status_code=202, response_model=JobView,
              summary="Retry a failed or cancelled job, or a done one whose outputs were "
              "cleaned", responses=_errors(403, 404, 409, 429))
    async def retry(self, job_id: str, request: Request,
                    credentials: HTTPAuthorizationCredentials | None = Security(bearer)
                    ) -> JobView:
        """Queue it again; only the parts that are missing are made. Counts against the
        key's quota of queued jobs, like a submit."""
        await self._record(job_id, credentials)
        caller = self._caller(credentials)
        record = await self._call(self.farm.retry.remote(job_id,
                                                         self.limits.queued_quota(caller)))
        return service.job_view(record, _base(request))

    @api.post("/v1/jobs/{job_id}/priority", response_model=JobView,
              summary="Change a queued job's priority",
              responses=_errors(400, 403, 404, 409, 413, 422))
    async def set_priority(self, job_id: str, body: PriorityRequest, request: Request,
                           credentials: HTTPAuthorizationCredentials | None = Security(bearer)
                           ) -> JobView:
        """Move a queued job up or down the queue; 409 once it has started."""
        await self._record(job_id, credentials)
        service.check_priority(self._caller(credentials), body.priority, self.limits)
        record = await self._call(self.farm.set_priority.remote(job_id, body.priority))
        return service.job_view(record, _base(request))

    @api.post("/v1/analyze", response_model=Storyboard, summary="Analyse a script",
              responses=_errors(400, 413, 422, 429))
    async def analyze(self, body: service.AnalyzeRequest,
                      credentials: HTTPAuthorizationCredentials | None = Security(bearer)
                      ) -> Storyboard:
        """The storyboard a script gives with these settings (``llm`` picks the analyser),
        without rendering it: edit it and submit it as a job's ``storyboard``."""
        caller = self._caller(credentials)
        return await asyncio.to_thread(service.analyze, body, self.limits, farm_limiter,
                                       caller)

    # ---- a script from a topic (README "A script from a topic") ----
    @api.post("/v1/write", response_model=service.WriteView, summary="Write a script from a "
              "topic", responses=_errors(400, 422, 429, 502, 503))
    async def write(self, body: service.WriteRequest,
                    credentials: HTTPAuthorizationCredentials | None = Security(bearer)
                    ) -> service.WriteView:
        """A Markdown script about the topic by the language model ``settings.llm`` names,
        checked like a script: review it, then submit it as a job's ``script``."""
        self._caller(credentials)
        return await asyncio.to_thread(service.write, body, farm_limiter)

    @api.get("/v1/farm", response_model=FarmView, summary="Workers, nodes, queue, throughput")
    async def farm_status(self, credentials: HTTPAuthorizationCredentials | None = Security(
            bearer)) -> FarmView:
        """What the farm runs on: one row per worker (node, GPU share, calls, in flight,
        health, memory), Ray's nodes, queue depth, and jobs finished in the last hour."""
        self._caller(credentials)
        stats = await self._call(self.farm.stats.remote())
        workers = await self._call(self.farm.workers.remote())
        records = await self._call(self.farm.list_jobs.remote())
        nodes = monitor.node_rows(await asyncio.to_thread(ray.nodes))
        return monitor.farm_view(records, stats, workers, nodes)

    # Registered before download below: /v1/jobs/{id}/{output} would take "scenes" and "files".
    @api.get("/v1/jobs/{job_id}/scenes", response_model=list[SceneView],
             summary="A job's scenes and their parts", responses=_errors(403, 404))
    async def scenes(self, job_id: str, request: Request,
                     credentials: HTTPAuthorizationCredentials | None = Security(bearer)
                     ) -> list[SceneView]:
        """Each scene's state, picture and speech links once they exist, timings, error."""
        record = await self._record(job_id, credentials)
        board, stored = await self._call(self.farm.scenes.remote(job_id))
        return monitor.scene_views(record, board, f"{_base(request)}/v1/jobs/{job_id}",
                                   set(stored).__contains__)

    @api.get("/v1/jobs/{job_id}/scenes/{scene}/picture", summary="A scene's picture",
             response_class=FileResponse, responses=_errors(403, 404))
    async def picture(self, job_id: str, scene: int,
                      credentials: HTTPAuthorizationCredentials | None = Security(bearer)):
        record = await self._record(job_id, credentials)
        return await self._part(job_id, monitor.part_key(record, scene, "picture"), "image/png")

    @api.get("/v1/jobs/{job_id}/scenes/{scene}/speech/{line}", summary="A line's speech",
             response_class=FileResponse, responses=_errors(403, 404))
    async def speech(self, job_id: str, scene: int, line: int,
                     credentials: HTTPAuthorizationCredentials | None = Security(bearer)):
        record = await self._record(job_id, credentials)
        key = monitor.part_key(record, scene, "speech", line)
        return await self._part(job_id, key, "audio/wav")

    @api.get("/v1/jobs/{job_id}/files", summary="The files a job wrote",
             responses=_errors(403, 404))
    async def files(self, job_id: str, request: Request,
                    credentials: HTTPAuthorizationCredentials | None = Security(bearer)
                    ) -> dict[str, str]:
        """Every artifact (video, renditions, subtitles, storyboard, manifest, cast, mix,
        stems): name -> download URL."""
        await self._record(job_id, credentials)
        names = await self._call(self.farm.files.remote(job_id))
        return {name: f"{_base(request)}/v1/jobs/{job_id}/files/{name}" for name in names}

    @api.get("/v1/jobs/{job_id}/files/{name:path}", summary="Download one artifact",
             response_class=FileResponse, responses=_errors(403, 404))
    async def file(self, job_id: str, name: str,
                   credentials: HTTPAuthorizationCredentials | None = Security(bearer)):
        await self._record(job_id, credentials)
        return await downloads.artifact(job_id, name, functools.partial(self._file, job_id))

    # Registered before download below, which would take "preview.m3u8".
    @api.get("/v1/jobs/{job_id}/preview.m3u8", summary="The live preview's playlist",
             response_class=Response, responses={
                 200: {"content": {downloads.PLAYLIST_TYPE: {}}}, **_errors(403, 404)})
    async def preview(self, job_id: str,
                      credentials: HTTPAuthorizationCredentials | None = Security(bearer)):
        """HLS, type EVENT: it grows as the job's chunks are encoded (its segments, video
        and speech, at preview/NNNNN.ts beside it) and ends when the job does; empty (and
        polled by players) until the first chunk is encoded."""
        await self._record(job_id, credentials)
        data = await self._call(self.farm.preview_playlist.remote(job_id))
        return Response(data, media_type=downloads.PLAYLIST_TYPE,
                        headers={"Cache-Control": "no-cache"})

    @api.get("/v1/jobs/{job_id}/preview/{segment}", summary="A segment of the live preview",
             response_class=Response, responses={200: {"content": {"video/mp2t": {}}},
                                                 **_errors(403, 404)})
    async def preview_segment(self, job_id: str, segment: str, credentials:
                              HTTPAuthorizationCredentials | None = Security(bearer)):
        return await self._preview(job_id, f"preview/{segment}", credentials)

    # ---- the web monitor's page ------------------------------------------------------------

    @api.get("/", include_in_schema=False)
    async def page(self) -> FileResponse:
        return downloads.web_page()

    @api.get("/web/{asset}", include_in_schema=False)
    async def asset(self, asset: str) -> FileResponse:
        return downloads.web_asset(asset)

    @api.get("/docs", include_in_schema=False)
    async def docs(self) -> HTMLResponse:
        """Swagger UI, only when the operator turns it on (VIDGEN_API_DOCS): it runs scripts
        from a CDN on the origin where keys are typed. /openapi.json is always there."""
        if not self.settings.api_docs:
            raise NotFoundError("the interactive API page is off on this service: read "
                                "/openapi.json")
        html, headers = docs_page()
        return HTMLResponse(html, headers=headers)

    # ---- results -------------------------------------------------------------------------

    @api.get("/v1/jobs/{job_id}/{output}", summary="Download a result",
             responses={200: {"description": "The file", "content": {
                 media: {} for media in sorted(set(downloads.MEDIA.values()))}},
                 307: {"description": "A presigned link to the file in S3"},
                 **_errors(403, 404)})
    async def download(self, job_id: str, output: str,
                       credentials: HTTPAuthorizationCredentials | None = Security(bearer)):
        """``output`` is one of video, subtitles.srt, subtitles.vtt, storyboard, manifest:
        streamed from the local store, or a 307 to a presigned S3 link."""
        downloads.check_output(output)  # an unknown name never reaches the farm
        record = await self._record(job_id, credentials)
        return await downloads.output_file(record, output, self.store,
                                           self.settings.presign_seconds,
                                           functools.partial(self._file, job_id))

    # ---- health --------------------------------------------------------------------------

    @api.get("/healthz", summary="The API answers")
    async def healthz(self) -> dict:
        return {"status": "ok"}

    @api.get("/readyz", summary="The farm answers", responses=_errors(503),
             openapi_extra=PROBE_SECURITY)
    async def readyz(self, credentials: HTTPAuthorizationCredentials | None = Security(
            bearer)) -> dict:
        """Without a key, unless the operator sets VIDGEN_PROBES_NEED_KEY."""
        self._probe(credentials)
        stats = await self._call(self.farm.stats.remote(), timeout=5.0)
        return {"status": "ready", **stats}

    @api.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse,
             openapi_extra=PROBE_SECURITY)
    async def metrics(self, credentials: HTTPAuthorizationCredentials | None = Security(
            bearer)) -> PlainTextResponse:
        """Without a key, unless the operator sets VIDGEN_PROBES_NEED_KEY."""
        self._probe(credentials)
        stats = await self._call(self.farm.stats.remote())
        records = await self._call(self.farm.list_jobs.remote())
        return PlainTextResponse(metrics_text(records, stats),
                                 media_type="text/plain; version=0.0.4")

    # ---- helpers -------------------------------------------------------------------------

    def _caller(self, credentials: HTTPAuthorizationCredentials | None) -> service.Caller:
        header = f"{credentials.scheme} {credentials.credentials}" if credentials else None
        return service.authenticate(header, self.keys)

    def _probe(self, credentials: HTTPAuthorizationCredentials | None) -> None:
        if self.settings.probes_need_key:
            self._caller(credentials)

    async def _record(self, job_id: str, credentials) -> JobRecord:
        """The job, if it exists and the caller may see it; the id is checked first, so a
        path-like id never reaches the farm or a file."""
        caller = self._caller(credentials)
        record = await self._call(self.farm.status.remote(check_job_id(job_id)))
        service.check_access(caller, record)
        return record

    async def _preview(self, job_id: str, name: str, credentials) -> Response:
        await self._record(job_id, credentials)
        return await downloads.preview_file(job_id, name, functools.partial(self._file, job_id))

    async def _file(self, job_id: str, name: str) -> bytes:
        return await self._call(self.farm.file.remote(job_id, name))

    async def _part(self, job_id: str, key: str, media: str) -> Response:
        data = await self._call(self.farm.part.remote(job_id, key))
        return Response(data, media_type=media, headers={"Cache-Control": "no-cache"})

    async def _call(self, ref, timeout: float = FARM_TIMEOUT_S):
        try:
            return await asyncio.wait_for(ref, timeout)
        except ray.exceptions.RayTaskError as exc:
            raise unwrap(exc) from None
        except (ray.exceptions.RayActorError, asyncio.TimeoutError) as exc:
            raise FarmUnavailable("the farm is not answering (it may be restarting): retry "
                                  "in a few seconds") from exc


app = JobService.bind()
