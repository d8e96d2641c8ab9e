// The session's read-only analysis views (`/sessions/{id}/data/…`) as the dashboard's and the
// cohort page's scripts read them: `sessionData(root)` gives `data(path, extra)`, a GET with the
// page's filter (from `root`'s `data-base` and `data-filter`) that throws the server's sentence.
"use strict";

window.sessionData = function (root) {
  const base = root.dataset.base;
  const filter = root.dataset.filter;
  return async function data(path, extra) {
    const params = new URLSearchParams(filter);
    for (const [k, v] of Object.entries(extra || {})) params.set(k, v);
    const query = params.toString();
    const response = await fetch(`${base}/data/${path}${query ? "?" + query : ""}`, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!response.ok) {
      let message = `${response.status}`;
      try { message = (await response.json()).error || message; } catch (_) { /* not JSON */ }
      throw new Error(message);
    }
    return response.json();
  };
};

// One account of a drill-down list: its link, its moderator's label (a badge, in the page's
// language) and its score.
window.accountItem = function (a, base) {
  const li = document.createElement("li");
  const link = document.createElement("a");
  link.href = `${base}/accounts/${a.twitch_user_id}`;
  link.textContent = a.login;
  li.append(link);
  if (a.label) {
    const badge = document.createElement("span");
    badge.className = `badge label-${a.label}`;
    badge.dataset.label = a.label;
    badge.textContent = tr(`label-${a.label}`);
    li.append(" ", badge);
  }
  li.append(` — ${tr("js-score", { score: a.score })}`);
  return li;
};
