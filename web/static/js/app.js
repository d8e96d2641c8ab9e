// Twitch Chatters Analyser — progressive enhancement only: every page works without it.
"use strict";

// Times arrive in UTC; show them in the browser's time zone, written the page's language's
// way (UTC stays in the tooltip).
function localTimes(root) {
  const lang = document.documentElement.lang || undefined;
  for (const el of root.querySelectorAll("time[datetime]")) {
    const when = new Date(el.dateTime);
    if (Number.isNaN(when.getTime())) continue;
    el.title = el.textContent;
    el.textContent = when.toLocaleString(lang, { dateStyle: "medium", timeStyle: "short" });
  }
}

// Forms that destroy something ask first.
function confirmations() {
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text == null ? "" : String(text);
  return td;
}

function timeCell(t, field) {
  const td = document.createElement("td");
  if (field) td.dataset.field = field;
  if (t) {
    const el = document.createElement("time");
    el.dateTime = t.iso;
    el.textContent = t.utc;
    td.append(el);
  }
  return td;
}

// One row of the captures table, built from data (never from HTML strings).
function captureRow(c) {
  const tr = document.createElement("tr");
  tr.id = "capture-" + c.id;
  tr.dataset.status = c.status;
  const status = document.createElement("td");
  status.dataset.field = "status";
  const badge = document.createElement("span");
  badge.className = "status status-" + c.status;
  badge.textContent = c.status_label;
  status.append(badge);
  if (c.error) {
    const err = document.createElement("div");
    err.className = "error-text";
    err.textContent = c.error;
    status.append(err);
  }
  const chatters = cell(c.chatters == null ? "…" : c.chatters);
  chatters.dataset.field = "chatters";
  const fresh = cell(c.new_in_session);
  fresh.dataset.field = "new";
  const viewers = cell(c.viewers);
  viewers.dataset.field = "viewers";
  tr.append(cell(c.id), cell(c.channel), cell(c.trigger_label), status, chatters, fresh, viewers,
            timeCell(c.queued), timeCell(c.finished, "finished"));
  return tr;
}

// The session page follows its captures live (Server-Sent Events).
function liveProgress() {
  const live = document.getElementById("live");
  if (!live || !window.EventSource) return;
  const source = new EventSource(live.dataset.events);
  source.addEventListener("progress", (event) => {
    const progress = JSON.parse(event.data);
    const body = document.getElementById("capture-rows");
    body.replaceChildren(...progress.captures.map(captureRow));
    localTimes(body);
    document.getElementById("distinct-accounts").textContent = progress.distinct_accounts;
    document.getElementById("capture-count").textContent = progress.captures.length;
    const empty = document.getElementById("no-captures");
    if (empty && progress.captures.length > 0) empty.remove();
  });
}

// An avatar Twitch's CDN cannot serve (offline demo, deleted picture) is hidden, not broken.
function hideBrokenImages() {
  for (const img of document.querySelectorAll("img.avatar")) {
    const hide = () => { img.hidden = true; };
    if (img.complete && img.naturalWidth === 0) hide();
    img.addEventListener("error", hide);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  hideBrokenImages();
  localTimes(document);
  confirmations();
  liveProgress();
});
