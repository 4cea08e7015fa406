// The home page: acknowledging an alarm with an optional note, in the page.
"use strict";
(() => {
  const { api, showError } = window.gw;
  for (const form of document.querySelectorAll("form.ack")) {
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      showError(null);
      const li = form.closest("li");
      try {
        await api("POST", "/api/alarms/" + li.dataset.id + "/ack", { note: form.elements.note.value.trim() });
        location.reload();
      } catch (err) {
        showError(err);
      }
    });
  }
  // Refresh the page every minute while nobody is typing.
  setInterval(() => {
    if (!document.activeElement || document.activeElement.tagName !== "INPUT") location.reload();
  }, 60000);
})();
