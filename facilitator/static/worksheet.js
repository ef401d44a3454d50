// Worksheet editor. Live preview: after a pause in typing, ask the server for the printed page of the
// fields as typed. Changing a field's type shows that type's settings. The page works without this script too.
(function () {
  var form = document.getElementById("worksheet-form"), frame = document.getElementById("preview-frame");
  if (!form || !frame || !window.fetch || !window.FormData) return;
  var timer = null;
  function refresh() {
    fetch(form.dataset.preview, {method: "POST", body: new FormData(form), credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null) frame.srcdoc = html; });
  }
  function later() { clearTimeout(timer); timer = setTimeout(refresh, 400); }
  form.addEventListener("input", later);
  form.addEventListener("change", function (event) {
    var select = event.target;
    if (select.classList && select.classList.contains("cu-type")) {
      select.closest("fieldset").querySelectorAll("[data-for]").forEach(function (box) {
        box.hidden = box.dataset.for.split(" ").indexOf(select.value) < 0;
      });
    }
    later();
  });
})();
