// The "Copy the link" button of the set-password link page (shown only where the clipboard works).
// Its messages come from the page (data-copied, data-select on #copy-status), in the page's language.
(function () {
  var button = document.querySelector("[data-copy]");
  if (!button || !navigator.clipboard) { return; }
  var field = document.getElementById(button.getAttribute("data-copy"));
  var status = document.getElementById("copy-status");
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(field.value).then(function () {
      status.textContent = status.dataset.copied;
    }, function () {
      field.select();
      status.textContent = status.dataset.select;
    });
  });
})();
