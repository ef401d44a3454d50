// The "Copy the link" button of the set-password link page (shown only where the clipboard works).
(function () {
  var button = document.querySelector("[data-copy]");
  if (!button || !navigator.clipboard) { return; }
  var field = document.getElementById(button.getAttribute("data-copy"));
  var status = document.getElementById("copy-status");
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(field.value).then(function () {
      status.textContent = "Copied.";
    }, function () {
      field.select();
      status.textContent = "Select the link and copy it.";
    });
  });
})();
