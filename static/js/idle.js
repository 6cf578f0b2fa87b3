/*
 * The idle warning. The server ends a session after SESSION_IDLE_SECONDS without a request
 * that counts as activity (accounts.middleware.IdleTimeoutMiddleware; the navigation's poll
 * does not count). A minute before (half the time, if that is shorter) this shows the dialog
 * in base.html; "Fortsätt arbeta" posts to the keep-alive address, which counts. When the time
 * has run out the browser goes to the login page, coming back here after signing in, so that
 * no thread and no patient stays on the screen of a computer left alone.
 *
 * Typing counts too: text being written in a form sends the keep-alive itself, at most once
 * every half of the time before the warning, so a reply written slowly is not lost.
 *
 * Drafts are not kept for after the timeout: they hold patient data, and the browser's storage
 * outlives the session (Chromium writes sessionStorage to disk to restore tabs) on computers
 * that care staff share. Only the time of the last activity is shared between tabs, in
 * localStorage, so that work in one tab keeps another from warning.
 *
 * Reads from <body>: data-idle-seconds, data-idle-passive (paths that are not activity),
 * data-keep-alive-url, data-login-url, and the CSRF token from hx-headers.
 */
(function () {
  "use strict";

  var body = document.body;
  var idleSeconds = Number(body.dataset.idleSeconds);
  var dialog = document.getElementById("idle-warning");
  if (!idleSeconds || !dialog || typeof dialog.showModal !== "function") {
    return; // signed out, or a page without the warning
  }
  var countdown = document.getElementById("idle-warning-countdown");
  var button = document.getElementById("idle-warning-continue");
  var passive = (body.dataset.idlePassive || "").split(" ").filter(Boolean);
  var idleMs = idleSeconds * 1000;
  var leadMs = Math.min(60000, idleMs / 2);
  // The server counts whole seconds from when it handled the request: leave only once it has
  // surely ended the session, or the login page would just send us back.
  var graceMs = 2000;
  var storageKey = "fbl-last-activity";
  var lastActivity = Date.now();
  var sending = false;
  var leaving = false;
  var returnFocus = null;

  function shared() {
    try {
      return Number(window.localStorage.getItem(storageKey)) || 0;
    } catch (error) {
      return 0; // storage blocked: each tab keeps its own time
    }
  }

  function noteActivity() {
    lastActivity = Math.max(lastActivity, Date.now());
    try {
      window.localStorage.setItem(storageKey, String(lastActivity));
    } catch (error) {
      // storage blocked: nothing to share
    }
  }

  function csrfToken() {
    try {
      return JSON.parse(body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  function leave() {
    if (leaving) {
      return;
    }
    leaving = true;
    var back = window.location.pathname + window.location.search;
    window.location.assign(body.dataset.loginUrl + "?next=" + encodeURIComponent(back));
  }

  function keepAlive() {
    if (sending) {
      return;
    }
    sending = true;
    window
      .fetch(body.dataset.keepAliveUrl, {
        method: "POST",
        headers: { "X-CSRFToken": csrfToken() },
        credentials: "same-origin",
        redirect: "manual",
      })
      .then(function (response) {
        sending = false;
        if (response.status === 204) {
          noteActivity();
          hide();
        } else {
          leave(); // the session had already ended: sent to the login page
        }
      })
      .catch(function () {
        sending = false; // offline for a moment: the button or the next keystroke tries again
      });
  }

  function show(left) {
    countdown.textContent = String(Math.max(0, Math.ceil(left / 1000)));
    if (dialog.open) {
      return;
    }
    returnFocus = document.activeElement;
    dialog.showModal();
    button.focus();
  }

  function hide() {
    if (!dialog.open) {
      return;
    }
    dialog.close();
    if (returnFocus && typeof returnFocus.focus === "function") {
      returnFocus.focus();
    }
  }

  function tick() {
    lastActivity = Math.max(lastActivity, shared());
    var left = lastActivity + idleMs - Date.now();
    if (left <= -graceMs) {
      leave();
    } else if (left <= leadMs) {
      show(left);
    } else {
      hide(); // another tab kept the session alive
    }
  }

  button.addEventListener("click", keepAlive);
  // Escape is someone at the keyboard: it continues too, rather than hiding the warning.
  dialog.addEventListener("cancel", function (event) {
    event.preventDefault();
    keepAlive();
  });
  // Halfway to the warning: often enough that someone typing never sees it, seldom enough to
  // cost next to nothing (every 14½ minutes with the default 30).
  document.addEventListener("input", function () {
    if (Date.now() - lastActivity > (idleMs - leadMs) / 2) {
      keepAlive();
    }
  });
  // htmx requests count, as on the server, except the polls listed as passive.
  body.addEventListener("htmx:afterRequest", function (event) {
    var info = event.detail && event.detail.pathInfo;
    if (!event.detail.successful || !info) {
      return;
    }
    var path = new URL(info.requestPath, window.location.href).pathname;
    if (passive.indexOf(path) === -1) {
      noteActivity();
    }
  });
  noteActivity();
  window.setInterval(tick, 1000);
})();
