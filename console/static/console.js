// The console's own script (no inline script anywhere: the CSP forbids it).
// Two jobs, both progressive: the pages work without them.
//   1. Countdowns: every element with data-due ticks each second, and its
//      clock's row takes the colour of its state (normal, warned at the
//      warning fraction, breached), computed from the server's instants so
//      a stale page never shows a wrong state for long.
//   2. Live updates: one EventSource on /console/events; each event makes
//      the parts of the page that listen for "changed" (hx-trigger="changed
//      from:body") reload themselves through htmx, at most every 500 ms.
(function () {
  "use strict";

  // "2d 03:04:05" or "03:04:05"; negative durations are shown as overdue.
  function span(ms) {
    var s = Math.floor(Math.abs(ms) / 1000);
    var d = Math.floor(s / 86400);
    s -= d * 86400;
    var h = Math.floor(s / 3600);
    s -= h * 3600;
    var m = Math.floor(s / 60);
    s -= m * 60;
    var two = function (n) { return (n < 10 ? "0" : "") + n; };
    return (d > 0 ? d + "d " : "") + two(h) + ":" + two(m) + ":" + two(s);
  }

  function tick() {
    var now = Date.now();
    var clocks = document.querySelectorAll("[data-due]");
    for (var i = 0; i < clocks.length; i++) {
      var el = clocks[i];
      if (el.dataset.state === "met" || el.dataset.state === "paused") {
        continue; // the server's text stands: nothing runs
      }
      var due = Date.parse(el.dataset.due);
      if (isNaN(due)) {
        continue;
      }
      var left = due - now;
      var state = "normal";
      if (left <= 0) {
        state = "breached";
      } else if (el.dataset.warn && now >= Date.parse(el.dataset.warn)) {
        state = "warned";
      }
      el.textContent = left > 0 ? "due in " + span(left) : "overdue by " + span(left);
      var holder = el.closest("[data-clock-state]") || el;
      holder.setAttribute("data-clock-state", state);
    }
  }

  function listen() {
    if (!window.EventSource || !document.body.hasAttribute("data-live")) {
      return;
    }
    var pending = null;
    var changed = function () {
      if (pending) {
        return;
      }
      pending = setTimeout(function () {
        pending = null;
        document.body.dispatchEvent(new CustomEvent("changed"));
      }, 500);
    };
    var es = new EventSource("/console/events");
    es.addEventListener("changed", changed);
    // After a lost connection the browser reconnects by itself; reload
    // once it is back, since events may have been missed meanwhile.
    var lost = false;
    es.onerror = function () { lost = true; };
    es.onopen = function () {
      if (lost) {
        lost = false;
        changed();
      }
    };
  }

  // Re-run the ticker on content htmx swapped in, so new rows tick at once.
  document.addEventListener("htmx:afterSettle", tick);
  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 1000);
    listen();
  });
})();
