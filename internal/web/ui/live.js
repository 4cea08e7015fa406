// The live view: a grid of cameras, each streamed after the purpose of
// the sitting is given (once) and the server has recorded the viewing.
"use strict";
(() => {
  const { api, T, askPurpose, showError, APIError, fmtClock } = window.gw;
  const grid = document.getElementById("grid");
  const cameras = JSON.parse(grid.dataset.cameras || "[]");
  const key = "gwanje.live.layout";
  let n = Number(localStorage.getItem(key)) || Math.min(4, Math.max(1, cameras.length <= 1 ? 1 : 4));
  let started = false;
  const tiles = [];

  function tileMsg(tile, text) {
    const m = tile.el.querySelector(".msg");
    m.textContent = text || "";
    m.hidden = !text;
  }

  async function open(tile) {
    if (tile.ctrl) tile.ctrl.abort();
    const video = tile.el.querySelector("video");
    video.removeAttribute("src");
    video.load();
    const cam = cameras.find((c) => c.id === tile.camera);
    tile.el.querySelector(".state").textContent = cam ? T(cam.state) : "";
    if (!cam || !started) { tileMsg(tile, cam ? "" : T("ui.js.live.none")); return; }
    if (!cam.playable) { tileMsg(tile, T("ui.js.video.unsupported", { codec: cam.codec })); return; }
    const ctrl = new AbortController();
    tile.ctrl = ctrl;
    tileMsg(tile, T("ui.js.live.connecting"));
    try {
      const p = await askPurpose();
      const v = await api("POST", "/api/cameras/" + encodeURIComponent(cam.id) + "/live", p);
      const resp = await fetch(v.url, { credentials: "same-origin", signal: ctrl.signal });
      if (!resp.ok) {
        let code = "";
        try { code = (await resp.json()).code; } catch (_) { /* none */ }
        if (!code) window.gw.errorsWithoutCode.push("GET " + v.url + " " + resp.status);
        throw new APIError(resp.status, code || "ui.js.error.nocode", { status: resp.status });
      }
      video.addEventListener("playing", () => tileMsg(tile, ""), { once: true });
      // The picture's own time, from the stream's start on the wall clock.
      const start = Date.parse(resp.headers.get("X-Gwanje-Start") || "");
      const clock = tile.el.querySelector(".clock");
      video.dataset.start = isNaN(start) ? "" : String(start);
      video.ontimeupdate = () => {
        if (!isNaN(start)) clock.textContent = fmtClock(new Date(start + video.currentTime * 1000)) + " " + window.gw.tzname;
      };
      await window.gwMSE.play(video, resp, ctrl.signal);
      if (!ctrl.signal.aborted) {
        tileMsg(tile, T("ui.js.live.ended"));
        setTimeout(() => { if (tile.ctrl === ctrl) open(tile); }, 3000);
      }
    } catch (err) {
      if (ctrl.signal.aborted) return;
      if (err && err.code === "ui.js.purpose.cancelled") { started = false; tileMsg(tile, ""); return; }
      if (err && err.code && !(err instanceof APIError)) tileMsg(tile, T(err.code, err.params));
      else tileMsg(tile, err instanceof APIError ? err.message : T("ui.js.error.network"));
    }
  }

  function layout(k) {
    n = k;
    localStorage.setItem(key, String(k));
    for (const b of document.querySelectorAll("button.layout")) b.setAttribute("aria-pressed", String(Number(b.dataset.n) === k));
    grid.style.setProperty("--cols", String(Math.sqrt(k)));
    while (tiles.length > k) {
      const t = tiles.pop();
      if (t.ctrl) t.ctrl.abort();
      t.el.remove();
    }
    while (tiles.length < k) {
      const el = document.getElementById("tile").content.firstElementChild.cloneNode(true);
      const tile = { el, camera: (cameras[tiles.length] || {}).id || "", ctrl: null };
      const sel = el.querySelector("select");
      sel.append(new Option(T("ui.js.live.none"), ""));
      for (const c of cameras) sel.append(new Option(c.name + " · " + c.site, c.id));
      sel.value = tile.camera;
      sel.addEventListener("change", () => { tile.camera = sel.value; open(tile); });
      tiles.push(tile);
      grid.append(el);
      open(tile);
    }
  }

  for (const b of document.querySelectorAll("button.layout")) b.addEventListener("click", () => layout(Number(b.dataset.n)));
  document.getElementById("live-start").addEventListener("click", async () => {
    showError(null);
    try {
      await askPurpose();
    } catch (err) {
      showError(err);
      return;
    }
    started = true;
    for (const t of tiles) open(t);
  });
  layout([1, 4, 9, 16].includes(n) ? n : 4);
})();
