// A running batch's page follows its progress (Server-Sent Events, docs/moderation.md): the
// counts and the bar move as accounts are acted on; when the batch is over the page reloads
// to show every result and the undo button. The words come from the server (`status_text`).
(function () {
  "use strict";
  const section = document.getElementById("batch-progress");
  if (!section || section.dataset.status !== "running" || !window.EventSource) return;
  const set = function (id, value) {
    const el = document.getElementById(id);
    if (el) el.textContent = String(value);
  };
  const source = new EventSource(section.dataset.events);
  source.addEventListener("progress", function (event) {
    let view;
    try { view = JSON.parse(event.data); } catch (_) { return; }
    const p = view.progress;
    set("batch-status", view.status_text);
    set("batch-done", p.done);
    set("batch-already", p.already);
    set("batch-refused", p.refused);
    set("batch-pending", p.pending);
    const bar = document.getElementById("batch-bar");
    if (bar) bar.value = view.targets - p.pending;
    if (view.status === "done" || view.status === "stopped") {
      source.close();
      window.location.reload();
    }
  });
})();
