// cccwatch review workspace: keyboard shortcuts and bulk selection.
// Served from /static under a CSP that forbids inline script; the pages work
// without it (every action is a plain link or form).
(function () {
  "use strict";

  function typing(e) {
    var t = e.target;
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  }

  function byId(id) { return document.getElementById(id); }

  // ---- queue: focus a row with j/k, open with Enter/o, select with x ----
  var rows = Array.prototype.slice.call(document.querySelectorAll("table.queue tbody tr[data-href]"));
  var focused = -1;
  function focusRow(i) {
    if (!rows.length) { return; }
    i = Math.max(0, Math.min(rows.length - 1, i));
    if (focused >= 0) { rows[focused].classList.remove("focused"); }
    focused = i;
    rows[i].classList.add("focused");
    rows[i].scrollIntoView({ block: "nearest" });
  }

  function updateCount() {
    var n = document.querySelectorAll("input[name=ids]:checked").length;
    var c = byId("selected-count");
    if (c) { c.textContent = String(n); }
  }

  var all = byId("select-all");
  if (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll("input[name=ids]").forEach(function (b) { b.checked = all.checked; });
      updateCount();
    });
  }
  document.querySelectorAll("input[name=ids]").forEach(function (b) { b.addEventListener("change", updateCount); });

  var bulk = byId("bulk");
  if (bulk) {
    bulk.addEventListener("submit", function (e) {
      var n = document.querySelectorAll("input[name=ids]:checked").length;
      if (n === 0) { e.preventDefault(); alert("请先勾选要批量处理的条目"); return; }
      var action = byId("bulk-action");
      var label = action ? action.options[action.selectedIndex].text : "";
      if (!confirm("确定对勾选的 " + n + " 条执行“" + label + "”？")) { e.preventDefault(); }
    });
  }

  function click(id) { var el = byId(id); if (el) { el.click(); return true; } return false; }
  function go(id) { var el = byId(id); if (el && el.href) { window.location.href = el.href; return true; } return false; }

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e)) { return; }
    var help = byId("help");
    switch (e.key) {
      case "?":
        if (help) { help.hidden = !help.hidden; }
        break;
      case "Escape":
        if (help) { help.hidden = true; }
        break;
      case "j":
        if (rows.length) { focusRow(focused + 1); } else { return; }
        break;
      case "k":
        if (rows.length) { focusRow(focused - 1); } else { return; }
        break;
      case "Enter":
      case "o":
        if (focused >= 0) { window.location.href = rows[focused].getAttribute("data-href"); } else { return; }
        break;
      case "x":
        if (focused >= 0) {
          var box = rows[focused].querySelector("input[name=ids]");
          if (box) { box.checked = !box.checked; updateCount(); }
        } else { return; }
        break;
      case "n":
        if (!go("next-link")) { go("next-page"); }
        break;
      case "u":
        go("back-link");
        break;
      case "c":
        if (!click("confirm-button")) { return; }
        break;
      case "d":
        var reason = byId("dismiss-reason");
        if (reason) { reason.focus(); } else { return; }
        break;
      case "i":
        var note = byId("info-note");
        if (note) { note.focus(); } else { return; }
        break;
      default:
        return;
    }
    e.preventDefault();
  });
})();

// Forms that ask before they act (issuing a notice): data-confirm holds the question.
document.querySelectorAll("form[data-confirm]").forEach(function (f) {
  f.addEventListener("submit", function (e) {
    if (!confirm(f.getAttribute("data-confirm"))) { e.preventDefault(); }
  });
});
