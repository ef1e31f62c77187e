/* The information centre in the composer: one click inserts a link to an article, its best
   passage or a past answer into the reply draft at the cursor. The server records the
   insertion and answers its id, which the composer sends with the draft (so the use is
   counted once the reply is sent). Plain JS, no inline handlers (CSP). */
(function () {
  "use strict";

  function insertAtCursor(area, text) {
    var value = area.value, start = area.selectionStart, end = area.selectionEnd;
    if (typeof start !== "number") { start = end = value.length; }
    var before = value.slice(0, start), after = value.slice(end);
    var gap = before && !/\s$/.test(before) ? (text.length > 80 ? "\n\n" : " ") : "";
    var inserted = gap + text;
    area.value = before + inserted + after;
    var caret = before.length + inserted.length;
    area.setSelectionRange(caret, caret);
    area.focus();
    area.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function keepUse(form, useId) {
    var holder = document.getElementById("knowledge-uses") || form;
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = "knowledge_use";
    input.value = String(useId);
    holder.appendChild(input);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-insert-knowledge]");
    if (!button) return;
    var panel = button.closest("[data-insert-url]");
    var form = document.getElementById("composer-form");
    var area = document.getElementById("reply-text");
    var status = document.getElementById("suggestions-status");
    if (!panel || !form || !area) return;
    var token = form.querySelector("input[name=csrfmiddlewaretoken]");
    var mention = document.getElementById("reply-mention");
    var body = new FormData();
    body.append("mode", button.dataset.mode);
    if (button.dataset.article) body.append("article", button.dataset.article);
    if (button.dataset.answer) body.append("answer", button.dataset.answer);
    if (mention && mention.value) body.append("mention", mention.value);
    button.disabled = true;
    fetch(panel.dataset.insertUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": token ? token.value : "" }
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (result) {
      button.disabled = false;
      if (!result.ok) { if (status) status.textContent = result.data.detail || ""; return; }
      insertAtCursor(area, result.data.text);
      keepUse(form, result.data.use);
      if (status) status.textContent = panel.dataset.doneLabel || "";
      button.classList.add("is-inserted");
    }).catch(function () { button.disabled = false; });
  });
})();
