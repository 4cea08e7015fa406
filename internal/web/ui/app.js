// gwanje's minimal page: log in, pick a viewing purpose, play the last
// minute of each camera. Every viewing is requested with a purpose first
// (POST, CSRF-protected); the server records it in the ledger and only
// then hands out the URL the video element plays.
"use strict";
// The CSRF token comes with the login answer and lives in this tab only.
let csrf = sessionStorage.getItem("csrf") || "";

const $ = (s) => document.querySelector(s);
const show = (id) => {
  for (const s of ["login", "change", "cameras"]) $("#" + s).hidden = s !== id;
  $("#alarms").hidden = id !== "cameras";
  if (id !== "cameras") $("#retention").hidden = true;
};

async function api(method, path, body) {
  const opt = { method, headers: {}, credentials: "same-origin" };
  if (body !== undefined) { opt.headers["Content-Type"] = "application/json"; opt.body = JSON.stringify(body); }
  if (method !== "GET") opt.headers["X-CSRF-Token"] = csrf;
  const r = await fetch(path, opt);
  let data = null;
  try { data = await r.json(); } catch (_) { /* no body */ }
  if (!r.ok) throw new Error((data && (data.message || data.error)) || r.statusText);
  return data;
}

async function start() {
  try {
    const me = await api("GET", "/api/me");
    $("#who").hidden = false;
    const roles = (me.grants || []).map((g) => g.title || g.role).join(", ");
    $("#user").textContent = (me.display || me.name) + (roles ? " (" + roles + ")" : "");
    if (me.must_change_password) { show("change"); return; }
    show("cameras");
    await Promise.all([loadCameras(), loadAlarms(), loadRetention()]);
  } catch (_) {
    $("#who").hidden = true;
    show("login");
  }
}

async function loadCameras() {
  const cams = await api("GET", "/api/cameras");
  const list = $("#camera-list");
  list.replaceChildren();
  for (const c of cams) {
    const li = $("#camera-card").content.firstElementChild.cloneNode(true);
    li.dataset.id = c.id;
    li.querySelector(".name").textContent = c.name || c.id;
    const st = li.querySelector(".state");
    st.textContent = c.state + (c.last_error ? " — " + c.last_error : "");
    st.classList.add(c.state);
    li.querySelector(".meta").textContent = [c.site, c.codec, c.oldest ? "보관: " + c.oldest.replace("T", " ").slice(0, 19) + " 부터" : ""].filter(Boolean).join(" · ");
    li.querySelector(".play").addEventListener("click", () => playLastMinute(li, c));
    list.append(li);
  }
}

// Alarm names the page shows; the API's kinds are in docs/design/health.md.
const alarmNames = {
  camera_down: "카메라 끊김", camera_stalled: "영상 멈춤(연결 유지)", low_frame_rate: "프레임 저하",
  frozen: "화면 정지", image_problem: "화질 이상", gap: "녹화 공백", storage_unwritable: "저장장치 쓰기 불가",
  storage_low: "저장공간 부족", storage_write_errors: "저장 오류", retention_broken: "보관기간 위반",
};

// loadAlarms lists the alarms that need attention (active or not yet
// acknowledged) and refreshes every 10 seconds while the page is open.
let alarmTimer = 0;
async function loadAlarms() {
  clearTimeout(alarmTimer);
  const err = $("#alarm-error");
  try {
    const r = await api("GET", "/api/alarms?attention=1");
    const list = $("#alarm-list");
    list.replaceChildren();
    for (const a of r.alarms) {
      const li = $("#alarm-item").content.firstElementChild.cloneNode(true);
      li.classList.add(a.severity, a.cleared ? "cleared" : "active");
      li.querySelector(".sev").textContent = a.cleared ? "해소" : (a.severity === "critical" ? "긴급" : "주의");
      li.querySelector(".kind").textContent = alarmNames[a.kind] || a.kind;
      li.querySelector(".subject").textContent = a.subject;
      li.querySelector(".msg").textContent = a.message;
      li.querySelector(".when").textContent = a.raised.replace("T", " ").slice(0, 19);
      const b = li.querySelector(".ack");
      if (a.acked_at) { b.remove(); } else {
        b.addEventListener("click", async () => {
          const note = prompt("확인 메모 (선택)") ?? null;
          if (note === null) return;
          try { await api("POST", "/api/alarms/" + a.id + "/ack", { note }); await loadAlarms(); }
          catch (e) { err.textContent = e.message; }
        });
      }
      list.append(li);
    }
    $("#alarm-count").textContent = r.alarms.length ? "(" + r.alarms.length + ")" : "— 없음";
    err.textContent = "";
  } catch (e) { err.textContent = e.message; }
  if (!$("#alarms").hidden) alarmTimer = setTimeout(loadAlarms, 10000);
}

const when = (t) => (t && !t.startsWith("0001")) ? new Date(t).toLocaleString("ko-KR") : "—";
const size = (b) => b >= 1 << 30 ? (b / (1 << 30)).toFixed(1) + " GiB" : (b / (1 << 20)).toFixed(1) + " MiB";

// loadRetention shows the promised retention beside the footage held, to
// those who read the 관리대장 (the API refuses others: the section stays
// hidden).
async function loadRetention() {
  let st;
  try { st = await api("GET", "/api/retention"); } catch (_) { return; }
  const rows = $("#retention-rows");
  rows.replaceChildren();
  for (const c of st.cameras || []) {
    const tr = document.createElement("tr");
    const state = c.broken ? "약속 위반: 용량 부족으로 " + when(c.broken_until) + " 이전 영상 조기 파기" : "정상";
    for (const v of [c.camera, c.promised_korean, when(c.keep_since), when(c.oldest), size(c.bytes), c.due_held ? c.due_held + "개 구간" : "—", state]) {
      const td = document.createElement("td");
      td.textContent = v;
      tr.append(td);
    }
    if (c.broken) tr.classList.add("broken");
    rows.append(tr);
  }
  $("#retention-meta").textContent = "보존 조치(hold) " + st.holds + "건" + (st.clock_problem ? " · 파기 보류: " + st.clock_problem : "");
  $("#retention").hidden = false;
}

async function playLastMinute(li, cam) {
  const err = li.querySelector(".error");
  err.textContent = "";
  const form = $("#purpose-form");
  if (!form.reportValidity()) return;
  const f = new FormData(form);
  const end = new Date();
  const startT = new Date(end.getTime() - 60000);
  try {
    const v = await api("POST", "/api/cameras/" + encodeURIComponent(cam.id) + "/views", {
      start: startT.toISOString(), end: end.toISOString(),
      purpose: f.get("category"), reason: f.get("reason"),
    });
    const video = li.querySelector("video");
    const a = li.querySelector(".download");
    a.href = v.url; a.download = cam.id + ".mp4"; a.hidden = false;
    if (cam.codec === "H.265" && !video.canPlayType('video/mp4; codecs="hvc1"')) {
      err.textContent = "이 브라우저는 H.265를 재생하지 못합니다. MP4를 내려받아 재생하십시오.";
      return;
    }
    video.src = v.url;
    await video.play().catch(() => {});
  } catch (e) {
    err.textContent = e.message;
  }
}

$("#login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  try {
    const r = await api("POST", "/api/login", { name: f.get("username"), password: f.get("password") });
    csrf = r.csrf;
    sessionStorage.setItem("csrf", csrf);
    ev.target.reset();
    $("#login-error").textContent = "";
    await start();
  } catch (e) { $("#login-error").textContent = e.message; }
});

$("#change-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  try {
    await api("POST", "/api/password", { old: f.get("old"), new: f.get("new") });
    ev.target.reset();
    await start();
  } catch (e) { $("#change-error").textContent = e.message; }
});

$("#logout").addEventListener("click", async () => {
  try { await api("POST", "/api/logout"); } catch (_) { /* already out */ }
  csrf = "";
  sessionStorage.removeItem("csrf");
  await start();
});

start();
