// Automatic logoff on screen: a warning a minute before the idle limit with a "Stay signed in"
// button, and the sign-in page once the server has ended the session. The server decides: this
// script only asks it (GET /session/status does not count as activity), so activity in another tab
// keeps this one open too. Settings come from data- attributes of #session-timer (templates/auth/session_timer.html).
(function () {
  "use strict";
  var box = document.getElementById("session-timer");
  if (!box) { return; }
  var warn = Number(box.dataset.warnSeconds) || 60;
  var poll = Number(box.dataset.pollSeconds) || 0;  // tests: follow a moved server clock
  var timer = null;

  function leave() { window.location.assign(box.dataset.loginUrl); }

  function show() {
    if (box.open) { return; }
    if (typeof box.showModal === "function") { box.showModal(); } else { box.setAttribute("open", ""); }
    box.querySelector("[data-stay]").focus();
  }

  function hide() {
    if (!box.open) { return; }
    if (typeof box.close === "function") { box.close(); } else { box.removeAttribute("open"); }
  }

  function schedule(remaining) {
    window.clearTimeout(timer);
    var wait;
    if (remaining > warn) {
      hide();
      wait = remaining - warn;
    } else {
      show();
      wait = remaining + 1;  // ask just after the limit: the server ends the session, then we leave
    }
    if (poll > 0) { wait = Math.min(wait, poll); }
    timer = window.setTimeout(check, Math.max(wait, 1) * 1000);
  }

  function answer(response) {
    if (response.status === 401) { leave(); return null; }
    if (!response.ok) { throw new Error("status " + response.status); }
    return response.json();
  }

  function retrySoon() { timer = window.setTimeout(check, 15000); }  // a network hiccup: ask again

  function check() {
    fetch(box.dataset.statusUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(answer).then(function (data) { if (data) { schedule(data.remaining); } }).catch(retrySoon);
  }

  function stay() {
    fetch(box.dataset.stayUrl, {method: "POST", credentials: "same-origin",
                                headers: {"Accept": "application/json", "X-CSRFToken": box.dataset.csrf}})
      .then(answer).then(function (data) { if (data) { schedule(data.remaining); } }).catch(retrySoon);
  }

  box.querySelector("[data-stay]").addEventListener("click", stay);
  // Escape would close the dialog without telling the server; treat it as "stay".
  box.addEventListener("cancel", function (event) { event.preventDefault(); stay(); });
  schedule(Number(box.dataset.remainingSeconds));
}());
