// The masking editor (maskui.html): per camera of the request's viewing,
// the footage through the viewing grant's playback (the gate), the
// camera's privacy zones drawn (always masked), rectangles the reviewer
// draws with the mouse or adds with a button, each with a time range from
// the player's current time; the specs go to POST /api/requests/{rid}/copy
// and the package it answers is offered for download.
"use strict";
(() => {
  const { T, api, showError, APIError } = window.gw;
  const root = document.getElementById("maskui");
  const form = document.getElementById("maskui-form");
  if (!root || !form) return;
  const base = "/api/requests/" + root.dataset.rid;
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  const round = (v) => Math.round(v * 10000) / 10000;
  const DEFAULT_SPAN = 5; // seconds a new region lasts

  const cameras = [];
  for (const fs of form.querySelectorAll("fieldset.mask-camera")) cameras.push(editor(fs));

  function editor(fs) {
    const cam = { id: fs.dataset.camera, regions: [], fs };
    const video = fs.querySelector("video");
    const overlay = fs.querySelector(".mask-overlay");
    const stage = fs.querySelector(".mask-stage");
    const tbody = fs.querySelector(".mask-regions tbody");
    const seek = fs.querySelector(".mask-seek");
    const play = fs.querySelector(".mask-play");
    const time = fs.querySelector(".mask-time");
    const now = () => round(video.currentTime || 0);

    // The camera's privacy zones, always masked in the copy.
    const svg = fs.querySelector("svg.mask-zones");
    for (const z of JSON.parse(fs.dataset.zones || "[]")) {
      const p = document.createElementNS("http://www.w3.org/2000/svg", "polygon");
      p.setAttribute("points", z.points.map((q) => q[0] + "," + q[1]).join(" "));
      const title = document.createElementNS("http://www.w3.org/2000/svg", "title");
      title.textContent = z.name;
      p.appendChild(title);
      svg.appendChild(p);
    }

    fs.querySelector(".mask-load")?.addEventListener("click", async (e) => {
      const b = e.currentTarget;
      b.disabled = true;
      showError(null);
      try {
        const ans = await api("POST", base + "/views", { camera: cam.id, start: root.dataset.from, end: root.dataset.to });
        video.src = ans.url;
      } catch (err) {
        showError(err);
      }
      b.disabled = false;
    });
    video.addEventListener("loadedmetadata", () => {
      if (video.videoWidth && video.videoHeight) stage.style.aspectRatio = video.videoWidth + " / " + video.videoHeight;
      if (seek) {
        seek.max = isFinite(video.duration) ? video.duration : 0;
        seek.disabled = false;
      }
      if (play) play.disabled = false;
    });
    video.addEventListener("timeupdate", () => {
      if (seek) seek.value = video.currentTime;
      if (time) time.textContent = video.currentTime.toFixed(1) + " s";
      draw();
    });
    seek?.addEventListener("input", () => { video.currentTime = Number(seek.value); });
    play?.addEventListener("click", () => {
      if (video.paused) video.play().catch(() => {}); else video.pause();
    });
    video.addEventListener("play", () => { if (play) play.textContent = T("ui.js.maskui.pause"); });
    video.addEventListener("pause", () => { if (play) play.textContent = T("ui.js.maskui.play"); });

    // Drawing: a mouse drag over the picture, in coordinates relative to it.
    let start = null;
    let preview = null;
    const rel = (e) => {
      const r = overlay.getBoundingClientRect();
      return [clamp((e.clientX - r.left) / r.width, 0, 1), clamp((e.clientY - r.top) / r.height, 0, 1)];
    };
    const rectOf = (a, b) => ({ x: round(Math.min(a[0], b[0])), y: round(Math.min(a[1], b[1])),
      w: round(Math.abs(a[0] - b[0])), h: round(Math.abs(a[1] - b[1])) });
    overlay.addEventListener("pointerdown", (e) => {
      if (e.button !== 0) return;
      start = rel(e);
      overlay.setPointerCapture(e.pointerId);
      preview = document.createElement("div");
      preview.className = "mask-box drawing";
      overlay.appendChild(preview);
    });
    overlay.addEventListener("pointermove", (e) => {
      if (!start) return;
      place(preview, rectOf(start, rel(e)));
    });
    overlay.addEventListener("pointerup", (e) => {
      if (!start) return;
      const r = rectOf(start, rel(e));
      start = null;
      preview.remove();
      preview = null;
      if (r.w < 0.01 || r.h < 0.01) return; // a click, not a drag
      add(r);
    });
    fs.querySelector(".mask-add").addEventListener("click", () => add({ x: 0.4, y: 0.4, w: 0.2, h: 0.2 }));
    // Face proposals (pigo, on the server, through the gate): dashed boxes
    // the reviewer accepts or deletes one by one.
    const faces = fs.querySelector(".mask-faces");
    faces?.addEventListener("click", async () => {
      faces.disabled = true;
      showError(null);
      const label = faces.textContent;
      faces.textContent = T("ui.js.maskui.faces_busy");
      try {
        const ans = await api("POST", base + "/faces", { camera: cam.id });
        for (const g of ans.regions) {
          add({ x: g.x, y: g.y, w: g.w, h: g.h }, { from: g.from, to: g.to, proposed: true });
        }
        fs.querySelector(".mask-faces-note")?.remove();
        const note = document.createElement("p");
        note.className = "hint mask-faces-note";
        note.textContent = T("ui.js.maskui.faces_n", { n: ans.regions.length });
        faces.parentElement.after(note);
      } catch (err) {
        showError(err);
      }
      faces.textContent = label;
      faces.disabled = false;
    });

    function add(r, opts) {
      const from = opts?.from ?? now();
      let to = opts?.to ?? from + DEFAULT_SPAN;
      if (isFinite(video.duration) && video.duration > 0) to = Math.min(to, video.duration);
      if (to < from) to = from;
      cam.regions.push({ name: T("ui.js.maskui.region_n", { n: ++cam.count }), from: round(from), to: round(to),
        x: r.x, y: r.y, w: r.w, h: r.h, proposed: !!opts?.proposed });
      render();
    }
    cam.count = 0;
    cam.add = add;

    function place(el, r) {
      el.style.left = r.x * 100 + "%";
      el.style.top = r.y * 100 + "%";
      el.style.width = r.w * 100 + "%";
      el.style.height = r.h * 100 + "%";
    }
    // draw shows the regions over the picture, faint outside their range.
    function draw() {
      overlay.querySelectorAll(".mask-box:not(.drawing)").forEach((b) => b.remove());
      const t = video.currentTime || 0;
      for (const g of cam.regions) {
        const b = document.createElement("div");
        b.className = "mask-box" + (g.proposed ? " proposed" : "") + (t < g.from || t > g.to ? " off" : "");
        place(b, g);
        b.title = g.name;
        overlay.appendChild(b);
      }
    }
    // render rebuilds the regions' table and the boxes.
    function render() {
      tbody.replaceChildren();
      cam.regions.forEach((g, i) => {
        const tr = document.createElement("tr");
        tr.className = "mask-region" + (g.proposed ? " proposed" : "");
        const cell = (...kids) => { const td = document.createElement("td"); td.append(...kids); tr.appendChild(td); return td; };
        const name = document.createElement("input");
        name.value = g.name;
        name.maxLength = 100;
        name.setAttribute("aria-label", T("ui.js.maskui.name"));
        name.addEventListener("change", () => { g.name = name.value.trim() || g.name; });
        cell(name);
        for (const end of ["from", "to"]) {
          const n = document.createElement("input");
          n.type = "number";
          n.step = "0.1";
          n.min = "0";
          n.name = end;
          n.value = g[end];
          n.setAttribute("aria-label", T("ui.js.maskui." + end));
          n.addEventListener("change", () => { g[end] = Number(n.value) || 0; draw(); });
          const here = document.createElement("button");
          here.type = "button";
          here.className = end + "-here";
          here.textContent = T("ui.js.maskui." + end + "_here");
          here.addEventListener("click", () => { g[end] = now(); n.value = g[end]; draw(); });
          cell(n, " ", here);
        }
        cell(`${g.x.toFixed(3)}, ${g.y.toFixed(3)} · ${g.w.toFixed(3)}×${g.h.toFixed(3)}`);
        const acts = cell();
        if (g.proposed) {
          const ok = document.createElement("button");
          ok.type = "button";
          ok.className = "accept";
          ok.textContent = T("ui.js.maskui.accept");
          ok.addEventListener("click", () => { g.proposed = false; render(); });
          acts.append(ok, " ");
        }
        const del = document.createElement("button");
        del.type = "button";
        del.className = "delete";
        del.textContent = T("ui.js.maskui.delete");
        del.addEventListener("click", () => { cam.regions.splice(i, 1); render(); });
        acts.append(del);
        tbody.appendChild(tr);
      });
      draw();
    }
    cam.render = render;
    return cam;
  }

  const download = document.getElementById("maskui-download");
  const state = { cameras, package: null }; // for the face proposals and the tests
  window.gw.maskui = state;
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    showError(null);
    const el = form.elements;
    let watermark = null;
    if (el.watermark.checked) {
      if (!el.recipient.value.trim()) {
        showError(new APIError(0, "requests.missing", { field: T("ui.js.maskui.recipient") }));
        return;
      }
      watermark = { recipient: el.recipient.value.trim(), date: el.date.value.trim(), receipt: root.dataset.receipt };
    }
    if (cameras.some((c) => c.regions.some((g) => g.proposed))) {
      showError(new APIError(0, "ui.js.maskui.unreviewed"));
      return;
    }
    const specs = {};
    for (const c of cameras) {
      const sp = { style: el.style.value };
      sp.regions = c.regions.map((g) => ({ name: g.name, from: g.from, to: g.to, x: g.x, y: g.y, w: g.w, h: g.h }));
      if (watermark) sp.watermark = watermark;
      specs[c.id] = sp;
    }
    const buttons = form.querySelectorAll("button");
    buttons.forEach((b) => { b.disabled = true; });
    document.getElementById("maskui-busy").hidden = false;
    try {
      const r = await api("POST", base + "/copy", { specs }, { raw: true });
      const blob = await r.blob();
      const cd = r.headers.get("Content-Disposition") || "";
      const m = cd.match(/filename="([^"]+)"/);
      if (download.href) URL.revokeObjectURL(download.href);
      download.href = URL.createObjectURL(blob);
      state.package = blob;
      download.download = m ? m[1] : "copy.zip";
      document.getElementById("maskui-done").hidden = false;
      download.focus();
    } catch (err) {
      showError(err);
    }
    document.getElementById("maskui-busy").hidden = true;
    buttons.forEach((b) => { b.disabled = false; });
  });
})();
