// Playback: a day's 24-hour timeline per camera (recorded runs, gaps,
// holds, alarms); click or drag to seek; several cameras in step; the
// recording's own time under each video. The purpose is asked once per
// sitting before the first frame; each view is a ledger row on the server.
"use strict";
(() => {
  const { api, T, askPurpose, showError, APIError, fmtTime, fmtClock, dayStart } = window.gw;
  const root = document.getElementById("playback");
  const cameras = JSON.parse(root.dataset.cameras || "[]");
  const canHolds = root.dataset.holds === "1";
  const WINDOW = 10 * 60 * 1000; // one view: ten minutes from the point sought
  const DAY = 24 * 3600 * 1000;
  const dateInput = document.getElementById("pb-date");
  const camBoxes = document.getElementById("pb-cameras");
  const players = document.getElementById("players");
  const lines = document.getElementById("timelines");
  const playBtn = document.getElementById("pb-play");
  let day0 = 0, day1 = 0; // the chosen day, ms
  let rate = 1;
  let shown = []; // {cam, runs, el, video, clock, msg, dl, tl, cursor, view, pending}
  let alarms = [], holds = [];
  let wantPlay = false;

  dateInput.value = dateInput.value || window.gw.today;
  const maxCams = 4;
  for (const c of cameras) {
    const l = document.createElement("label");
    const cb = document.createElement("input");
    cb.type = "checkbox";
    cb.value = c.id;
    cb.checked = cameras.indexOf(c) === 0;
    l.append(cb, " " + c.name + " · " + c.site);
    cb.addEventListener("change", () => {
      const on = [...camBoxes.querySelectorAll("input:checked")];
      if (on.length > maxCams) cb.checked = false;
      load();
    });
    camBoxes.append(l);
  }

  const pct = (ms) => (100 * (ms - day0) / (day1 - day0)).toFixed(4) + "%";
  const iso = (ms) => new Date(ms).toISOString();

  let loads = 0; // a newer load makes an older one stop
  async function load() {
    const gen = ++loads;
    showError(null);
    for (const p of shown) stop(p);
    shown = [];
    players.replaceChildren();
    lines.replaceChildren();
    day0 = dayStart(dateInput.value).getTime();
    const next = new Date(day0 + DAY + 3 * 3600 * 1000);
    day1 = dayStart(fmtTime(next).slice(0, 10)).getTime();
    const ids = [...camBoxes.querySelectorAll("input:checked")].map((b) => b.value);
    if (!ids.length) {
      const m = document.createElement("p");
      m.className = "empty";
      m.textContent = T("ui.js.playback.no_camera");
      players.append(m);
      return;
    }
    try {
      const [al, hs] = await Promise.all([
        api("GET", "/api/alarms").catch(() => ({ alarms: [] })),
        canHolds ? api("GET", "/api/holds?all=1").catch(() => []) : Promise.resolve([]),
      ]);
      alarms = al.alarms || [];
      holds = hs || [];
    } catch (_) { alarms = []; holds = []; }
    if (gen !== loads) return;
    for (const id of ids) {
      const cam = cameras.find((c) => c.id === id);
      const p = build(cam);
      shown.push(p);
      try {
        p.runs = (await api("GET", `/api/cameras/${encodeURIComponent(id)}/recordings?start=${iso(day0)}&end=${iso(day1)}`))
          .map((r) => ({ start: Date.parse(r.start), end: Date.parse(r.end) }));
      } catch (err) {
        p.runs = [];
        showError(err);
      }
      if (gen !== loads) return;
      drawTimeline(p);
    }
    setMsg(shown[0], T("ui.js.playback.pick"));
    z0 = 0;
    drawZoom(shown[0] && shown[0].runs.length ? shown[0].runs[0].start : day0 + DAY / 2);
  }

  function build(cam) {
    const el = document.getElementById("player").content.firstElementChild.cloneNode(true);
    el.dataset.id = cam.id;
    el.querySelector("h3").textContent = cam.name + " · " + cam.site;
    const p = { cam, runs: [], el, video: el.querySelector("video"), clock: el.querySelector(".clock"),
      msg: el.querySelector(".msg"), dl: el.querySelector(".download"), view: null, seq: 0 };
    p.video.addEventListener("timeupdate", () => tick(p));
    p.video.addEventListener("seeked", () => tick(p));
    p.video.addEventListener("ended", () => { if (p === shown[0]) continueAfter(p); });
    p.video.addEventListener("error", () => { if (p.view) setMsg(p, T("ui.js.video.error")); });
    players.append(el);
    const row = document.getElementById("tl-row").content.firstElementChild.cloneNode(true);
    row.querySelector(".tl-name").textContent = cam.name;
    p.tl = row.querySelector(".timeline");
    p.tl.setAttribute("aria-label", cam.name);
    p.cursor = document.createElement("div");
    p.cursor.className = "cursor";
    p.cursor.hidden = true;
    lines.append(row);
    bindTimeline(p);
    return p;
  }

  function drawTimeline(p) {
    const tl = p.tl;
    tl.replaceChildren();
    for (const r of p.runs) {
      const d = document.createElement("div");
      d.className = "run";
      d.style.left = pct(Math.max(r.start, day0));
      d.style.width = (100 * (Math.min(r.end, day1) - Math.max(r.start, day0)) / (day1 - day0)).toFixed(4) + "%";
      d.title = fmtTime(new Date(r.start)) + " – " + fmtTime(new Date(r.end));
      tl.append(d);
    }
    for (const h of holds) {
      if (!(h.cameras || []).includes(p.cam.id)) continue;
      const a = Math.max(Date.parse(h.from), day0), b = Math.min(Date.parse(h.to), day1);
      if (b <= a) continue;
      const d = document.createElement("div");
      d.className = "hold";
      d.style.left = pct(a);
      d.style.width = (100 * (b - a) / (day1 - day0)).toFixed(4) + "%";
      d.title = T("ui.playback.legend_hold") + ": " + (h.reason || "");
      tl.append(d);
    }
    for (const al of alarms) {
      if (al.subject !== p.cam.id) continue;
      const t = Date.parse(al.from || al.raised);
      if (t < day0 || t >= day1) continue;
      const d = document.createElement("div");
      d.className = "alarm-mark";
      d.style.left = pct(t);
      d.title = T("ui.alarm." + al.kind) + " " + fmtTime(new Date(t));
      tl.append(d);
    }
    tl.append(p.cursor);
  }

  // The timeline: click or drag to seek; keys move by minutes.
  function bindTimeline(p) {
    const tl = p.tl;
    const at = (e) => {
      const r = tl.getBoundingClientRect();
      const x = Math.min(Math.max(e.clientX - r.left, 0), r.width - 1);
      return Math.round(day0 + (x / r.width) * (day1 - day0));
    };
    let dragging = false;
    tl.addEventListener("pointerdown", (e) => {
      dragging = true;
      tl.setPointerCapture(e.pointerId);
      showCursor(at(e));
    });
    tl.addEventListener("pointermove", (e) => { if (dragging) showCursor(at(e)); });
    tl.addEventListener("pointerup", (e) => {
      if (!dragging) return;
      dragging = false;
      seek(at(e), true);
    });
    tl.addEventListener("keydown", (e) => {
      const cur = current() || day0 + 12 * 3600 * 1000;
      const step = (e.shiftKey ? 10 : 1) * 60 * 1000;
      if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
        e.preventDefault();
        const t = Math.min(Math.max(cur + (e.key === "ArrowRight" ? step : -step), day0), day1 - 1000);
        showCursor(t);
        pendingKey = t;
      } else if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        seek(pendingKey || cur, true);
      }
    });
  }
  let pendingKey = 0;

  function showCursor(t) {
    for (const p of shown) {
      p.cursor.hidden = false;
      p.cursor.style.left = pct(t);
      p.tl.setAttribute("aria-valuetext", fmtTime(new Date(t)));
    }
    if (!z0 || t < z0 + ZOOM / 8 || t > z0 + ZOOM * 7 / 8) drawZoom(t);
    zcursor.hidden = false;
    zcursor.style.left = (100 * (t - z0) / ZOOM).toFixed(4) + "%";
    zoom.setAttribute("aria-valuetext", fmtTime(new Date(t)));
  }

  // The zoom: the hour around the cursor for the first camera, where a
  // pixel is a few seconds rather than a minute and a half.
  const zoom = document.getElementById("tl-zoom");
  const zoomRange = document.getElementById("tl-zoom-range");
  const ZOOM = 3600 * 1000;
  const zcursor = document.createElement("div");
  zcursor.className = "cursor";
  let z0 = 0;
  function drawZoom(center) {
    const p = shown[0];
    zoom.closest(".tl-row").hidden = !p;
    if (!p) return;
    z0 = Math.min(Math.max(center - ZOOM / 2, day0), day1 - ZOOM);
    zoom.replaceChildren();
    for (const r of p.runs) {
      const a = Math.max(r.start, z0), b = Math.min(r.end, z0 + ZOOM);
      if (b <= a) continue;
      const d = document.createElement("div");
      d.className = "run";
      d.style.left = (100 * (a - z0) / ZOOM).toFixed(4) + "%";
      d.style.width = (100 * (b - a) / ZOOM).toFixed(4) + "%";
      d.title = fmtTime(new Date(r.start)) + " – " + fmtTime(new Date(r.end));
      zoom.append(d);
    }
    zoom.append(zcursor);
    zoomRange.textContent = fmtClock(new Date(z0)) + " – " + fmtClock(new Date(z0 + ZOOM));
  }
  {
    const at = (e) => {
      const r = zoom.getBoundingClientRect();
      const x = Math.min(Math.max(e.clientX - r.left, 0), r.width - 1);
      return Math.round(z0 + (x / r.width) * ZOOM);
    };
    let dragging = false;
    zoom.addEventListener("pointerdown", (e) => { dragging = true; zoom.setPointerCapture(e.pointerId); });
    zoom.addEventListener("pointermove", (e) => {
      if (!dragging) return;
      const t = at(e);
      zcursor.style.left = (100 * (t - z0) / ZOOM).toFixed(4) + "%";
    });
    zoom.addEventListener("pointerup", (e) => {
      if (!dragging) return;
      dragging = false;
      seek(at(e), true);
    });
    zoom.addEventListener("keydown", (e) => {
      const cur = current() || z0 + ZOOM / 2;
      if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
        e.preventDefault();
        seek(cur + (e.key === "ArrowRight" ? 1 : -1) * (e.shiftKey ? 60 : 10) * 1000, true);
      }
    });
  }

  function setMsg(p, text, download) {
    if (!p) return;
    p.msg.textContent = text || "";
    p.msg.hidden = !text;
    if (download) {
      p.dl.href = download;
      p.dl.hidden = false;
    } else {
      p.dl.hidden = true;
    }
  }

  const covers = (p, t) => p.runs.some((r) => r.start <= t + WINDOW && r.end > t);
  // wall is the recording's time at the video's current position: the
  // clip's timeline is wall-clock time from its first frame.
  const wallOf = (p) => p.view ? p.view.clipStart + p.video.currentTime * 1000 : 0;
  function current() { return shown[0] && shown[0].view ? wallOf(shown[0]) : 0; }

  function tick(p) {
    if (!p.view) return;
    const w = wallOf(p);
    const inGap = !p.runs.some((r) => r.start <= w + 500 && r.end >= w - 500);
    p.clock.textContent = fmtTime(new Date(w)) + (inGap ? " · " + T("ui.js.playback.gap") : "");
    p.clock.dataset.wall = String(Math.round(w));
    if (p === shown[0]) {
      showCursor(w);
      // Keep the others in step.
      for (const q of shown.slice(1)) {
        if (!q.view || q.pending) continue;
        const d = wallOf(q) - w;
        if (w >= q.view.end || w < q.view.clipStart) { if (covers(q, w)) open(q, w); continue; }
        if (Math.abs(d) > 400) q.video.currentTime = (w - q.view.clipStart) / 1000;
        if (q.video.paused !== p.video.paused) p.video.paused ? q.video.pause() : q.video.play().catch(() => {});
      }
    }
  }

  // seek goes to wall time t on every shown camera.
  let lastSeek = 0;
  async function seek(t, play) {
    lastSeek = t;
    showError(null);
    showCursor(t);
    wantPlay = play || wantPlay;
    try {
      await askPurpose();
    } catch (err) {
      showError(err);
      return;
    }
    await Promise.all(shown.map((p) => open(p, t)));
  }

  // open makes p show wall time t: within its current view if it has
  // one covering t, else through a new view (a ledger row on the server).
  async function open(p, t) {
    if (p.view && t >= p.view.clipStart && t < p.view.end - 500) {
      p.video.currentTime = (t - p.view.clipStart) / 1000;
      if (wantPlay) p.video.play().catch(() => {});
      return;
    }
    const seq = ++p.seq;
    if (!p.cam.playable) {
      setMsg(p, T("ui.js.video.unsupported", { codec: p.cam.codec }));
    }
    if (!covers(p, t)) {
      // Nothing recorded here: no request, so no ledger row; the
      // catalogue's message for the server's own refusal.
      stop(p);
      setMsg(p, T("footage.none"));
      return;
    }
    setMsg(p, T("ui.js.playback.loading"));
    p.pending = true;
    try {
      const end = Math.min(t + WINDOW, day1, window.gw.now());
      const purpose = await askPurpose();
      const v = await api("POST", `/api/cameras/${encodeURIComponent(p.cam.id)}/views`,
        { start: iso(t), end: iso(end), purpose: purpose.purpose, reason: purpose.reason });
      if (seq !== p.seq) return;
      const head = await fetch(v.url, { method: "HEAD", credentials: "same-origin" });
      if (!head.ok) throw new APIError(head.status, head.status === 404 ? "footage.none" : "ui.js.video.error");
      const clipStart = Date.parse(head.headers.get("X-Gwanje-Start"));
      const clipEnd = Date.parse(head.headers.get("X-Gwanje-End"));
      if (!p.cam.playable) {
        stop(p);
        setMsg(p, T("ui.js.video.unsupported", { codec: p.cam.codec }), v.url);
        return;
      }
      p.view = { url: v.url, clipStart, end: clipEnd };
      p.video.src = v.url;
      p.video.playbackRate = rate;
      await new Promise((res, rej) => {
        p.video.addEventListener("loadedmetadata", res, { once: true });
        p.video.addEventListener("error", rej, { once: true });
      });
      if (seq !== p.seq) return;
      p.video.currentTime = Math.max(0, (t - clipStart) / 1000);
      p.video.playbackRate = rate;
      setMsg(p, "");
      if (wantPlay) await p.video.play().catch(() => {});
      updatePlay();
    } catch (err) {
      if (seq !== p.seq) return;
      stop(p);
      if (err instanceof APIError) {
        if (err.code && err.code.startsWith("purpose.")) window.gw.forgetPurpose();
        setMsg(p, err.message);
      } else {
        setMsg(p, T("ui.js.video.error"));
      }
    } finally {
      p.pending = false;
    }
  }

  function stop(p) {
    p.view = null;
    p.video.removeAttribute("src");
    p.video.load();
    p.clock.textContent = "";
    updatePlay();
  }

  // continueAfter opens the next window when a view ends.
  function continueAfter(p) {
    if (!p.view) return;
    const next = p.runs.find((r) => r.end > p.view.end + 500);
    if (!next) return;
    seek(Math.max(p.view.end, next.start), true);
  }

  function updatePlay() {
    const m = shown[0];
    const playing = m && m.view && !m.video.paused;
    playBtn.textContent = T(playing ? "ui.js.playback.pause" : "ui.js.playback.play");
  }
  playBtn.addEventListener("click", () => {
    const m = shown[0];
    if (!m) return;
    if (!m.view) { seek(firstRun(), true); return; }
    wantPlay = m.video.paused;
    for (const p of shown) if (p.view) wantPlay ? p.video.play().catch(() => {}) : p.video.pause();
    setTimeout(updatePlay, 50);
  });
  function firstRun() {
    const r = shown[0] && shown[0].runs[0];
    return r ? Math.max(r.start, day0) : day0;
  }
  for (const b of document.querySelectorAll("button.speed")) {
    b.addEventListener("click", () => {
      rate = Number(b.dataset.rate);
      for (const x of document.querySelectorAll("button.speed")) x.setAttribute("aria-pressed", String(x === b));
      for (const p of shown) p.video.playbackRate = rate;
    });
  }
  for (const b of document.querySelectorAll("button.step")) {
    b.addEventListener("click", () => {
      wantPlay = false;
      const d = Number(b.dataset.dir) / 25; // frames of the clips are 1/25 s or longer
      for (const p of shown) {
        if (!p.view) continue;
        p.video.pause();
        p.video.currentTime = Math.max(0, p.video.currentTime + d);
      }
      updatePlay();
    });
  }
  dateInput.addEventListener("change", load);
  document.addEventListener("play", updatePlay, true);
  document.addEventListener("pause", updatePlay, true);
  load();
  // For the browser tests: what is shown, the day, and the last time sought.
  window.gwPlayback = { seek, shown: () => shown, day: () => [day0, day1], lastSeek: () => lastSeek, zoom: () => [z0, z0 + ZOOM] };
  // The export dialog (반출): the range is the timeline selection (Shift
  // and drag on a timeline or the zoom bar), else the ten minutes from the
  // point shown. The export runs as a job on the server (the gate writes
  // the 반출 row before the answer); the dialog shows its percent and time
  // left, can cancel it, and offers the package once it is made.
  const exportBtn = document.getElementById("pb-export");
  const exportDlg = document.getElementById("export-dialog");
  let sel = null; // {from, to}, ms
  if (exportBtn && exportDlg) {
    const section = document.querySelector("section.timelines");
    const selHelp = document.getElementById("pb-sel");
    const form = document.getElementById("export-form");
    const errEl = form.querySelector(".error");
    const camsBox = document.getElementById("export-cameras");
    const bar = form.querySelector("progress");
    bar.style.width = "100%";
    const status = document.getElementById("export-status");
    const dl = document.getElementById("export-download");
    const startBtn = document.getElementById("export-start");
    const cancelBtn = document.getElementById("export-cancel");
    let selEl = null, selFrom = null, range = null, job = null;

    const timeOn = (el, e) => {
      const r = el.getBoundingClientRect();
      const x = Math.min(Math.max(e.clientX - r.left, 0), r.width);
      return el.id === "tl-zoom" ? Math.round(z0 + (x / r.width) * ZOOM) : Math.round(day0 + (x / r.width) * (day1 - day0));
    };
    function drawSel() {
      for (const d of section.querySelectorAll(".export-sel")) d.remove();
      if (!sel) return;
      const mark = (el, a, b, lo, span) => {
        const x0 = Math.max(a, lo), x1 = Math.min(b, lo + span);
        if (x1 <= x0) return;
        const d = document.createElement("div");
        d.className = "export-sel";
        Object.assign(d.style, { position: "absolute", top: "0", bottom: "0", pointerEvents: "none",
          left: (100 * (x0 - lo) / span).toFixed(4) + "%", width: (100 * (x1 - x0) / span).toFixed(4) + "%",
          background: "rgba(37, 99, 235, 0.25)", outline: "1px solid #2563eb" });
        el.append(d);
      };
      for (const p of shown) mark(p.tl, sel.from, sel.to, day0, day1 - day0);
      mark(zoom, sel.from, sel.to, z0, ZOOM);
      selHelp.textContent = T("ui.js.export.selection", { from: fmtTime(new Date(sel.from)), to: fmtClock(new Date(sel.to)) });
    }
    // Shift and drag selects; the capture phase keeps it from seeking.
    section.addEventListener("pointerdown", (e) => {
      const el = e.target.closest("#tl-zoom, #timelines .timeline");
      if (!e.shiftKey || !el) return;
      e.stopPropagation();
      e.preventDefault();
      el.setPointerCapture(e.pointerId);
      selEl = el;
      selFrom = timeOn(el, e);
      sel = { from: selFrom, to: selFrom };
      drawSel();
    }, true);
    section.addEventListener("pointermove", (e) => {
      if (!selEl) return;
      e.stopPropagation();
      const t = timeOn(selEl, e);
      sel = { from: Math.min(selFrom, t), to: Math.max(selFrom, t) };
      drawSel();
    }, true);
    section.addEventListener("pointerup", (e) => {
      if (!selEl) return;
      e.stopPropagation();
      const t = timeOn(selEl, e);
      sel = { from: Math.min(selFrom, t), to: Math.max(selFrom, t) };
      selEl = null;
      if (sel.to - sel.from < 1000) sel = null;
      drawSel();
    }, true);
    dateInput.addEventListener("change", () => { sel = null; drawSel(); });

    const left = (s) => s < 60 ? T("ui.js.export.seconds", { n: Math.max(1, Math.ceil(s)) }) : T("ui.js.export.minutes", { n: Math.ceil(s / 60) });
    function render(st) {
      form.querySelector("#export-progress").hidden = false;
      bar.value = st.percent;
      dl.hidden = true;
      cancelBtn.hidden = st.state !== "running";
      cancelBtn.disabled = !!st.cancelling;
      if (st.state === "running") {
        status.textContent = st.cancelling ? T("ui.js.export.cancelling")
          : st.left_seconds === undefined ? T("ui.js.export.running", { percent: Math.floor(st.percent) })
            : T("ui.js.export.running_left", { percent: Math.floor(st.percent), left: left(st.left_seconds) });
      } else if (st.state === "done") {
        status.textContent = T("ui.js.export.done", { seq: st.ledger_seq, until: fmtClock(new Date(st.expires)) });
        dl.href = st.package;
        dl.setAttribute("download", st.file);
        dl.textContent = T("ui.js.export.download", { file: st.file });
        dl.hidden = false;
      } else if (st.state === "failed") {
        status.textContent = "";
        showError(new APIError(0, st.error ? st.error.code : "ui.js.error.network", st.error && st.error.params), errEl);
      } else {
        status.textContent = T("ui.js.export.cancelled");
      }
    }
    let follows = 0; // a newer follow (or a new export) stops an older one
    async function follow(j) {
      const gen = ++follows;
      job = j;
      render(j);
      while (j.state === "running") {
        await new Promise((r) => setTimeout(r, 400));
        if (gen !== follows) return;
        try {
          j = await api("GET", `/api/export-jobs/${encodeURIComponent(j.id)}`);
        } catch (err) {
          showError(err, errEl);
          return;
        }
        if (gen !== follows) return;
        job = j;
        render(j);
      }
    }
    function openExport() {
      showError(null);
      if (job && job.state === "running") { exportDlg.showModal(); return; }
      job = null;
      follows++;
      const now = window.gw.now();
      if (sel) range = { ...sel };
      else {
        const c = current();
        if (!c) { showError(new APIError(0, "ui.js.export.no_range")); return; }
        range = { from: c, to: Math.min(c + WINDOW, day1) };
      }
      range.to = Math.min(range.to, now);
      document.getElementById("export-range").textContent = fmtTime(new Date(range.from)) + " – " + fmtTime(new Date(range.to));
      camsBox.querySelectorAll("label").forEach((l) => l.remove());
      for (const p of shown) {
        const l = document.createElement("label");
        const cb = document.createElement("input");
        cb.type = "checkbox";
        cb.value = p.cam.id;
        cb.checked = true;
        l.append(cb, " " + p.cam.name);
        camsBox.append(l);
      }
      for (const el of form.elements) el.disabled = false;
      form.querySelector("#export-progress").hidden = true;
      startBtn.hidden = false;
      cancelBtn.hidden = true;
      showError(null, errEl);
      exportDlg.showModal();
    }
    exportBtn.addEventListener("click", openExport);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      showError(null, errEl);
      const f = form.elements;
      const cams = [...camsBox.querySelectorAll("input:checked")].map((b) => b.value);
      if (!cams.length) { showError(new APIError(0, "export.cameras"), errEl); return; }
      if (!f.purpose.value) { showError(new APIError(0, "purpose.category"), errEl); return; }
      if (!f.reason.value.trim()) { showError(new APIError(0, "purpose.reason", { max: 200 }), errEl); return; }
      if (!f.recipient.value.trim()) { showError(new APIError(0, "export.recipient"), errEl); return; }
      const body = { start: iso(range.from), end: iso(range.to), purpose: f.purpose.value, reason: f.reason.value.trim(),
        recipient: f.recipient.value.trim(), letter: f.letter.value.trim(), legal_basis: f.legal_basis.value.trim(),
        period: f.period.value.trim() };
      if (cams.length > 1) body.cameras = cams.slice(1);
      startBtn.disabled = true;
      try {
        const j = await api("POST", `/api/cameras/${encodeURIComponent(cams[0])}/export-jobs`, body);
        for (const el of form.elements) if (el !== cancelBtn && el.id !== "export-close") el.disabled = true;
        startBtn.hidden = true;
        follow(j);
      } catch (err) {
        showError(err, errEl);
      } finally {
        startBtn.disabled = false;
      }
    });
    cancelBtn.addEventListener("click", async () => {
      if (!job) return;
      cancelBtn.disabled = true;
      try {
        const j = await api("POST", `/api/export-jobs/${encodeURIComponent(job.id)}/cancel`);
        follow(j);
      } catch (err) {
        showError(err, errEl);
      }
    });
    document.getElementById("export-close").addEventListener("click", () => exportDlg.close());
    exportDlg.addEventListener("cancel", (e) => { e.preventDefault(); exportDlg.close(); });
  }
  window.gwPlayback.selection = () => sel;
})();
