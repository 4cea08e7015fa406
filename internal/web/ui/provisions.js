// The provisions page: request a provision (제3자 제공, 목적 외 이용),
// approve, refuse or cancel it, produce it (a copy's package downloads, an
// on-site viewing's links appear in the row), on /api/provisions.
"use strict";
(() => {
  const { T, api, showError, dayStart } = window.gw;
  // local turns a datetime-local value, read in the institution's zone,
  // into an instant.
  function local(v) {
    const [date, time] = v.split("T");
    const [h, m, s] = time.split(":").map(Number);
    return new Date(dayStart(date).getTime() + ((h * 60 + m) * 60 + (s || 0)) * 1000);
  }
  const form = document.getElementById("prov-form");
  form?.addEventListener("submit", async (e) => {
    e.preventDefault();
    showError(null);
    const f = form.elements;
    const cams = [...form.querySelectorAll("input[name=camera]:checked")].map((c) => c.value);
    if (!cams.length) { showError(new window.gw.APIError(0, "provision.cameras", { max: 16 })); return; }
    if (!f.from.value || !f.to.value) { showError(new window.gw.APIError(0, "provision.range")); return; }
    const body = {
      kind: f.kind.value, form: f.form.value, recipient: f.recipient.value.trim(), letter: f.letter.value.trim(),
      period: f.period.value.trim(), purpose: f.purpose.value.trim(), basis: Number(f.basis.value || 0),
      statute: f.statute.value.trim(), cameras: cams,
      from: local(f.from.value).toISOString(), to: local(f.to.value).toISOString(),
    };
    try {
      await api("POST", "/api/provisions", body);
      document.getElementById("prov-done").hidden = false;
      setTimeout(() => location.reload(), 600);
    } catch (err) {
      showError(err);
    }
  });
  for (const row of document.querySelectorAll("#prov-table tr[data-provision]")) {
    const base = "/api/provisions/" + row.dataset.provision;
    const step = (sel, run) => {
      const b = row.querySelector(sel);
      b?.addEventListener("click", async () => {
        showError(null);
        b.disabled = true;
        try {
          await run();
        } catch (err) {
          showError(err);
          b.disabled = false;
        }
      });
    };
    step("button.approve", async () => { await api("POST", base + "/approve"); location.reload(); });
    for (const what of ["refuse", "cancel"]) {
      step("button." + what, async () => {
        await api("POST", base + "/" + what, { reason: row.querySelector("input[name=reason]").value.trim() });
        location.reload();
      });
    }
    step("button.produce", async () => {
      const out = await api("POST", base + "/produce");
      if (out.download) {
        location.href = out.download; // the package downloads; the page stays
        setTimeout(() => location.reload(), 1500);
        return;
      }
      const ul = row.querySelector("ul.views");
      for (const v of out.views || []) {
        const li = document.createElement("li");
        const a = document.createElement("a");
        a.href = v.url;
        a.target = "_blank";
        a.rel = "noopener";
        a.textContent = T("ui.js.prov.view", { camera: v.camera });
        li.append(a);
        ul.append(li);
      }
      ul.hidden = false;
      row.querySelector("button.produce").remove();
    });
  }
})();
