// The 관리대장 page: verify the chain now, and the 관리책임자's sign-off.
"use strict";
(() => {
  const { api, showError } = window.gw;
  document.getElementById("verify-now")?.addEventListener("click", async (e) => {
    showError(null);
    e.currentTarget.disabled = true;
    try {
      await api("GET", "/api/ledger/verify?fresh=1");
      location.reload();
    } catch (err) {
      showError(err);
      e.currentTarget.disabled = false;
    }
  });
  const form = document.getElementById("signoff-form");
  form?.addEventListener("submit", async (e) => {
    e.preventDefault();
    showError(null);
    const f = form.elements;
    try {
      await api("POST", "/api/ledger/signoffs", {
        site: f.site.value, from: f.from.value, to: f.to.value, note: f.note.value.trim(),
      });
      document.getElementById("signoff-done").hidden = false;
      setTimeout(() => location.reload(), 800);
    } catch (err) {
      showError(err);
    }
  });
})();
