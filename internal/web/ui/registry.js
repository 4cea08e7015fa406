// The registry page: preview an uploaded registry file, then apply it.
"use strict";
(() => {
  const { T, api, showError } = window.gw;
  const box = document.getElementById("import");
  if (!box) return;
  const $ = (id) => document.getElementById(id);
  let yaml = null, base = box.dataset.base;

  $("preview").addEventListener("click", async () => {
    showError(null);
    $("problems").hidden = true;
    $("preview-result").hidden = true;
    $("applied").hidden = true;
    const file = $("registry-file").files[0];
    if (!file) { showError(new window.gw.APIError(0, "ui.js.adm.registry.no_file")); return; }
    yaml = await file.text();
    try {
      const ans = await api("POST", "/api/registry/preview", { yaml });
      base = ans.base;
      const body = $("changes").querySelector("tbody");
      body.replaceChildren();
      for (const c of ans.changes) {
        const tr = document.createElement("tr");
        for (const v of [c.field, c.old || "—", c.new || "—"]) {
          const td = document.createElement("td");
          td.textContent = v;
          tr.append(td);
        }
        body.append(tr);
      }
      $("no-changes").hidden = ans.changes.length > 0;
      const diff = $("diff");
      diff.replaceChildren();
      if (ans.diff_omitted) diff.textContent = T("ui.js.adm.registry.diff_omitted");
      for (const l of ans.diff) {
        const line = document.createElement(l.Op === "+" ? "ins" : l.Op === "-" ? "del" : "span");
        line.textContent = l.Op + " " + l.Text + "\n";
        diff.append(line);
      }
      $("preview-result").hidden = false;
      $("apply").focus();
    } catch (err) {
      showError(err);
      if (err.code === "registry.problems" && err.params.problems) {
        $("problems").textContent = err.params.problems;
        $("problems").hidden = false;
      }
    }
  });

  $("apply").addEventListener("click", async () => {
    showError(null);
    try {
      await api("POST", "/api/registry/apply", { yaml, base });
      $("preview-result").hidden = true;
      $("applied").hidden = false;
    } catch (err) {
      showError(err);
    }
  });
})();
