"""The web monitor: its API routes over real HTTP, and its page in a real headless Chromium
(Debian's package, driven by Playwright by path; skipped only where no chromium exists).

One Ray, one Serve app with API keys required, one Farm with a job home. Pictures come from the slow
fake backend (0.3 s each, one at a time; the 4th scene of any job fails, as a broken model
would); speech (espeak-ng), FFmpeg, Ray and Serve are real. Screenshots go to
$VIDGEN_TEST_ARTIFACTS or test-artifacts/ (README: The web monitor)."""

from __future__ import annotations

import json
import os
import shutil
import time
from functools import partial
from pathlib import Path

import pytest

from vidgen_ray.storyboard import Line, Scene, Storyboard
from vidgen_ray.testing.fake_backends import LINGER, SlowImageBackend
from vidgen_ray.testing.http import request
from vidgen_ray.testing.service import job_service

pytestmark = [pytest.mark.ray, pytest.mark.ffmpeg, pytest.mark.slow]

ALICE, BOB = "alice-key-0123456789", "bob-key-0123456789ab"
SETTINGS = {"fps": 12, "chunk_seconds": 2.0, "x264_preset": "ultrafast"}
BUSY = "A long slow line to keep the farm busy, said twice. A long slow line to keep it busy."
SCRIPT = "# Harbour\n\nThe boats come home.\n\n# Night\n\nThe lamps go out."
FAILING_SCENE = 4  # 1-based: every job with four scenes or more fails there
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
_no_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium on PATH: install Debian's chromium package (make "
    "test does) to run the browser tests")


def browser(test):
    """Marked ``browser`` (``-m "not browser"`` leaves it out); skipped without chromium."""
    return pytest.mark.browser(_no_chromium(test))
PLAYER = Path(__file__).resolve().parents[2] / "vidgen_ray/service/web/vendor/hls.min.js"
ARTIFACTS = Path(os.environ.get("VIDGEN_TEST_ARTIFACTS")
                 or Path(__file__).resolve().parents[2] / "test-artifacts")



@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """(host:port, home folder)."""
    home = tmp_path_factory.mktemp("web") / "home"
    env = dict(
        VIDGEN_API_KEYS=f"alice:{ALICE},bob:{BOB}", VIDGEN_STORAGE=str(home),
        VIDGEN_MAX_RUNNING_JOBS="1", VIDGEN_MAX_QUEUED_JOBS="4",
        VIDGEN_IMAGE_WORKERS="1", VIDGEN_IMAGE_BATCH_SIZE="1", VIDGEN_MAX_IN_FLIGHT="1")
    factories = {"image": partial(SlowImageBackend, latency_s=0.3, fail_scene=FAILING_SCENE)}
    with job_service(env, factories) as address:
        yield address, home


def call(service, method: str, path: str, body=None, key: str | None = ALICE):
    """(status, headers, parsed JSON or bytes) of one real HTTP request."""
    return request(service[0], method, path, body, key=key)


def submit(service, key=ALICE, **body) -> dict:
    status, _, job = call(service, "POST", "/v1/jobs", {"settings": SETTINGS, **body}, key)
    assert status == 202, job
    return job


def wait(service, job_id: str, final=("done", "failed", "cancelled"), timeout=120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, _, job = call(service, "GET", f"/v1/jobs/{job_id}")
        assert status == 200, job
        if job["status"] in final:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not reach {final}: {job}")


def board(scenes: int, words: str = "The tide turns.") -> dict:
    return Storyboard(title=f"{scenes} scenes", scenes=[
        Scene(title=f"S{i + 1}", lines=[Line(text=f"{words} Part {i + 1}.")])
        for i in range(scenes)]).model_dump()


def cancel_all(service) -> None:
    for key in (ALICE, BOB):
        _, _, page = call(service, "GET", "/v1/jobs?limit=1000", key=key)
        for job in page["jobs"]:
            if job["status"] in ("queued", "running"):
                call(service, "DELETE", f"/v1/jobs/{job['id']}", key=key)


# ---- the API the page uses -------------------------------------------------------------------

def test_page_is_served_under_root_and_the_api_keeps_its_routes(service):
    status, headers, html = call(service, "GET", "/", key=None)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b'src="web/app.js"' in html and b'href="web/style.css"' in html
    for asset, media in (("app.js", "text/javascript"), ("style.css", "text/css")):
        status, headers, body = call(service, "GET", f"/web/{asset}", key=None)
        assert status == 200 and headers["Content-Type"].startswith(media) and body
    # The live preview's player: served when fetched (make does), else a 404 that says how.
    status, headers, body = call(service, "GET", "/web/hls.min.js", key=None)
    if PLAYER.is_file():
        assert status == 200 and headers["Content-Type"].startswith("text/javascript")
        assert body == PLAYER.read_bytes()
    else:
        assert status == 404 and "fetch_player.py" in body["error"]["message"]
    for path in ("/web/index.htm", "/web/..%2Fapi.py", "/web/%2e%2e%2fapi.py"):
        status, _, body = call(service, "GET", path, key=None)
        assert status == 404 and b"import" not in json.dumps(body).encode(), path
    status, _, body = call(service, "GET", "/v1/jobs", key=None)  # still the API, still keyed
    assert status == 401 and body["error"]["type"] == "AuthError"
    status, _, doc = call(service, "GET", "/openapi.json", key=None)
    assert {"/v1/analyze", "/v1/farm", "/v1/jobs/{job_id}/priority", "/v1/jobs/{job_id}/scenes",
            "/v1/jobs/{job_id}/files", "/v1/jobs/{job_id}/files/{name}"} <= set(doc["paths"])
    assert "/" not in doc["paths"]


def test_analyze_then_render_the_edited_storyboard_with_its_scene_parts(service):
    status, _, story = call(service, "POST", "/v1/analyze", {"script": SCRIPT})
    assert status == 200 and [s["title"] for s in story["scenes"]] == ["Harbour", "Night"]
    assert call(service, "POST", "/v1/analyze", {"script": SCRIPT}, key=None)[0] == 401
    status, _, body = call(service, "POST", "/v1/analyze", {"script": "   "})
    assert status == 400 and body["error"]["type"] == "ScriptError"
    story["scenes"][1]["lines"][0]["text"] = "The lamps burn all night."  # the user's edit
    job = submit(service, storyboard=story)
    done = wait(service, job["id"])
    assert done["status"] == "done", done["error"]
    status, _, scenes = call(service, "GET", f"/v1/jobs/{job['id']}/scenes")
    assert status == 200 and [s["status"] for s in scenes] == ["done", "done"]
    assert scenes[1]["lines"] == ["NARRATOR: The lamps burn all night."]
    for scene in scenes:
        assert scene["error"] is None and 0 <= scene["timings"]["picture"] < 60
        assert 0 <= scene["timings"]["speech"] < 60
        _, headers, png = call(service, "GET", _path(scene["picture"]))
        assert headers["Content-Type"] == "image/png" and png.startswith(b"\x89PNG")
        (speech,) = scene["speech"]
        _, headers, wav = call(service, "GET", _path(speech))
        assert headers["Content-Type"] == "audio/wav" and wav[:4] == b"RIFF"
    status, _, files = call(service, "GET", f"/v1/jobs/{job['id']}/files")
    assert status == 200
    assert {"video.mp4", "subtitles.srt", "subtitles.vtt", "storyboard.json", "manifest.json",
            "cast.json", "qc.json", "timeline.otio"} <= set(files)
    _, headers, qc = call(service, "GET", _path(files["qc.json"]))
    assert headers["Content-Type"] == "application/json" and qc["file"] == "video.mp4"
    _, headers, otio = call(service, "GET", _path(files["timeline.otio"]))
    assert otio["OTIO_SCHEMA"].startswith("Timeline.") and len(otio["tracks"]["children"]) >= 2
    _, headers, vtt = call(service, "GET", _path(files["subtitles.vtt"]))
    assert headers["Content-Type"].startswith("text/vtt") and b"burn all night" in vtt
    for name in ("../requests/x.json", "..%2F..%2Fsecret", "video.mp4.bak", "stems/../cast.json",
                 "mix.wav"):
        status, _, _ = call(service, "GET", f"/v1/jobs/{job['id']}/files/{name}")
        assert status == 404, name
    for path in ("scenes/2/picture", "scenes/0/speech/1", "scenes/-1/picture"):
        assert call(service, "GET", f"/v1/jobs/{job['id']}/{path}")[0] == 404, path
    assert call(service, "GET", f"/v1/jobs/{job['id']}/scenes", key=BOB)[0] == 403
    assert call(service, "GET", _path(scenes[0]["picture"]), key=BOB)[0] == 403
    # The live preview: whole once the job is done, behind the same key, not among its files.
    status, headers, playlist = call(service, "GET", f"/v1/jobs/{job['id']}/preview.m3u8")
    assert status == 200 and headers["Content-Type"] == "application/vnd.apple.mpegurl"
    assert headers["Cache-Control"] == "no-cache" and not any("preview" in n for n in files)
    lines = playlist.decode().splitlines()
    assert "#EXT-X-PLAYLIST-TYPE:EVENT" in lines and lines[-1] == "#EXT-X-ENDLIST"
    segment = next(line for line in lines if not line.startswith("#"))
    status, headers, ts = call(service, "GET", f"/v1/jobs/{job['id']}/{segment}")
    assert status == 200 and headers["Content-Type"] == "video/mp2t" and ts[:1] == b"G"
    for key, expected in ((BOB, 403), (None, 401)):
        assert call(service, "GET", f"/v1/jobs/{job['id']}/preview.m3u8", key=key)[0] == expected
        assert call(service, "GET", f"/v1/jobs/{job['id']}/{segment}", key=key)[0] == expected
    for name in ("99999.ts", "0.ts", "..%2Fmanifest.json", "00000.ts.part"):
        assert call(service, "GET", f"/v1/jobs/{job['id']}/preview/{name}")[0] == 404, name
    _, _, body = call(service, "GET", f"/v1/jobs/{job['id']}/preview/99999.ts")
    assert "live preview has no preview/99999.ts" in body["error"]["message"]


def test_a_failed_scene_shows_its_error_and_the_parts_made_before_it(service):
    job = submit(service, storyboard=board(FAILING_SCENE + 1))
    failed = wait(service, job["id"])
    assert failed["status"] == "failed"
    _, _, scenes = call(service, "GET", f"/v1/jobs/{job['id']}/scenes")
    bad = scenes[FAILING_SCENE - 1]
    assert bad["status"] == "failed" and f"scene {FAILING_SCENE}" in bad["error"]
    assert bad["picture"] is None
    assert [s["error"] for s in scenes if s is not bad] == [None] * FAILING_SCENE
    assert all(s["picture"] for s in scenes[:FAILING_SCENE - 1])  # made before the failure
    # The job failed: its live preview ends, whatever it had listed.
    status, _, playlist = call(service, "GET", f"/v1/jobs/{job['id']}/preview.m3u8")
    assert status == 200 and playlist.decode().splitlines()[-1] == "#EXT-X-ENDLIST"


def test_priority_moves_a_queued_job_and_only_a_queued_one(service):
    cancel_all(service)
    first = submit(service, storyboard=board(3))
    second, third = submit(service, storyboard=board(2)), submit(service, storyboard=board(1))
    status, _, moved = call(service, "POST", f"/v1/jobs/{third['id']}/priority",
                            {"priority": 5})
    assert status == 200 and moved["priority"] == 5 and moved["status"] == "queued"
    assert call(service, "POST", f"/v1/jobs/{third['id']}/priority", {"priority": 5},
                key=BOB)[0] == 403
    status, _, body = call(service, "POST", f"/v1/jobs/{third['id']}/priority",
                           {"priority": 101})
    assert status == 422 and body["error"]["field"] == "priority"
    call(service, "DELETE", f"/v1/jobs/{first['id']}")  # frees the one running slot
    running = wait(service, third["id"], final=("running", "done"))
    assert running["status"] in ("running", "done")
    _, _, waiting = call(service, "GET", f"/v1/jobs/{second['id']}")
    assert waiting["status"] == "queued"  # it came first, but at priority 0
    # Its live preview is there from submit on: empty, not ended, so a player polls it.
    status, _, playlist = call(service, "GET", f"/v1/jobs/{second['id']}/preview.m3u8")
    lines = playlist.decode().splitlines()
    assert status == 200 and "#EXT-X-PLAYLIST-TYPE:EVENT" in lines, lines
    assert not any(line.startswith("#EXTINF") or line == "#EXT-X-ENDLIST" for line in lines)
    status, _, body = call(service, "POST", f"/v1/jobs/{third['id']}/priority", {"priority": 0})
    assert status == 409 and body["error"]["type"] == "IllegalTransition"
    cancel_all(service)
    # Cancelled before it ran: its playlist ends, empty, and players stop asking.
    _, _, playlist = call(service, "GET", f"/v1/jobs/{second['id']}/preview.m3u8")
    assert playlist.decode().splitlines()[-1] == "#EXT-X-ENDLIST"


def test_farm_shows_workers_nodes_queue_and_recent_throughput(service):
    job = submit(service, script=SCRIPT)
    assert wait(service, job["id"])["status"] == "done"
    status, _, farm = call(service, "GET", "/v1/farm")
    assert status == 200 and farm["queue_depth"] == 0 and farm["max_running"] == 1
    pools = {w["pool"] for w in farm["workers"]}
    assert {"image:cards", "speech:espeak"} <= pools, pools
    image = next(w for w in farm["workers"] if w["pool"] == "image:cards")
    assert image["ok"] and image["loaded"] and image["calls"] >= 2 and image["in_flight"] == 0
    assert image["gpu_share"] == 0.0 and image["node_id"]
    (node,) = farm["nodes"]
    assert node["alive"] and node["address"] == "127.0.0.1" and node["workers"] >= 2
    assert node["node_id"] == image["node_id"]
    throughput = farm["throughput"]
    assert throughput["jobs_done"] >= 1 and throughput["scenes_done"] >= 2
    assert throughput["seconds_per_scene"] > 0 and farm["jobs"]["done"] >= 1
    assert call(service, "GET", "/v1/farm", key=None)[0] == 401


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


# ---- the page in a browser -------------------------------------------------------------------

@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        launched.close()


def open_page(chromium, service, width=1280, height=900):
    """A fresh tab (its own sessionStorage: no key yet) and every request URL it makes."""
    context = chromium.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(30_000)
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text)  # a CSP refusal
            if "Content Security Policy" in message.text else None)
    return context, page, urls, errors


def wait_until(page, expression: str, timeout: float = 30.0) -> None:
    """Poll a JS expression until it is true. Not page.wait_for_function: its polling
    evaluates a string inside the page, which the page's CSP (no 'unsafe-eval') refuses."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"still false after {timeout} s: {expression}"
        page.wait_for_timeout(100)


def give_key(page, key=ALICE):
    page.wait_for_selector("#key-dialog[open]")
    page.fill("#key-input", key)
    page.click("#key-save")


@browser
def test_browser_submit_watch_finish_play_and_cancel_another_job(service, chromium):
    context, page, urls, errors = open_page(chromium, service)
    page.goto(f"http://{service[0]}/#/submit")
    page.set_input_files("#script-file", files=[{"name": "harbour.md", "mimeType": "text/markdown",
                                                 "buffer": SCRIPT.encode()}])
    wait_until(page, f"document.getElementById('script').value === {json.dumps(SCRIPT)}")
    page.select_option("#image-model", "cards")
    page.select_option("#tts-model", "espeak")
    page.fill("#extra", json.dumps(SETTINGS))
    page.click("#analyze")
    give_key(page)  # the first keyed call asks for it once
    page.wait_for_selector("#storyboard fieldset")
    page.fill("textarea[data-scene='1'][data-line='0']", "The lamps go out one by one.")
    page.screenshot(path=ARTIFACTS / "web-submit.png", full_page=True)
    page.click("#render")
    page.wait_for_url("**/#/jobs/job-*")
    job_id = page.url.rsplit("/", 1)[1]
    first_seen = page.locator("#job-state").inner_text()
    page.wait_for_selector("#job-state:text('done')", timeout=120_000)  # no reload between
    assert first_seen in ("queued", "running"), first_seen
    page.wait_for_selector("#player")
    wait_until(page, "document.querySelectorAll('.scene img').length === 2")
    wait_until(page, "document.querySelectorAll('.scene audio').length === 2")
    page.wait_for_selector("a.artifact[data-name='manifest.json']")
    assert "LUFS" in page.locator("#qc-loudness").inner_text()  # the QC report's section
    assert page.locator(".scene .lines li").nth(1).inner_text().endswith("one by one.")
    played = page.evaluate("""async () => {
        const video = document.getElementById('player');
        video.muted = true;
        await video.play();
        await new Promise((resolve) => setTimeout(resolve, 1500));
        const track = video.textTracks[0];
        return {time: video.currentTime, ready: video.readyState, width: video.videoWidth,
                cues: track.cues ? track.cues.length : 0, mode: track.mode};
    }""")
    assert played["time"] > 0.5 and played["ready"] >= 2 and played["width"] == 1280, played
    assert played["cues"] >= 2 and played["mode"] == "showing", played
    page.screenshot(path=ARTIFACTS / "web-job.png", full_page=True)
    _, _, record = call(service, "GET", f"/v1/jobs/{job_id}")
    assert record["status"] == "done" and record["owner"] == "alice"
    _, _, manifest = call(service, "GET", f"/v1/jobs/{job_id}/manifest")
    assert manifest["settings"]["card_text"] == "title"  # the page plays the subtitle track

    blocker = submit(service, storyboard=board(3, BUSY))  # runs while `other` waits
    other = submit(service, storyboard=board(2))
    page.goto(f"http://{service[0]}/#/jobs")
    row = page.locator(f"article.job[data-id='{other['id']}']")
    row.locator("input.priority").fill("7")
    row.locator("button.set-priority").click()
    row.locator(".meta:text('priority 7')").wait_for()
    assert call(service, "GET", f"/v1/jobs/{other['id']}")[2]["priority"] == 7
    row.locator("button.cancel").click()
    row.locator(".state:text('cancelled')").wait_for()
    page.screenshot(path=ARTIFACTS / "web-jobs.png", full_page=True)
    assert wait(service, other["id"])["status"] == "cancelled"
    page.select_option("#filter-state", "cancelled")
    wait_until(page, "[...document.querySelectorAll('article.job .state')]"
               ".every((s) => s.textContent === 'cancelled')")
    assert row.is_visible() and not page.locator(f"article.job[data-id='{job_id}']").count()
    row.locator("button.retry").click()  # back in the queue (or running: the blocker ended)
    page.select_option("#filter-state", "")
    row.locator(".state:text-matches('queued|running|done')").wait_for()
    page.goto(f"http://{service[0]}/#/farm")
    page.wait_for_selector("#workers tbody tr")
    page.screenshot(path=ARTIFACTS / "web-farm.png", full_page=True)
    assert not [u for u in urls if ALICE in u]  # the key went in headers only
    assert not errors, errors
    for job in (blocker, other):
        call(service, "DELETE", f"/v1/jobs/{job['id']}")
    context.close()


@browser
def test_browser_asks_again_for_a_wrong_key_and_sends_it_as_a_bearer_header(service, chromium):
    context, page, urls, errors = open_page(chromium, service)
    sent = []
    page.on("request", lambda r: sent.append(r.headers.get("authorization"))
            if "/v1/jobs" in r.url else None)
    page.goto(f"http://{service[0]}/#/jobs")
    page.wait_for_selector("#key-dialog[open]")
    page.keyboard.press("Escape")  # no key: the page says what it needs, and asks again
    page.wait_for_selector("#notice:text('needs an API key')")
    give_key(page, "not-a-key-0123456789")
    page.wait_for_selector("#key-error:text('not accepted')")
    give_key(page, BOB)
    page.wait_for_selector("#jobs-total")
    wait_until(page, "document.getElementById('jobs-total').textContent.includes('of')")
    assert f"Bearer {BOB}" in sent and "Bearer not-a-key-0123456789" in sent
    assert page.evaluate("sessionStorage.getItem('vidgen-api-key')") == BOB
    assert not [u for u in urls if BOB in u] and not errors
    context.close()


@browser
def test_browser_every_view_fits_a_phone(service, chromium):
    job = submit(service, script=SCRIPT)
    assert wait(service, job["id"])["status"] == "done"
    queued = [submit(service, storyboard=board(3, BUSY)),
              submit(service, storyboard=board(2))]
    context, page, urls, errors = open_page(chromium, service, width=390, height=844)
    page.goto(f"http://{service[0]}/#/jobs")
    give_key(page)
    views = {"submit": "#render", "jobs": f"article.job[data-id='{queued[1]['id']}'] button",
             f"jobs/{job['id']}": "#player", "farm": "#farm-stats"}
    for view, control in views.items():
        page.goto(f"http://{service[0]}/#/{view}")
        page.wait_for_selector(control)
        page.wait_for_timeout(300)  # a poll or two
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (view, overflow)
        for box in [page.locator(control).first.bounding_box()]:
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, (view, box)
        name = view.split("/")[0] if "/" not in view else "job"
        page.screenshot(path=ARTIFACTS / f"web-phone-{name}.png", full_page=True)
    assert not errors, errors
    cancel_all(service)
    context.close()



@browser
@pytest.mark.skipif(not PLAYER.is_file(), reason="no hls.js: make test fetches it "
                    "(scripts/fetch_player.py)")
def test_browser_plays_the_live_preview_while_the_job_runs_then_its_video(service, chromium):
    """The last scene's picture lingers (LINGER: 12 s), so the job is held running after the
    chunks of the first two scenes are encoded: the preview must play them meanwhile."""
    cancel_all(service)
    story = board(3, BUSY)
    story["scenes"][2]["title"] = f"{LINGER} at the end"
    job = submit(service, storyboard=story)
    context, page, urls, errors = open_page(chromium, service)
    page.goto(f"http://{service[0]}/#/jobs/{job['id']}")
    give_key(page)
    page.wait_for_selector("#preview")
    wait_until(page, "document.getElementById('preview').currentTime > 0.5", timeout=40)
    seen = page.evaluate("""async () => {
        const video = document.getElementById('preview');
        const before = video.currentTime;
        await new Promise((resolve) => setTimeout(resolve, 1000));
        return {before, after: video.currentTime, width: video.videoWidth,
                height: video.videoHeight, ready: video.readyState, paused: video.paused,
                frames: video.getVideoPlaybackQuality().totalVideoFrames,
                source: video.src.slice(0, 5)};
    }""")
    _, _, running = call(service, "GET", f"/v1/jobs/{job['id']}")
    page.screenshot(path=ARTIFACTS / "web-preview.png", full_page=True)
    assert running["status"] == "running", running  # all this before the job was done
    assert seen["after"] > seen["before"] and not seen["paused"], seen  # it plays on
    assert seen["width"] == 1280 and seen["height"] == 720 and seen["ready"] >= 2, seen
    assert seen["frames"] > 0 and seen["source"] == "blob:", seen
    asked = [u for u in urls if "/preview" in u]
    assert any(u.endswith(f"/v1/jobs/{job['id']}/preview.m3u8") for u in asked)
    assert any(u.endswith("/preview/00000.ts") for u in asked)
    assert not any(ALICE in u for u in urls)  # the key went in a header
    page.wait_for_selector("#job-state:text('done')", timeout=90_000)
    page.wait_for_selector("#player")  # the final video replaces the preview
    wait_until(page, "document.getElementById('preview-box').hidden")
    assert page.locator("#preview").count() == 1 and errors == [], errors
    context.close()


@browser
def test_browser_says_the_live_preview_needs_its_player(service, chromium):
    """Without hls.js (here: the page is refused it) the job view says so, and works on."""
    cancel_all(service)
    story = board(2, BUSY)
    story["scenes"][1]["title"] = f"{LINGER} here"
    job = submit(service, storyboard=story)
    context, page, _, errors = open_page(chromium, service)
    page.route("**/web/hls.min.js", lambda route: route.fulfill(status=404, body="{}"))
    page.goto(f"http://{service[0]}/#/jobs/{job['id']}")
    give_key(page)
    page.wait_for_selector("#preview-missing")
    assert "needs hls.js" in page.locator("#preview-missing").inner_text()
    page.wait_for_selector("#job-state:text('done')", timeout=90_000)
    page.wait_for_selector("#player")
    assert errors == [], errors
    context.close()
