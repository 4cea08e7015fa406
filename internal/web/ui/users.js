// The users page: a client of the account API. Every refusal is the
// server's coded error, shown in the page's alert line.
"use strict";
(() => {
  const { T, api, showError, dayStart } = window.gw;
  const app = document.getElementById("users-app");
  const roles = Object.fromEntries(JSON.parse(app.dataset.roles).map((o) => [o.Value, o.Label]));
  const sites = Object.fromEntries(JSON.parse(app.dataset.sites).map((o) => [o.Value, o.Label]));
  const reasons = Object.fromEntries(JSON.parse(app.dataset.reasons).map((o) => [o.Value, o.Label]));
  // The account API answers the reason in Korean, as the ledger records it.
  Object.assign(reasons, { "전보": reasons.transfer, "퇴직": reasons.retirement, "기타": reasons.other });
  const resetRoute = app.dataset.reset, resetTOTPRoute = app.dataset.resetTotp;
  const me = app.dataset.me; // nobody changes their own grants here
  const tbody = document.querySelector("#user-table tbody");
  let users = [];

  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v; else if (k.startsWith("on")) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
    }
    for (const k of kids) if (k !== null && k !== undefined) e.append(k);
    return e;
  };

  // grantOf reads a grant fieldset; until is a day, inclusive.
  function grantOf(form) {
    const f = form.elements;
    const g = { role: f.role.value, title: f.title.value.trim(), sites: [] };
    for (const c of form.querySelectorAll("input[name=sites]:checked")) g.sites.push(c.value);
    if (f.until.value) g.valid_until = new Date(dayStart(f.until.value).getTime() + 86400000).toISOString();
    return g;
  }
  // wire keeps only what the API takes of a listed grant.
  const wire = (g) => {
    // The permissions go back as they are, so a grant with its own set
    // keeps it.
    const out = { role: g.role, sites: g.sites || [] };
    if (g.perms && g.perms.length) out.perms = g.perms;
    if (g.title) out.title = g.title;
    if (g.valid_from) out.valid_from = g.valid_from;
    if (g.valid_until) out.valid_until = g.valid_until;
    return out;
  };
  function grantText(g) {
    const names = (g.sites || []).map((s) => sites[s] || (s === "*" ? T("ui.js.adm.all_sites") : s)).join(", ");
    let t = (roles[g.role] || g.role) + (g.title ? " · " + g.title : "") + " · " + names;
    if (g.valid_until) t += " · " + T("ui.js.adm.users.until", { date: window.gw.fmtTime(new Date(new Date(g.valid_until).getTime() - 1000)).slice(0, 10) });
    return t;
  }

  function render() {
    tbody.replaceChildren();
    document.getElementById("no-users").hidden = users.length > 0;
    for (const u of users) {
      const state = !u.active
        ? T("ui.js.adm.users.inactive", { reason: reasons[u.deactivate_reason] || u.deactivate_reason || "" })
        : u.must_change_password ? T("ui.js.adm.users.must_change") : T("ui.js.adm.users.active");
      const grants = el("ul", { class: "grants" });
      (u.grants || []).forEach((g, i) => {
        const li = el("li", {}, grantText(g) + " ");
        if (u.active && u.name !== me) {
          const rm = el("button", { type: "button", class: "small", "aria-label": T("ui.js.adm.users.remove_grant") + ": " + grantText(g) },
            T("ui.js.adm.users.remove_grant"));
          rm.addEventListener("click", () => {
            if (rm.dataset.armed !== "1") { // a second click confirms, in the page
              rm.dataset.armed = "1";
              rm.textContent = T("ui.js.adm.users.confirm_remove");
              return;
            }
            const rest = u.grants.filter((_, k) => k !== i).map(wire);
            setGrants(u.name, rest);
          });
          li.append(rm);
        }
        grants.append(li);
      });
      const actions = el("td", { class: "actions" });
      if (u.active && u.name !== me) {
        actions.append(el("button", { type: "button", onclick: () => openGrants(u) }, T("ui.js.adm.users.add_grant")));
        if (resetRoute) actions.append(" ", confirmed(T("ui.js.adm.users.reset"), () => reset(u)));
        if (resetTOTPRoute && u.totp) actions.append(" ", confirmed(T("ui.js.adm.users.reset_totp"), () => resetTOTP(u)));
        actions.append(" ", el("button", { type: "button", onclick: () => openDeactivate(u) }, T("ui.js.adm.users.deactivate")));
      }
      tbody.append(el("tr", { "data-user": u.name, class: u.active ? "" : "inactive" },
        el("td", {}, u.name), el("td", {}, u.display || ""), el("td", {}, state), el("td", {}, grants), actions));
    }
  }

  async function load() {
    try {
      users = await api("GET", "/api/users");
      render();
    } catch (err) { showError(err); }
  }

  function showOTP(name, pw) {
    document.getElementById("otp-user").textContent = name;
    document.getElementById("otp-value").textContent = pw;
    const box = document.getElementById("otp");
    box.hidden = false;
    box.focus?.();
  }
  document.getElementById("otp-hide").addEventListener("click", () => {
    document.getElementById("otp-value").textContent = "";
    document.getElementById("otp").hidden = true;
  });

  const newForm = document.getElementById("new-user");
  newForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    showError(null);
    const f = newForm.elements;
    try {
      const ans = await api("POST", "/api/users", { name: f.name.value.trim(), display: f.display.value.trim(), grants: [grantOf(newForm)] });
      showOTP(ans.user.name, ans.one_time_password);
      newForm.reset();
      await load();
    } catch (err) { showError(err); }
  });

  async function setGrants(name, grants, dlgErr) {
    showError(null);
    try {
      await api("PUT", "/api/users/" + encodeURIComponent(name) + "/grants", { grants });
      await load();
      return true;
    } catch (err) { showError(err, dlgErr); return false; }
  }

  // dialog wires a dialog's form: onSubmit returns true to close it.
  function dialog(id, onSubmit) {
    const dlg = document.getElementById(id);
    const form = dlg.querySelector("form");
    const err = form.querySelector(".error");
    form.querySelector(".cancel").addEventListener("click", () => dlg.close());
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      err.hidden = true;
      if (await onSubmit(form, err)) dlg.close();
    });
    return (u) => {
      dlg.dataset.user = u.name;
      form.reset();
      err.hidden = true;
      dlg.querySelector(".target").textContent = u.name;
      dlg.showModal();
    };
  }
  const openGrants = dialog("grants-dialog", (form, err) => {
    const u = users.find((x) => x.name === form.closest("dialog").dataset.user);
    return setGrants(u.name, [...(u.grants || []).map(wire), grantOf(form)], err);
  });
  const openDeactivate = dialog("deactivate-dialog", async (form, err) => {
    const name = form.closest("dialog").dataset.user;
    try {
      await api("POST", "/api/users/" + encodeURIComponent(name) + "/deactivate",
        { reason: form.elements.reason.value, note: form.elements.note.value.trim() });
      await load();
      return true;
    } catch (e) { showError(e, err); return false; }
  });

  // confirmed is a button whose first click asks, in the page, and whose
  // second click acts (a reset ends the user's sessions).
  function confirmed(label, act) {
    const b = el("button", { type: "button", class: "reset" }, label);
    b.addEventListener("click", () => {
      if (b.dataset.armed !== "1") {
        b.dataset.armed = "1";
        b.textContent = T("ui.js.adm.users.confirm", { action: label });
        return;
      }
      act();
    });
    return b;
  }

  async function reset(u) {
    showError(null);
    try {
      const ans = await api("POST", resetRoute.replace("{name}", encodeURIComponent(u.name)));
      showOTP(u.name, ans.one_time_password);
      await load();
    } catch (err) { showError(err); }
  }

  async function resetTOTP(u) {
    showError(null);
    try {
      await api("POST", resetTOTPRoute.replace("{name}", encodeURIComponent(u.name)));
      const done = document.getElementById("user-done");
      done.textContent = T("ui.js.adm.users.totp_removed", { name: u.name });
      done.hidden = false;
      await load();
    } catch (err) { showError(err); }
  }

  load();
})();
