// The bot-list import: a chosen file is read into the form's text field (the form posts text;
// no file leaves the browser any other way).
(function () {
  "use strict";
  const file = document.getElementById("lists-file");
  const entries = document.getElementById("lists-entries");
  if (!file || !entries) return;
  file.addEventListener("change", function () {
    const chosen = file.files && file.files[0];
    if (!chosen) return;
    chosen.text().then(function (text) {
      entries.value = text;
    });
  });
})();
