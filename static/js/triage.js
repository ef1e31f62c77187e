/* Issue 13 §4 (triageui): accept the triage suggestion of the selected inbox row with one
   key ("v"). It submits the row's own accept form (assign to support, dismiss as not
   relevant) — the existing transitions, which record the labels — or opens the composer
   when the suggestion is a CM answer. No inline scripts (CSP). */
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    if (event.key !== "v" || event.ctrlKey || event.metaKey || event.altKey) return;
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || event.target.isContentEditable) return;
    var row = document.querySelector("[data-keyboard-list] tr.row.is-selected");
    var accept = row && row.querySelector("[data-action=accept-suggestion]");
    if (!accept) return;
    event.preventDefault();
    if (accept.tagName.toLowerCase() === "form") accept.requestSubmit();
    else window.location = accept.href;
  });
})();
