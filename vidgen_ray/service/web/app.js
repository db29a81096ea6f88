// The VidGen farm monitor: plain JS, no framework, no build step, nothing from the network
// but this service. Views by URL hash: #/submit, #/jobs, #/jobs/<id>, #/farm. Live updates
// by polling with fetch (EventSource cannot send the Authorization header, and keys never
// go into URLs). Media (pictures, speech, video, subtitles, downloads) are fetched with the
// key and shown from blob: URLs, so the page works the same with or without a key.
"use strict";

const KEY = "vidgen-api-key";
const STATES = ["queued", "running", "done", "failed", "cancelled"];
const FINAL = new Set(["done", "failed", "cancelled"]);
const STAGES = ["speech", "images", "clips", "talking", "video", "beds", "mux"];
const SOMETIMES = new Set(["clips", "talking", "beds"]);  // only in jobs that make some
const $ = (sel, root = document) => root.querySelector(sel);
const app = { gen: 0, timer: null, blobs: new Map(), schema: null, keyWaiters: [],
  player: null, live: null };

// ---- small helpers ----------------------------------------------------------------------

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "value") el.value = value;
    else el.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child !== null && child !== undefined && child !== false) el.append(child);
  }
  return el;
}

function notice(message, kind = "error") {
  const box = $("#notice");
  box.textContent = message;
  box.className = kind;
  box.hidden = false;
  clearTimeout(notice.timer);
  notice.timer = setTimeout(() => { box.hidden = true; }, 8000);
}

const fmtTime = (ts) => (ts ? new Date(ts * 1000).toLocaleString() : "–");
const fmtSecs = (s) => (s === null || s === undefined ? "–" : `${Number(s).toFixed(1)} s`);
const toPath = (url) => { const u = new URL(url, location.href); return u.pathname + u.search; };

function progressOf(job) {
  if (job.status === "done") return 1;
  let done = 0, total = 0;
  for (const stage of STAGES) {
    const p = job.progress[stage];
    if (p && p.total) { done += p.done; total += p.total; }
  }
  return total ? done / total : 0;
}

// ---- the API, with the key --------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

function askKey(message) {
  return new Promise((resolve, reject) => {
    app.keyWaiters.push({ resolve, reject });
    const error = $("#key-error");
    error.textContent = message || "";
    error.hidden = !message;
    const dialog = $("#key-dialog");
    if (!dialog.open) dialog.showModal();
    $("#key-input").focus();
  });
}

async function api(path, { method = "GET", json, raw = false } = {}) {
  for (;;) {
    const headers = {};
    const key = sessionStorage.getItem(KEY);
    if (key) headers.Authorization = `Bearer ${key}`;
    if (json !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(path, { method, headers,
      body: json === undefined ? undefined : JSON.stringify(json) });
    if (res.status === 401) {
      await askKey(key ? "That key was not accepted: check it and try again." : "");
      continue;
    }
    if (!res.ok) {
      let message = `${res.status} ${res.statusText}`;
      try { message = (await res.json()).error.message; } catch (_) { /* not our JSON */ }
      throw new ApiError(res.status, message);
    }
    return raw ? res : res.json();
  }
}

// One blob: URL per media path, fetched once with the key; dropped when the view changes.
function blobUrl(url) {
  const path = toPath(url);
  if (!app.blobs.has(path)) {
    const made = api(path, { raw: true }).then((r) => r.blob()).then((b) => URL.createObjectURL(b));
    made.catch(() => app.blobs.delete(path));
    app.blobs.set(path, made);
  }
  return app.blobs.get(path);
}

function dropBlobs() {
  for (const made of app.blobs.values()) made.then(URL.revokeObjectURL, () => {});
  app.blobs.clear();
}

async function download(url, name) {
  const link = h("a", { href: await blobUrl(url), download: name });
  document.body.append(link);
  link.click();
  link.remove();
}

// ---- views ------------------------------------------------------------------------------

function route() {
  app.gen += 1;
  clearInterval(app.timer);
  dropBlobs();
  stopPreview();
  const [, view = "submit", id] = (location.hash || "#/submit").split("/");
  for (const link of document.querySelectorAll("nav a")) {
    link.classList.toggle("active", link.dataset.view === view);
  }
  const main = $("#view");
  main.replaceChildren();
  const show = { jobs: id ? () => showJob(main, id) : () => showJobs(main),
                 farm: () => showFarm(main) }[view] || (() => showSubmit(main));
  Promise.resolve(show()).catch((e) => notice(e.message));
}

// Run fn now and every `ms` while this view is shown; never two at once.
function poll(fn, ms = 1000) {
  const gen = app.gen;
  let busy = false;
  const tick = async () => {
    if (gen !== app.gen || busy) return;
    busy = true;
    try { await fn(); } catch (e) { notice(e.message); } finally { busy = false; }
  };
  tick();
  app.timer = setInterval(tick, ms);
}

// ---- submit -----------------------------------------------------------------------------

async function settingsSchema() {
  if (!app.schema) {
    const doc = await (await fetch("openapi.json")).json();
    app.schema = doc.components.schemas.JobSettings.properties;
  }
  return app.schema;
}

function choices(schema, name) {
  const prop = schema[name] || {};
  const found = [prop, ...(prop.anyOf || [])].find((p) => p.enum);
  return found ? found.enum : [];
}

function select(id, label, values) {
  return h("label", {}, label, h("select", { id },
    h("option", { value: "" }, "service default"),
    values.map((v) => h("option", { value: v }, v))));
}

async function showSubmit(main) {
  const schema = await settingsSchema();
  let board = null, filename = null;
  const editor = h("section", { id: "storyboard", class: "storyboard", hidden: true });
  const form = h("form", { id: "submit-form", class: "panel", onsubmit: (e) => e.preventDefault() },
    h("h2", {}, "New job"),
    writePanel(schema, (written) => {
      $("#script").value = written.script;
      filename = "script.md";
      board = null;
      editor.hidden = true;
    }),
    h("label", { class: "wide" }, "Script (prose, Markdown or Fountain)",
      h("textarea", { id: "script", rows: 10, placeholder: "# The lighthouse\n\nThe keeper climbs the stairs." })),
    h("label", {}, "or upload a file", h("input", { id: "script-file", type: "file",
      accept: ".txt,.md,.markdown,.fountain,.json", onchange: (e) => readFile(e.target.files[0]) })),
    h("div", { class: "grid" },
      select("image-model", "Pictures", choices(schema, "image_model")),
      select("tts-model", "Speech", choices(schema, "tts_model")),
      h("label", {}, "Voice", h("input", { id: "voice", placeholder: "backend's narrator" })),
      select("style", "Style", choices(schema, "image_style")),
      select("resolution", "Resolution", choices(schema, "resolution")),
      select("aspect", "Aspect", choices(schema, "aspect")),
      h("label", {}, "Priority", h("input", { id: "priority", type: "number", min: -100, max: 100, value: "0" }))),
    h("label", { class: "wide" }, "More settings (JSON, as in the API: fps, seed, transition, ...)",
      h("textarea", { id: "extra", rows: 2, placeholder: '{"fps": 24}' })),
    h("div", { class: "actions" },
      h("button", { type: "button", id: "analyze", onclick: analyze }, "Analyze"),
      h("button", { type: "button", id: "render", class: "primary", onclick: render }, "Render")));
  main.append(form, editor);

  async function readFile(file) {
    if (!file) return;
    filename = file.name;
    const text = await file.text();
    if (file.name.endsWith(".json")) {
      try { board = JSON.parse(text); showBoard(); return; } catch (e) { notice(`${file.name}: ${e.message}`); }
    }
    $("#script").value = text;
  }

  async function analyze() {
    let settings;
    try { settings = chosenSettings(); } catch (e) { notice(e.message); return; }
    try {
      // The job's settings, so the storyboard comes from the analyser it would use (llm).
      board = await api("v1/analyze", { method: "POST",
        json: { script: $("#script").value, filename, settings } });
      showBoard();
    } catch (e) { notice(e.message); }
  }

  function showBoard() {
    editor.hidden = false;
    editor.replaceChildren(h("h2", {}, `Storyboard: ${board.title || "untitled"}`),
      h("p", { class: "hint" }, "Edit titles and lines, then Render: the job renders this storyboard as written."),
      h("button", { type: "button", id: "discard", class: "quiet",
        onclick: () => { board = null; editor.hidden = true; } }, "Discard storyboard"),
      ...board.scenes.map((scene, s) => h("fieldset", { class: "scene-edit" },
        h("legend", {}, `Scene ${s + 1}`),
        h("label", {}, "Title", h("input", { value: scene.title || "",
          oninput: (e) => { scene.title = e.target.value; } })),
        scene.lines.map((line, n) => h("label", { class: "line-edit" }, line.speaker,
          h("textarea", { rows: 2, "data-scene": s, "data-line": n, value: line.text,
            oninput: (e) => { line.text = e.target.value; } }))))));
  }

  async function render() {
    let settings;
    try { settings = chosenSettings(); } catch (e) { notice(e.message); return; }
    const body = { settings, priority: Number($("#priority").value || 0) };
    if (board) body.storyboard = board;
    else Object.assign(body, { script: $("#script").value, filename });
    try {
      const job = await api("v1/jobs", { method: "POST", json: body });
      notice(`Job ${job.id} submitted`, "ok");
      location.hash = `#/jobs/${job.id}`;
    } catch (e) { notice(e.message); }
  }
}

// "Write from a topic": POST /v1/write asks the service's language model for a checked
// Markdown script, which lands in the script box to read, edit, analyse or render.
function writePanel(schema, done) {
  const models = choices(schema, "llm").filter((m) => m !== "local");
  async function write() {
    const topic = $("#topic").value.trim();
    if (!topic) { notice("Write from a topic: say what the video is about"); return; }
    let settings;
    try { settings = chosenSettings(); } catch (e) { notice(e.message); return; }
    settings.llm = $("#write-llm").value;
    const body = { topic, scenes: Number($("#write-scenes").value || 5),
      minutes: Number($("#write-minutes").value || 1.5), settings };
    const style = $("#write-style").value.trim();
    if (style) body.style = style;
    const button = $("#write");
    button.disabled = true;
    button.textContent = "Writing...";
    try {
      const written = await api("v1/write", { method: "POST", json: body });
      done(written);
      notice(`Script written: ${written.title}, ${written.scenes} scenes, about ${written.minutes} min. Read it, then Analyze or Render.`, "ok");
    } catch (e) { notice(e.message); }
    finally { button.disabled = false; button.textContent = "Write"; }
  }
  return h("details", { id: "write-panel", class: "wide" },
    h("summary", {}, "Write from a topic"),
    h("label", { class: "wide" }, "Topic", h("input", { id: "topic", placeholder: "how lighthouses work" })),
    h("div", { class: "grid" },
      h("label", {}, "Scenes", h("input", { id: "write-scenes", type: "number", min: 1, max: 30, value: "5" })),
      h("label", {}, "Minutes", h("input", { id: "write-minutes", type: "number", min: 0.25, max: 30, step: 0.25, value: "1.5" })),
      h("label", {}, "Writing style", h("input", { id: "write-style", placeholder: "documentary" })),
      h("label", {}, "Model", h("select", { id: "write-llm" },
        models.map((m) => h("option", { value: m }, m))))),
    h("div", { class: "actions" },
      h("button", { type: "button", id: "write", onclick: write }, "Write")));
}

function chosenSettings() {
  const settings = {};
  for (const [id, name] of [["image-model", "image_model"], ["tts-model", "tts_model"],
    ["style", "image_style"], ["resolution", "resolution"], ["aspect", "aspect"],
    ["voice", "tts_voice"]]) {
    const value = $(`#${id}`).value.trim();
    if (value) settings[name] = value;
  }
  const extra = $("#extra").value.trim();
  if (extra) {
    let parsed;
    try { parsed = JSON.parse(extra); } catch (e) { throw new Error(`More settings is not JSON: ${e.message}`); }
    Object.assign(settings, parsed);
  }
  // The job view plays the subtitle track over the video: cards then show the scene's title,
  // place and characters, not the sentence the subtitles already show (unless asked for).
  if (!("card_text" in settings)) settings.card_text = "title";
  return settings;
}

// ---- jobs -------------------------------------------------------------------------------

function jobActions(job, refresh) {
  const act = async (what, fn) => {
    try {
      await fn();
      document.activeElement?.blur();  // rows being used are not rebuilt: let this one update
      refresh();
    } catch (e) { notice(`${what}: ${e.message}`); }
  };
  const box = h("span", { class: "job-actions" });
  if (job.status === "queued" || job.status === "running") {
    box.append(h("button", { type: "button", class: "cancel", onclick: () => act("cancel",
      () => api(`v1/jobs/${job.id}`, { method: "DELETE" })) }, "Cancel"));
  }
  if (job.status === "failed" || job.status === "cancelled") {
    box.append(h("button", { type: "button", class: "retry", onclick: () => act("retry",
      () => api(`v1/jobs/${job.id}/retry`, { method: "POST" })) }, "Retry"));
  }
  if (job.status === "queued") {
    const input = h("input", { type: "number", class: "priority", min: -100, max: 100,
      value: String(job.priority), "aria-label": "priority" });
    box.append(input, h("button", { type: "button", class: "set-priority", onclick: () => act("priority",
      () => api(`v1/jobs/${job.id}/priority`, { method: "POST", json: { priority: Number(input.value) } })) },
      "Set priority"));
  }
  return box;
}

function updateJobRow(row, job, refresh) {
  const key = `${job.status}|${job.priority}`;
  $(".title", row).textContent = job.title || job.id;
  $(".state", row).textContent = job.status;
  $(".state", row).className = `state state-${job.status}`;
  $("progress", row).value = progressOf(job);
  $(".pct", row).textContent = `${Math.round(progressOf(job) * 100)}%`;
  $(".meta", row).textContent = [`priority ${job.priority}`, job.owner || "", `created ${fmtTime(job.created)}`,
    job.started ? `ran ${fmtSecs((job.finished || Date.now() / 1000) - job.started)}`
      : job.status === "queued" ? "waiting" : "never ran"]
    .filter(Boolean).join(" · ");
  if (row.dataset.key !== key && !row.contains(document.activeElement)) {
    row.dataset.key = key;  // rebuilt only when they change, so a priority being typed stays
    $(".job-actions", row).replaceWith(jobActions(job, refresh));
  }
}

function jobRow(job, refresh) {
  const row = h("article", { class: "job", "data-id": job.id },
    h("a", { class: "title", href: `#/jobs/${job.id}` }),
    h("span", { class: "state" }),
    h("span", { class: "bar" }, h("progress", { max: 1, value: 0 }), h("span", { class: "pct" })),
    h("span", { class: "meta" }), h("span", { class: "job-actions" }));
  updateJobRow(row, job, refresh);
  return row;
}

function showJobs(main) {
  const list = h("section", { id: "jobs-list", class: "jobs" });
  const stateFilter = h("select", { id: "filter-state", onchange: () => refresh() },
    h("option", { value: "" }, "all states"), STATES.map((s) => h("option", { value: s }, s)));
  const textFilter = h("input", { id: "filter-text", type: "search",
    placeholder: "filter by title, owner or id", oninput: () => refresh() });
  const total = h("span", { class: "hint", id: "jobs-total" });
  main.append(h("div", { class: "panel filters" }, h("h2", {}, "Jobs"), stateFilter, textFilter, total), list);
  const rows = new Map();
  async function refresh() {
    const state = stateFilter.value ? `&state=${stateFilter.value}` : "";
    const page = await api(`v1/jobs?limit=200${state}`);
    const text = textFilter.value.trim().toLowerCase();
    const jobs = page.jobs.filter((j) => !text ||
      [j.title, j.owner, j.id].some((v) => (v || "").toLowerCase().includes(text)));
    total.textContent = `${jobs.length} shown of ${page.total}`;
    const seen = new Set();
    jobs.forEach((job, i) => {
      seen.add(job.id);
      let row = rows.get(job.id);
      if (!row) { row = jobRow(job, refresh); rows.set(job.id, row); } else updateJobRow(row, job, refresh);
      if (list.children[i] !== row) list.insertBefore(row, list.children[i] || null);
    });
    for (const [id, row] of rows) if (!seen.has(id)) { row.remove(); rows.delete(id); }
    if (!jobs.length) list.replaceChildren(h("p", { class: "hint" }, "No jobs."));
    else list.querySelector(":scope > p")?.remove();
  }
  poll(refresh);
}

// ---- one job ----------------------------------------------------------------------------

function showJob(main, id) {
  const head = h("section", { class: "panel", id: "job-head" });
  const player = h("section", { class: "panel", id: "player-box", hidden: true });
  const preview = h("section", { class: "panel", id: "preview-box", hidden: true });
  const files = h("section", { class: "panel", id: "files", hidden: true });
  const qc = h("section", { class: "panel", id: "qc", hidden: true });
  const grid = h("section", { class: "scenes", id: "scenes" });
  main.append(head, preview, player, qc, files, h("h2", {}, "Scenes"), grid);
  let last = "";
  async function refresh() {
    const job = await api(`v1/jobs/${id}`);
    renderHead(head, job, refresh);
    if (last === "done" && job.status === "done") return;  // nothing changes any more
    const scenes = await api(`v1/jobs/${id}/scenes`);
    renderScenes(grid, scenes);
    if (job.status === "running" && (job.progress.video || {}).done > 0) showPreview(id, preview);
    if (job.status === "done" && player.hidden) await showResult(job, player, files, qc);
    if (FINAL.has(job.status)) { stopPreview(); preview.hidden = true; }  // the video replaces it
    last = job.status;
  }
  poll(refresh);
}

function renderHead(head, job, refresh) {
  const key = JSON.stringify([job.status, job.progress, job.priority, job.error]);
  if (head.dataset.key === key || head.contains(document.activeElement)) return;
  head.dataset.key = key;
  head.replaceChildren(
    h("h2", {}, job.title || job.id, " ", h("span", { class: `state state-${job.status}`, id: "job-state" }, job.status)),
    h("p", { class: "meta" }, [`id ${job.id}`, `owner ${job.owner || "–"}`, `priority ${job.priority}`,
      `created ${fmtTime(job.created)}`, `started ${fmtTime(job.started)}`, `finished ${fmtTime(job.finished)}`].join(" · ")),
    // clips, beds: only in jobs with generated motion clips or beds (absent from the others').
    h("div", { class: "stages" }, STAGES.filter((stage) => !SOMETIMES.has(stage)
      || (job.progress[stage] && job.progress[stage].total)).map((stage) => {
      const p = job.progress[stage] || { done: 0, total: 0 };
      return h("label", {}, `${stage} ${p.done}/${p.total}`,
        h("progress", { max: p.total || 1, value: p.done, "data-stage": stage }),
        job.timings[stage] !== undefined ? ` ${fmtSecs(job.timings[stage])}` : "");
    })),
    job.error ? h("pre", { class: "error", id: "job-error" }, job.error) : "",
    jobActions(job, refresh));
}

function renderScenes(grid, scenes) {
  scenes.forEach((scene, i) => {
    let card = grid.children[i];
    if (!card) {
      card = h("article", { class: "scene", "data-index": scene.index },
        h("div", { class: "picture" }, h("span", { class: "hint" }, "no picture yet")),
        h("h3", {}, `${scene.index + 1}. ${scene.title}`),
        h("span", { class: "state" }),
        h("ol", { class: "lines" }, scene.lines.map((text) => h("li", {}, h("span", {}, text)))),
        h("p", { class: "timings hint" }), h("pre", { class: "error", hidden: true }));
      grid.append(card);
    }
    $(".state", card).textContent = scene.status;
    $(".state", card).className = `state state-${scene.status}`;
    const t = scene.timings;
    $(".timings", card).textContent = [t.picture !== undefined ? `picture at ${fmtSecs(t.picture)}` : "",
      t.speech !== undefined ? `speech at ${fmtSecs(t.speech)}` : ""].filter(Boolean).join(" · ");
    const error = $("pre.error", card);
    error.hidden = !scene.error;
    error.textContent = scene.error || "";
    const box = $(".picture", card);
    if (scene.picture && !box.dataset.url) {
      box.dataset.url = scene.picture;
      blobUrl(scene.picture).then((src) => box.replaceChildren(
        h("img", { src, alt: `picture of scene ${scene.index + 1}` }))).catch((e) => notice(e.message));
    }
    scene.speech.forEach((url, n) => {
      const li = card.querySelectorAll(".lines li")[n];
      if (url && li && !li.dataset.url) {
        li.dataset.url = url;
        blobUrl(url).then((src) => li.append(h("audio", { src, controls: true, preload: "metadata" })))
          .catch((e) => notice(e.message));
      }
    });
  });
}

async function showResult(job, player, files, qc) {
  const video = h("video", { id: "player", controls: true, playsinline: true, preload: "auto" });
  video.src = await blobUrl(job.links.video);
  video.append(h("track", { kind: "subtitles", label: "Subtitles", srclang: "und", default: true,
    src: await blobUrl(job.links["subtitles.vtt"]) }));
  player.replaceChildren(h("h2", {}, "Video"), video);
  player.hidden = false;
  const names = await api(`v1/jobs/${job.id}/files`);
  files.replaceChildren(h("h2", {}, "Files"), h("ul", { class: "artifacts" },
    Object.entries(names).map(([name, url]) => h("li", {}, h("a", { href: "#", class: "artifact",
      "data-name": name, onclick: (e) => { e.preventDefault(); download(url, `${job.id}-${name.replace("/", "-")}`).catch((err) => notice(err.message)); } }, name)))));
  files.hidden = false;
  if (names["qc.json"]) renderQc(qc, await api(`v1/jobs/${job.id}/files/qc.json`));
}

// ---- the live preview -------------------------------------------------------------------
// While a job runs, its preview.m3u8 (HLS, type EVENT: it grows as chunks are encoded) plays
// through hls.js, which the service serves from /web/ (scripts/fetch_player.py fetches it
// from the npm registry, pinned; no CDN). hls.js runs without its worker, so the page's CSP
// needs no worker-src: it only adds blob: media (the MediaSource), which the page already
// allows. Requests carry the key in the Authorization header (xhrSetup), never in the URL.

function loadPlayer() {
  if (!app.player) {
    app.player = new Promise((resolve, reject) => {
      const script = h("script", { src: "web/hls.min.js" });
      script.addEventListener("load", () => (window.Hls ? resolve(window.Hls)
        : reject(new Error("web/hls.min.js is not hls.js"))));
      script.addEventListener("error", () => reject(new Error("The live preview needs hls.js, "
        + "which this service does not have: run scripts/fetch_player.py (make installs it).")));
      document.head.append(script);
    });
  }
  return app.player;
}

function showPreview(id, box) {
  if (app.live) return;
  const gen = app.gen;
  app.live = { hls: null };
  loadPlayer().then((Hls) => {
    if (gen !== app.gen || !app.live) return;
    if (!Hls.isSupported()) throw new Error("This browser cannot play the live preview (no Media Source Extensions).");
    const video = h("video", { id: "preview", controls: true, muted: true, autoplay: true, playsinline: true });
    video.muted = true;  // browsers autoplay only muted video; its controls unmute the speech
    const hls = new Hls({ enableWorker: false, startPosition: 0,
      xhrSetup: (xhr) => {
        const key = sessionStorage.getItem(KEY);
        if (key) xhr.setRequestHeader("Authorization", `Bearer ${key}`);
      } });
    app.live.hls = hls;
    hls.on(Hls.Events.MANIFEST_PARSED, () => video.play().catch(() => {}));
    hls.on(Hls.Events.ERROR, (_, data) => {
      if (data.fatal) stopPreview();  // e.g. no segment yet: the next poll tries again
    });
    hls.loadSource(`v1/jobs/${id}/preview.m3u8`);
    hls.attachMedia(video);
    box.replaceChildren(h("h2", {}, "Live preview"),
      h("p", { class: "hint" }, "The chunks encoded so far, with the speech (unmute to hear it): the video with its full sound replaces it when the job is done."),
      video);
    box.hidden = false;
  }).catch((e) => {
    box.replaceChildren(h("h2", {}, "Live preview"), h("p", { class: "hint", id: "preview-missing" }, e.message));
    box.hidden = false;
  });
}

function stopPreview() {
  if (app.live && app.live.hls) app.live.hls.destroy();
  app.live = null;
}

// The delivery QC report (qc.json): verdict, loudness against each platform, violations.
function renderQc(box, report) {
  const num = (v, unit) => (v === null || v === undefined ? "–" : `${v.toFixed(1)} ${unit}`);
  const loud = report.loudness || {};
  const targets = Object.entries(loud.targets || {}).map(([name, t]) =>
    h("li", { "data-target": name }, `${name} ${t.lufs} LUFS: ${t.ok ? "meets" : "misses"}`));
  const verdict = report.passed ? "passed" : `${report.violations.length} violation(s)`;
  box.replaceChildren(
    h("h2", {}, "Quality check ", h("span", { class: `state state-${report.passed ? "done" : "failed"}`,
      id: "qc-verdict" }, verdict)),
    h("p", { class: "meta", id: "qc-loudness" }, [`loudness ${num(loud.integrated, "LUFS")}`,
      `range ${num(loud.range, "LU")}`, `true peak ${num(loud.true_peak, "dBTP")}`,
      `target ${report.target.name} ${report.target.lufs} LUFS`].join(" · ")),
    h("ul", { class: "meta", id: "qc-targets" }, targets),
    report.violations.length ? h("ul", { class: "error", id: "qc-violations" },
      report.violations.map((v) => h("li", {}, `${v.check}: ${v.message}`))) : "");
  box.hidden = false;
}

// ---- farm -------------------------------------------------------------------------------

function table(id, columns, rows) {
  return h("div", { class: "scroll" }, h("table", { id },
    h("thead", {}, h("tr", {}, columns.map(([label]) => h("th", {}, label)))),
    h("tbody", {}, rows.map((row) => h("tr", {}, columns.map(([, cell]) => h("td", {}, cell(row))))))));
}

const mib = (bytes) => (bytes ? `${Math.round(bytes / 2 ** 20)} MiB` : "–");

function showFarm(main) {
  const box = h("section", { id: "farm" });
  main.append(box);
  poll(async () => {
    const farm = await api("v1/farm");
    const t = farm.throughput;
    box.replaceChildren(
      h("section", { class: "panel" }, h("h2", {}, "Queue and throughput"),
        h("dl", { class: "stats", id: "farm-stats" },
          [["queued", `${farm.queue_depth} (of ${farm.max_queued})`],
           ["running", `${farm.running} (of ${farm.max_running})`],
           ["jobs done, last hour", t.jobs_done], ["scenes per minute", t.scenes_per_minute],
           ["seconds per scene", fmtSecs(t.seconds_per_scene)],
           ...Object.entries(farm.jobs).map(([s, n]) => [`jobs ${s}`, n])]
            .map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, String(v)))))),
      h("section", { class: "panel" }, h("h2", {}, "Workers"),
        farm.workers.length ? table("workers", [
          ["pool", (w) => w.pool], ["#", (w) => w.index],
          ["node", (w) => `${w.node_ip || ""} ${(w.node_id || "").slice(0, 8)}`],
          ["GPU", (w) => (w.gpu_ids && w.gpu_ids.length ? w.gpu_ids.join(",") : "–")],
          ["share", (w) => w.gpu_share], ["calls", (w) => w.calls ?? "–"],
          ["in flight", (w) => w.in_flight ?? "–"], ["loaded", (w) => (w.loaded ? "yes" : "no")],
          ["health", (w) => h("span", { class: w.ok ? "state state-done" : "state state-failed" }, w.ok ? "ok" : (w.error || "down"))],
          ["memory", (w) => mib(w.rss_bytes)], ["GPU memory", (w) => mib(w.gpu_allocated_bytes)],
        ], farm.workers) : h("p", { class: "hint" }, "No workers yet: they start with the first job.")),
      h("section", { class: "panel" }, h("h2", {}, "Nodes"), table("nodes", [
        ["address", (n) => n.address], ["id", (n) => (n.node_id || "").slice(0, 8)],
        ["alive", (n) => h("span", { class: n.alive ? "state state-done" : "state state-failed" }, n.alive ? "alive" : "dead")],
        ["CPUs", (n) => n.cpus], ["GPUs", (n) => n.gpus], ["workers", (n) => n.workers],
      ], farm.nodes)));
  }, 2000);
}

// ---- start ------------------------------------------------------------------------------

function start() {
  // Calls waiting for a key go on once one is given, and fail (saying so) if none is.
  const giveUp = () => {
    for (const waiter of app.keyWaiters.splice(0)) {
      waiter.reject(new Error("this farm needs an API key: press API key to give one"));
    }
  };
  $("#key-form").addEventListener("submit", () => {
    sessionStorage.setItem(KEY, $("#key-input").value.trim());
    $("#key-input").value = "";
    for (const waiter of app.keyWaiters.splice(0)) waiter.resolve();
  });
  $("#key-dialog").addEventListener("cancel", giveUp);  // Escape
  $("#key-forget").addEventListener("click", () => {
    sessionStorage.removeItem(KEY);
    $("#key-dialog").close();
    giveUp();
    notice("Key forgotten in this tab.", "ok");
  });
  $("#key-button").addEventListener("click", () => askKey("").catch(() => {}));
  window.addEventListener("hashchange", route);
  route();
}

start();
