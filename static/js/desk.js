/* Social Service Desk: keyboard shortcuts, SLA countdowns, the character counter, typing
   presence and the live inbox. Plain JS, no build step. */
(function () {
  "use strict";

  // ---- SLA countdowns -------------------------------------------------------------------
  function formatRemaining(seconds) {
    var overdue = seconds < 0;
    seconds = Math.abs(Math.trunc(seconds));
    var hours = Math.floor(seconds / 3600), minutes = Math.floor((seconds % 3600) / 60), secs = seconds % 60;
    var text;
    if (hours >= 24) text = Math.floor(hours / 24) + "d " + (hours % 24) + "h";
    else if (hours) text = hours + "h " + String(minutes).padStart(2, "0") + "m";
    else text = minutes + ":" + String(secs).padStart(2, "0");
    return (overdue ? "\u2212" : "") + text;
  }
  function tickCountdowns() {
    var now = Date.now();
    document.querySelectorAll(".sla[data-due]").forEach(function (el) {
      var due = Date.parse(el.dataset.due);
      if (isNaN(due)) return;
      var warn = el.dataset.warn ? Date.parse(el.dataset.warn) : NaN;
      var remaining = (due - now) / 1000, level, word;
      if (remaining < 0) { level = "breached"; word = el.dataset.labelBreached; }
      else if (!isNaN(warn) && now >= warn) { level = "at-risk"; word = el.dataset.labelRisk; }
      else { level = "ok"; word = el.dataset.labelOk; }
      el.className = "sla sla-" + level;
      el.querySelector(".sla-word").textContent = word;
      el.querySelector(".sla-time").textContent = formatRemaining(remaining);
    });
  }
  setInterval(tickCountdowns, 1000);

  // ---- composer: counter, submit label, template kind, typing flag -----------------------
  var typingTimer = null;
  function updateCounter() {
    var text = document.getElementById("reply-text"), counter = document.getElementById("char-counter");
    if (!text || !counter) return;
    var length = Array.from(text.value).length, limit = parseInt(text.dataset.limit || "", 10);
    counter.textContent = isNaN(limit) ? String(length) : length + " / " + limit;
    counter.classList.toggle("is-over", !isNaN(limit) && length > limit);
  }
  function updateSubmitLabel() {
    var visibility = document.getElementById("reply-visibility"), button = document.getElementById("reply-submit");
    if (!visibility || !button) return;
    button.textContent = visibility.value === "private" ? button.dataset.labelPrivate : button.dataset.labelPublic;
  }
  document.addEventListener("input", function (event) {
    if (event.target.id === "reply-text") {
      updateCounter();
      var flag = document.getElementById("typing-flag");
      if (flag) {
        flag.value = "1";
        clearTimeout(typingTimer);
        typingTimer = setTimeout(function () { flag.value = "0"; }, 10000);
      }
    }
  });
  document.addEventListener("change", function (event) {
    if (event.target.id === "reply-visibility") updateSubmitLabel();
    // issue 17: a page-size choice applies at once
    if (event.target.matches("select[data-autosubmit]") && event.target.form) event.target.form.requestSubmit();
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var text = document.getElementById("reply-text");
    if (text && text.dataset.templateKind && !text.dataset.kindApplied) {
      var select = document.getElementById("reply-kind"), kind = text.dataset.templateKind;
      if (select && select.querySelector('option[value="' + kind + '"]')) select.value = kind;
      text.dataset.kindApplied = "1";
    }
    updateCounter();
    if (event.detail.target && event.detail.target.id === "inbox-incoming") mergeIncoming(event.detail.target);
  });

  // ---- live inbox ------------------------------------------------------------------------
  var newCount = 0;
  // issue 17: a live row goes where the inbox's SLA order puts it (breached first, then by
  // deadline, none last, then by arrival), not on top.
  function slaKey(row) {
    var due = parseInt(row.dataset.due || "", 10), opened = parseInt(row.dataset.opened || "", 10);
    return [row.dataset.breached === "1" ? 0 : 1, isNaN(due) ? Infinity : due, isNaN(opened) ? Infinity : opened,
      parseInt(row.dataset.ticket || "0", 10)];
  }
  function sortsBefore(a, b) {
    for (var i = 0; i < a.length; i += 1) { if (a[i] !== b[i]) return a[i] < b[i]; }
    return false;
  }
  function insertInOrder(body, row) {
    var key = slaKey(row);
    var later = Array.from(body.querySelectorAll("tr.row")).find(function (other) { return sortsBefore(key, slaKey(other)); });
    body.insertBefore(row, later || null);
  }
  function mergeIncoming(incoming) {
    var body = document.getElementById("inbox-body");
    if (!body) return;
    var marker = incoming.querySelector("tr[data-since]");
    if (marker) document.getElementById("inbox-since").value = marker.dataset.since;
    var added = 0;
    Array.from(incoming.querySelectorAll("tr.row")).forEach(function (row) {
      var existing = body.querySelector("#" + CSS.escape(row.id));
      if (existing) {
        var box = existing.querySelector('input[type=checkbox]');
        var checked = box && box.checked, selected = existing.classList.contains("is-selected");
        existing.remove();
        if (checked) row.querySelector('input[type=checkbox]').checked = true;
        if (selected) row.classList.add("is-selected");
      } else {
        row.classList.add("is-new");
        added += 1;
      }
      insertInOrder(body, row);
      if (window.htmx) htmx.process(row);
    });
    incoming.innerHTML = "";
    if (added) {
      var empty = body.querySelector(".empty-row");
      if (empty) empty.remove();
      newCount += added;
      var banner = document.getElementById("new-banner"), text = banner.querySelector(".new-banner-text");
      text.textContent = newCount === 1 ? text.dataset.one : text.dataset.many.replace("%(count)s", newCount);
      banner.hidden = false;
    }
  }

  // ---- selection, bulk ---------------------------------------------------------------------
  function updateBulkCount() {
    var counter = document.getElementById("bulk-count");
    if (counter) counter.textContent = document.querySelectorAll('input[name=tickets][form=bulk-form]:checked').length;
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches('[data-action=check-all]')) {
      document.querySelectorAll('input[name=tickets][form=bulk-form]').forEach(function (box) { box.checked = event.target.checked; });
    }
    updateBulkCount();
  });
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target.closest('[data-action=dismiss-banner]')) {
      document.getElementById("new-banner").hidden = true; newCount = 0;
    }
    if (target.closest('[data-action=help]')) toggleHelp(true);
    if (target.closest('[data-action=close-help]') || target.id === "help-overlay") toggleHelp(false);
    var row = target.closest("tr.row");
    if (row && !target.closest("a, button, input, select, summary, details, label")) select(row);
  });

  // ---- keyboard ----------------------------------------------------------------------------
  function rows() { return Array.from(document.querySelectorAll("[data-keyboard-list] tbody tr.row")); }
  function selected() { return document.querySelector("[data-keyboard-list] tr.row.is-selected"); }
  function select(row) {
    rows().forEach(function (other) { other.classList.remove("is-selected"); });
    if (!row) return;
    row.classList.add("is-selected");
    row.scrollIntoView({ block: "nearest" });
  }
  function move(step) {
    var list = rows(); if (!list.length) return;
    var index = list.indexOf(selected());
    select(list[Math.max(0, Math.min(list.length - 1, index < 0 ? 0 : index + step))]);
  }
  function toggleHelp(show) {
    var overlay = document.getElementById("help-overlay");
    if (overlay) overlay.hidden = !show;
  }
  // ---- issue 17: the selection survives an action (the page reloads after a row's form) ---
  var SELECTION_KEY = "desk-selection:" + location.pathname;
  function rememberSelection() {
    var row = selected(), list = rows(), index = list.indexOf(row);
    var after = row ? (list[index + 1] || list[index - 1]) : null;
    var checked = Array.from(document.querySelectorAll("input[name=tickets][form=bulk-form]:checked")).map(function (box) { return box.value; });
    try {
      sessionStorage.setItem(SELECTION_KEY, JSON.stringify({ row: row ? row.id : "", after: after ? after.id : "", checked: checked }));
    } catch (error) { /* storage off: the selection starts afresh */ }
  }
  function restoreSelection() {
    var saved = null;
    try { saved = JSON.parse(sessionStorage.getItem(SELECTION_KEY) || "null"); sessionStorage.removeItem(SELECTION_KEY); } catch (error) { saved = null; }
    if (!saved) return;
    (saved.checked || []).forEach(function (value) {
      var box = document.querySelector('input[name=tickets][form=bulk-form][value="' + CSS.escape(value) + '"]');
      if (box) box.checked = true;
    });
    updateBulkCount();
    // the acted-on row if it is still listed, else the one that followed it
    var row = (saved.row && document.getElementById(saved.row)) || (saved.after && document.getElementById(saved.after));
    if (row && row.matches("[data-keyboard-list] tr.row")) select(row);
  }
  document.addEventListener("submit", function (event) {
    if (event.target.closest("[data-keyboard-list] tr.row") || event.target.id === "bulk-form") rememberSelection();
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var tag = (event.target.tagName || "").toLowerCase();
    // issue 17: Enter in the dismiss popover (on its reason or duplicate field) dismisses
    var popoverForm = event.key === "Enter" && event.target.closest("details[data-action=dismiss] form");
    if (popoverForm && (tag === "select" || tag === "input")) {
      event.preventDefault();
      popoverForm.requestSubmit();
      return;
    }
    if (event.key === "Escape") {
      toggleHelp(false);
      document.querySelectorAll("details[open]").forEach(function (open) { open.removeAttribute("open"); });
      return;
    }
    if (tag === "input" || tag === "textarea" || tag === "select" || event.target.isContentEditable) return;
    var row = selected();
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "Enter": if (row) window.location = row.dataset.href; else return; break;
      case "a": if (row && row.querySelector("form[data-action=assign]")) row.querySelector("form[data-action=assign]").requestSubmit(); else return; break;
      case "d":
        if (row && row.querySelector("details[data-action=dismiss]")) {
          var details = row.querySelector("details[data-action=dismiss]"); details.open = true;
          var first = details.querySelector("select"); if (first) first.focus();
        } else return;
        break;
      case "r":
        if (row && row.querySelector("[data-action=reply]")) window.location = row.querySelector("[data-action=reply]").href;
        else if (document.getElementById("reply-text")) document.getElementById("reply-text").focus();
        else return;
        break;
      case "/":
        var search = document.querySelector("input[type=search], [data-search-input]");
        var link = document.querySelector('.mainnav a[href*="search"]');
        if (search) search.focus(); else if (link) window.location = link.href; else return;
        break;
      case "?": toggleHelp(true); break;
      default: return;
    }
    event.preventDefault();
  });

  document.addEventListener("DOMContentLoaded", function () { tickCountdowns(); updateCounter(); updateSubmitLabel(); restoreSelection(); });
})();
