// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // Filter the students table as you type; the search form still submits to the server without JS.
  function liveFilter() {
    var input = document.getElementById("q");
    var table = document.getElementById("students");
    if (!input || !table) { return; }
    input.addEventListener("input", function () {
      var needle = input.value.trim().toLowerCase();
      table.querySelectorAll("tbody tr[data-student]").forEach(function (row) {
        var id = (row.getAttribute("data-student") || "").toLowerCase();
        row.hidden = needle !== "" && id.indexOf(needle) === -1;
      });
    });
  }

  // Poll a running batch's progress; reload once it has ended so the server renders the summary.
  function pollBatch() {
    var bar = document.getElementById("batch-progress");
    if (!bar || bar.getAttribute("data-state") !== "running") { return; }
    var url = bar.getAttribute("data-url");
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (doc) {
          if (!doc) { return; }
          bar.max = doc.total; bar.value = doc.done;
          ["done", "total", "failed", "changed"].forEach(function (key) {
            bar.setAttribute("data-" + key, String(doc[key]));
            var field = document.querySelector('#batch-progress-text [data-field="' + key + '"]');
            if (field) { field.textContent = String(doc[key]); }
          });
          if (doc.state !== "running") { window.location.reload(); return; }
          window.setTimeout(tick, 2000);
        })
        .catch(function () { window.setTimeout(tick, 5000); });
    }
    window.setTimeout(tick, 2000);
  }

  document.addEventListener("DOMContentLoaded", function () { liveFilter(); pollBatch(); });
})();
