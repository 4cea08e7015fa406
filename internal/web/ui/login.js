// The sign-in pages: login, changing a one-time password, TOTP enrolment.
"use strict";
(() => {
  const { api, showError, T } = window.gw;

  const login = document.getElementById("login-form");
  login?.addEventListener("submit", async (e) => {
    e.preventDefault();
    showError(null);
    const f = login.elements;
    try {
      const r = await api("POST", "/api/login", { name: f.name.value.trim(), password: f.password.value, totp: f.totp.value.trim() });
      location.href = r.must_change_password ? "/password" : "/";
    } catch (err) {
      showError(err);
      f.password.select();
    }
  });

  const pw = document.getElementById("password-form");
  pw?.addEventListener("submit", async (e) => {
    e.preventDefault();
    showError(null);
    const f = pw.elements;
    if (f.new.value !== f.again.value) {
      showError(new window.gw.APIError(0, "ui.js.password.mismatch"));
      return;
    }
    try {
      await api("POST", "/api/password", { old: f.old.value, new: f.new.value });
      location.href = "/";
    } catch (err) {
      showError(err);
    }
  });

  const begin = document.getElementById("totp-begin");
  begin?.addEventListener("click", async () => {
    showError(null);
    try {
      // The current password: a stolen session alone cannot enrol.
      const r = await api("POST", "/api/totp", { password: document.getElementById("totp-password").value });
      const u = new URL(r.uri);
      document.getElementById("totp-secret").textContent = u.searchParams.get("secret") || "";
      document.getElementById("totp-uri").textContent = r.uri;
      document.getElementById("totp-step").hidden = false;
      document.getElementById("totp-start").hidden = true;
      document.querySelector("#totp-form input").focus();
    } catch (err) {
      showError(err);
    }
  });
  const tf = document.getElementById("totp-form");
  tf?.addEventListener("submit", async (e) => {
    e.preventDefault();
    showError(null);
    try {
      await api("POST", "/api/totp/confirm", { code: tf.elements.code.value.trim() });
      document.getElementById("totp-step").hidden = true;
      document.getElementById("totp-done").hidden = false;
    } catch (err) {
      showError(err);
    }
  });
  void T;
})();
