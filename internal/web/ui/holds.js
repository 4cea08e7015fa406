// The holds page: place a hold on the chosen cameras (one request per
// camera, as the API is per camera), release a manual hold in the page.
"use strict";
(() => {
  const { T, api, showError, dayStart } = window.gw;
  // local turns a datetime-local value, read in the institution's zone,
  // into an instant.
  function local(v) {
    const [date, time] = v.split("T");
    const [h, m] = time.split(":").map(Number);
    return new Date(dayStart(date).getTime() + (h * 60 + m) * 60000);
  }
  const form = document.getElementById("hold-form");
  form?.addEventListener("submit", async (e) => {
    e.preventDefault();
    showError(null);
    const f = form.elements;
    const cams = [...form.querySelectorAll("input[name=camera]:checked")].map((c) => c.value);
    if (!cams.length) { showError(new window.gw.APIError(0, "ui.js.adm.holds.no_camera")); return; }
    if (!f.from.value || !f.to.value) { showError(new window.gw.APIError(0, "hold.invalid", { max: 500 })); return; }
    const body = { from: local(f.from.value).toISOString(), to: local(f.to.value).toISOString(), reason: f.reason.value.trim() };
    try {
      for (const c of cams) await api("POST", "/api/cameras/" + encodeURIComponent(c) + "/holds", body);
      document.getElementById("hold-done").hidden = false;
      setTimeout(() => location.reload(), 600);
    } catch (err) {
      showError(err);
    }
  });
  for (const b of document.querySelectorAll("button.release")) {
    b.addEventListener("click", async () => {
      if (b.dataset.armed !== "1") { // the second click confirms, in the page
        b.dataset.armed = "1";
        b.textContent = T("ui.js.adm.holds.confirm_release");
        return;
      }
      showError(null);
      b.disabled = true;
      try {
        await api("POST", "/api/cameras/" + encodeURIComponent(b.dataset.camera) + "/holds/" + b.dataset.hold + "/release");
        location.reload();
      } catch (err) {
        showError(err);
        b.disabled = false;
      }
    });
  }
})();
