// Workbook: saves the worksheet as a draft a moment after the participant stops typing, so nothing
// written on a phone is lost. The "Save draft" button does the same without this script. The
// messages come from the server or from the page (data-offline), never from here.
(function () {
  var form = document.getElementById("workbook-form"), status = document.getElementById("autosave-status");
  if (!form || !status || !window.fetch || !window.FormData) return;
  var timer = null, busy = false, again = false, token = form.querySelector("input[name=csrf_token]");

  function show(text, failed) {
    status.textContent = text;
    status.classList.toggle("error", !!failed);
  }

  function save() {
    if (busy) { again = true; return; }
    busy = true;
    // FormData leaves the buttons out, so the server saves a draft and never submits.
    fetch(form.action, {method: "POST", body: new FormData(form), credentials: "same-origin",
                        headers: {"Accept": "application/json", "X-CSRFToken": token ? token.value : ""}})
      .then(function (r) { return r.json().then(function (body) { show(body.message, !r.ok || !body.saved); }); })
      .catch(function () { show(form.dataset.offline, true); })
      .then(function () {
        busy = false;
        if (again) { again = false; save(); }
      });
  }

  function later() { clearTimeout(timer); timer = setTimeout(save, 1200); }
  form.addEventListener("input", later);
  form.addEventListener("change", later);
  // A submit (either button) goes as a normal form post; a save still waiting is not needed then.
  form.addEventListener("submit", function () { clearTimeout(timer); });
})();
