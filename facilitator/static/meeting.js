// Attendance form: changing a status fills in the usual minutes, so most rows need one choice.
// Absent or excused -> 0; present -> the meeting's length; late or left early -> 15 minutes less
// (still editable). Works without this script too: the server sets 0 minutes for absences.
(function () {
  var form = document.getElementById("attendance-form");
  if (!form) return;
  var full = parseInt(form.dataset.minutes, 10);
  form.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.classList || !select.classList.contains("status")) return;
    var minutes = select.closest("tr").querySelector("input.minutes");
    var value = { present: full, late: full - 15, left_early: full - 15, excused: 0, absent: 0 }[select.value];
    if (minutes && value !== undefined) minutes.value = Math.max(0, value);
  });
})();
