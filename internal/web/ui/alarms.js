// The alarms page: acknowledge an alarm with an optional note, in the page.
"use strict";
(() => {
  const { api, showError } = window.gw;
  for (const form of document.querySelectorAll("#alarm-list form.ack")) {
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      showError(null);
      const li = form.closest("li");
      form.querySelector("button").disabled = true;
      try {
        await api("POST", "/api/alarms/" + li.dataset.id + "/ack", { note: form.elements.note.value.trim() });
        location.reload();
      } catch (err) {
        showError(err);
        form.querySelector("button").disabled = false;
      }
    });
  }
})();
