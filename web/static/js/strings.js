// The words the page's scripts show, handed over by the page in the reader's language
// (`<script type="application/json" id="script-messages">`, see docs/i18n.md): scripts never
// hard-code text. `tr("js-chart-failed", { error })` fills `%error%`.
"use strict";

window.tr = (function () {
  const el = document.getElementById("script-messages");
  let messages = {};
  try { messages = el ? JSON.parse(el.textContent) : {}; } catch (_) { /* keys are shown */ }
  return function (key, args) {
    let text = messages[key] || key;
    for (const [name, value] of Object.entries(args || {})) {
      text = text.split(`%${name}%`).join(String(value));
    }
    return text;
  };
})();

// ECharts' own words (months, data zoom) in the page's language.
window.chartLocale = document.documentElement.lang === "fr" ? "FR" : "EN";
