// The document job page: poll the job's state, move the progress bar, open the PDF when it is ready.
// Without this script the page reloads every five seconds (<noscript> refresh).
(function () {
  var box = document.getElementById("job");
  var bar = document.getElementById("job-progress");
  if (!bar) { return; }
  function poll() {
    fetch(box.dataset.statusUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (s) {
        bar.max = Math.max(s.total, 1); bar.value = Math.min(s.done, bar.max);
        document.getElementById("job-done").textContent = s.done;
        document.getElementById("job-total").textContent = s.total;
        if (s.status === "done") { window.location.href = s.file; return; }
        if (s.status === "failed") { window.location.reload(); return; }
        setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 1000);
})();
