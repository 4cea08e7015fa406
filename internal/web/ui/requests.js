// The requests pages: the staff's intake form (POST /api/requests/intake)
// and the workflow of one request (identity check, postponement, closing;
// decision and fulfilment when the request names them). Errors show the
// catalogue's words for the API's code; every step reloads the page, which
// the server renders from the request as it now is.
"use strict";
(() => {
  const { T, api, showError, APIError } = window.gw;
  const val = (f, n) => (f.elements[n] ? f.elements[n].value.trim() : "");
  const person = (f, p) => ({
    name: val(f, p + ".name"), phone: val(f, p + ".phone"), birth: val(f, p + ".birth"),
    address: val(f, p + ".address"), relation: val(f, p + ".relation"),
  });
  // busy disables a form's buttons while its request runs.
  async function busy(form, f) {
    const bs = form.querySelectorAll("button");
    bs.forEach((b) => { b.disabled = true; });
    showError(null);
    try {
      await f();
    } catch (err) {
      showError(err);
      bs.forEach((b) => { b.disabled = false; });
    }
  }

  const intake = document.getElementById("intake-form");
  if (intake) {
    const same = document.getElementById("subject-same");
    const fields = document.getElementById("subject-fields");
    same.addEventListener("change", () => { fields.hidden = same.checked; });
    intake.addEventListener("submit", (e) => {
      e.preventDefault();
      busy(intake, async () => {
        const requester = person(intake, "requester");
        const cams = [...intake.querySelectorAll("input[name=camera]:checked")];
        const body = {
          types: [...intake.querySelectorAll("input[name=type]:checked")].map((c) => c.value),
          requester,
          subject: same.checked ? { name: requester.name, relation: "본인" } : person(intake, "subject"),
          from: val(intake, "from"), to: val(intake, "to"),
          site: cams.length ? cams[0].dataset.site : val(intake, "site"),
          cameras: cams.map((c) => c.value),
          place: val(intake, "place"), purpose: val(intake, "purpose"),
        };
        const ans = await api("POST", "/api/requests/intake", body);
        location.href = "/requests-view?id=" + ans.id;
      });
    });
  }

  const detail = document.getElementById("req-detail");
  if (!detail) return;
  const base = "/api/requests/" + detail.dataset.rid;
  // step binds a form to a POST of the request's API.
  function step(id, path, body) {
    const form = document.getElementById(id);
    form?.addEventListener("submit", (e) => {
      e.preventDefault();
      busy(form, async () => {
        await api("POST", base + path, body(form));
        location.reload();
      });
    });
  }
  step("identity-form", "/identity", (f) => ({ method: val(f, "method"), proxy: val(f, "proxy") }));
  step("postpone-form", "/postpone", (f) => ({ date: val(f, "date"), reason: val(f, "reason") }));
  const close = document.getElementById("close-request");
  close?.addEventListener("click", async () => {
    if (close.dataset.armed !== "1") { // the second click confirms, in the page
      close.dataset.armed = "1";
      close.textContent = T("ui.js.req.confirm_close");
      return;
    }
    showError(null);
    close.disabled = true;
    try {
      await api("POST", base + "/close");
      location.reload();
    } catch (err) {
      showError(err);
      close.disabled = false;
    }
  });
  // twice arms a button: the first click asks, the second acts.
  function twice(id, confirmKey, act) {
    const b = document.getElementById(id);
    b?.addEventListener("click", async () => {
      if (b.dataset.armed !== "1") {
        b.dataset.armed = "1";
        b.textContent = T(confirmKey);
        return;
      }
      showError(null);
      b.disabled = true;
      try {
        await act();
        location.reload();
      } catch (err) {
        showError(err);
        b.disabled = false;
      }
    });
  }
  twice("withdraw-request", "ui.js.req.confirm_withdraw", () => api("POST", base + "/close", { withdrawn: true }));
  twice("delete-request", "ui.js.req.confirm_delete", () => api("POST", base + "/deletion"));
  step("cameras-form", "/cameras", (f) => ({ cameras: [...f.querySelectorAll("input[name=camera]:checked")].map((c) => c.value) }));
  step("decision-form", "/decision", (f) => ({
    types: [...f.querySelectorAll("fieldset.decision")].map((fs) => {
      const v = (n) => fs.querySelector("[name=" + n + "]").value.trim();
      const d = { type: fs.dataset.type, outcome: v("outcome") };
      if (v("ground")) d.ground = v("ground");
      if (v("note")) d.note = v("note");
      return d;
    }),
  }));
  step("grant-form", "/view-grant", (f) => ({ minutes: Number(val(f, "minutes")) }));
  const existence = document.getElementById("existence-answer");
  existence?.addEventListener("click", async () => {
    showError(null);
    existence.disabled = true;
    try {
      await api("POST", base + "/existence");
      location.reload();
    } catch (err) {
      showError(err);
      existence.disabled = false;
    }
  });
  // The on-site viewing: a playback of the request's cameras and period
  // only, through the gate, shown in the page.
  const { dayStart } = window.gw;
  function local(v) { // a datetime-local value, read in the institution's zone
    const [date, time] = v.split("T");
    const [h, m, sec] = time.split(":").map(Number);
    return new Date(dayStart(date).getTime() + ((h * 60 + m) * 60 + (sec || 0)) * 1000);
  }
  const viewForm = document.getElementById("view-form");
  viewForm?.addEventListener("submit", (e) => {
    e.preventDefault();
    const video = document.getElementById("req-video");
    video.hidden = true;
    video.removeAttribute("src");
    busy(viewForm, async () => {
      const ans = await api("POST", base + "/views", {
        camera: val(viewForm, "camera"),
        start: local(val(viewForm, "start")).toISOString(), end: local(val(viewForm, "end")).toISOString(),
      });
      video.src = ans.url;
      video.hidden = false;
      video.play().catch(() => {});
      viewForm.querySelectorAll("button").forEach((b) => { b.disabled = false; });
    });
  });
  const notice = document.getElementById("notice-answer");
  notice?.addEventListener("submit", (e) => {
    if (!val(notice, "answer")) {
      e.preventDefault();
      showError(new APIError(0, "requests.missing", { field: T("ui.js.req.notice_content") }));
    }
  });
})();
