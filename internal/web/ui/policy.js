// The policy page: compare versions (or the draft), publish the draft.
"use strict";
(() => {
  const { T, api, showError } = window.gw;
  const diffForm = document.getElementById("diff-form");
  diffForm?.addEventListener("submit", async (e) => {
    e.preventDefault();
    showError(null);
    const f = diffForm.elements;
    const q = "?to=" + encodeURIComponent(f.to.value) + (f.from.value ? "&from=" + encodeURIComponent(f.from.value) : "");
    try {
      const ans = await api("GET", "/api/policy/diff" + q);
      const pre = document.getElementById("policy-diff");
      pre.replaceChildren();
      let changed = 0;
      for (const l of ans.diff) {
        if (l.Op !== " ") changed++;
        const line = document.createElement(l.Op === "+" ? "ins" : l.Op === "-" ? "del" : "span");
        line.textContent = l.Op + " " + l.Text + "\n";
        pre.append(line);
      }
      if (!changed) pre.textContent = T("ui.js.adm.policy.same");
      pre.hidden = false;
    } catch (err) {
      showError(err);
    }
  });
  const pub = document.getElementById("publish-form");
  pub?.addEventListener("submit", async (e) => {
    e.preventDefault();
    const b = document.getElementById("publish");
    if (b.dataset.armed !== "1") { // the second click confirms, in the page
      b.dataset.armed = "1";
      b.textContent = T("ui.js.adm.policy.confirm_publish");
      return;
    }
    showError(null);
    b.disabled = true;
    try {
      await api("POST", "/api/policy/publish", {});
      document.getElementById("published").hidden = false;
      setTimeout(() => location.reload(), 800);
    } catch (err) {
      showError(err);
      b.disabled = false;
    }
  });
})();
