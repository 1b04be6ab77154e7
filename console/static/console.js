// The console's own script (no inline script anywhere: the CSP forbids it).
// Two jobs, both progressive: the pages work without them.
//   1. Countdowns: every element with data-due ticks each second, and its
//      clock's row takes the colour of its state (normal, warned at the
//      warning fraction, breached), computed from the server's instants so
//      a stale page never shows a wrong state for long.
//   2. Live updates: one EventSource on /console/events; each event makes
//      the page's live part (#live, hx-trigger="refresh from:body") reload
//      itself through htmx, at most every 500 ms and not while a form in
//      it is being filled in.
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

  // A live part reloads on "refresh" (hx-trigger="refresh from:body"),
  // at most every 500 ms, and never under someone's hands: while a form
  // in it is open or has focus, the reload waits until it is closed.
  var pending = null;
  function busy() {
    var live = document.getElementById("live");
    if (!live) {
      return false;
    }
    var active = document.activeElement;
    var typing = active && live.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName);
    return typing || live.querySelector("details.action[open]") !== null;
  }
  function refresh() {
    if (pending) {
      return;
    }
    pending = setTimeout(function again() {
      if (busy()) {
        pending = setTimeout(again, 1000);
        return;
      }
      pending = null;
      document.body.dispatchEvent(new CustomEvent("refresh"));
    }, 500);
  }

  function listen() {
    if (!window.EventSource || !document.body.hasAttribute("data-live")) {
      return;
    }
    var es = new EventSource("/console/events");
    es.addEventListener("changed", refresh);
    // After a lost connection the browser reconnects by itself; reload
    // once it is back, since events may have been missed meanwhile.
    var lost = false;
    es.onerror = function () { lost = true; };
    es.onopen = function () {
      if (lost) {
        lost = false;
        refresh();
      }
    };
  }

  // A command succeeded (the server's HX-Trigger "done"): close its form
  // and show the new state.
  document.addEventListener("done", function (e) {
    var form = e.target.closest ? e.target.closest("form") : null;
    if (form) {
      form.reset();
      var details = form.closest("details");
      if (details) {
        details.removeAttribute("open");
      }
    }
    refresh();
  });

  // Re-run the ticker on content htmx swapped in, so new rows tick at once.
  document.addEventListener("htmx:afterSettle", tick);
  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 1000);
    listen();
  });
})();
