// gwanje's shared page script: the catalogue's messages, the API client,
// times in the institution's zone, the purpose dialog, language and logout.
// Every page's own script (ui/<page>.js) uses window.gw.
"use strict";
window.gw = (() => {
  const body = document.body;
  const msgs = JSON.parse(body.dataset.msgs || "{}");
  const tz = body.dataset.tz || "Asia/Seoul";
  const tzname = body.dataset.tzname || "";
  const csrf = body.dataset.csrf || "";
  // The server's clock (which tests may fake) is the page's "now".
  const clockSkew = Date.now() - Number(body.dataset.now || Date.now());

  // T is the catalogue's wording of key; a missing key shows as ⟦key⟧,
  // which the browser tests look for.
  function T(key, params) {
    let s = msgs[key];
    if (s === undefined) return "\u27e6" + key + "\u27e7";
    for (const [k, v] of Object.entries(params || {})) s = s.split("{" + k + "}").join(String(v));
    return s;
  }

  // errorsWithoutCode lists API errors that came without a code: a bug the
  // browser tests fail on. The page shows a generic message instead.
  const errorsWithoutCode = [];
  class APIError extends Error {
    constructor(status, code, params) {
      super(T(code, params));
      this.status = status;
      this.code = code;
      this.params = params || {};
    }
  }

  // api calls the HTTP API; an error becomes an APIError whose message is
  // the catalogue's wording for the answer's code, never the server's text.
  async function api(method, path, data, opts) {
    const o = { method, headers: {}, credentials: "same-origin" };
    if (data !== undefined) {
      o.headers["Content-Type"] = "application/json";
      o.body = JSON.stringify(data);
    }
    if (method !== "GET" && method !== "HEAD") o.headers["X-CSRF-Token"] = csrf;
    const r = await fetch(path, o);
    if (opts && opts.raw && r.ok) return r;
    let ans = null;
    const text = await r.text();
    try { ans = text ? JSON.parse(text) : null; } catch (_) { ans = null; }
    if (!r.ok) {
      if (!ans || !ans.code) {
        errorsWithoutCode.push(method + " " + path + " " + r.status);
        throw new APIError(r.status, "ui.js.error.nocode", { status: r.status });
      }
      throw new APIError(r.status, ans.code, ans.params);
    }
    return ans;
  }

  // showError puts an error's message in the page's alert line (or el).
  function showError(err, el) {
    el = el || document.getElementById("error");
    if (!el) return;
    if (!err) { el.hidden = true; el.textContent = ""; return; }
    el.textContent = err instanceof APIError ? err.message : T("ui.js.error.network");
    el.hidden = false;
    if (!(err instanceof APIError)) console.error(err);
  }

  // Times: always the institution's zone, with its name.
  const fmt = new Intl.DateTimeFormat("en-CA", {
    timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  });
  function parts(d) {
    const o = {};
    for (const p of fmt.formatToParts(d)) o[p.type] = p.value;
    return o;
  }
  function fmtTime(d) {
    const p = parts(d);
    return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second} ${tzname}`.trim();
  }
  function fmtClock(d) {
    const p = parts(d);
    return `${p.hour}:${p.minute}:${p.second}`;
  }
  function offsetAt(ms) {
    const p = parts(new Date(ms));
    const asUTC = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour % 24, +p.minute, +p.second);
    return asUTC - Math.floor(ms / 1000) * 1000;
  }
  // dayStart is midnight of "YYYY-MM-DD" in the institution's zone.
  function dayStart(date) {
    const [y, m, d] = date.split("-").map(Number);
    const guess = Date.UTC(y, m - 1, d);
    let t = guess - offsetAt(guess);
    const o2 = offsetAt(t);
    if (guess - o2 !== t) t = guess - o2;
    return new Date(t);
  }

  // The purpose of viewing: asked once per sitting (this page), in the
  // page, before the first frame.
  let purpose = null;
  function askPurpose() {
    if (purpose) return Promise.resolve(purpose);
    const dlg = document.getElementById("purpose-dialog");
    const form = document.getElementById("purpose-form");
    const err = form.querySelector(".error");
    err.hidden = true;
    return new Promise((resolve, reject) => {
      const done = (ok) => {
        form.removeEventListener("submit", onSubmit);
        cancel.removeEventListener("click", onCancel);
        dlg.removeEventListener("cancel", onCancel);
        dlg.close();
        if (ok) resolve(purpose); else reject(new APIError(0, "ui.js.purpose.cancelled"));
      };
      const cancel = form.querySelector(".cancel");
      const onCancel = (e) => { e.preventDefault(); done(false); };
      const onSubmit = (e) => {
        e.preventDefault();
        const p = form.elements.purpose.value, r = form.elements.reason.value.trim();
        if (!p) { err.textContent = T("purpose.category"); err.hidden = false; return; }
        if (!r) { err.textContent = T("purpose.reason", { max: 200 }); err.hidden = false; return; }
        purpose = { purpose: p, reason: r };
        done(true);
      };
      form.addEventListener("submit", onSubmit);
      cancel.addEventListener("click", onCancel);
      dlg.addEventListener("cancel", onCancel);
      dlg.showModal();
      form.elements.purpose.focus();
    });
  }
  // forgetPurpose asks again next time (a refused purpose).
  function forgetPurpose() { purpose = null; }

  // The language switch: a signed-in user's choice is their own setting,
  // kept with the account (PUT /api/me/lang); before anyone is known (the
  // login page) it is this browser's cookie.
  document.getElementById("lang")?.addEventListener("click", async (e) => {
    const to = e.currentTarget.dataset.to;
    if (csrf) {
      try { await api("PUT", "/api/me/lang", { lang: to }); } catch (err) { showError(err); return; }
    } else {
      document.cookie = "gwanje_lang=" + to + "; path=/; max-age=31536000; samesite=strict";
    }
    location.reload();
  });
  document.getElementById("logout")?.addEventListener("click", async () => {
    try { await api("POST", "/api/logout"); } catch (_) { /* leaving anyway */ }
    location.href = "/login";
  });

  return { T, api, APIError, showError, errorsWithoutCode, fmtTime, fmtClock, dayStart, askPurpose, forgetPurpose,
    tz, tzname, today: body.dataset.today, now: () => Date.now() - clockSkew };
})();
