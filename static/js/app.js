/* FinancialTracker: the small bridge between Socket.IO signals, htmx and toasts.
   Loaded with `defer` in <head>, so it runs once and survives hx-boost navigation. */
(function () {
  "use strict";
  var body = document.body;

  function toast(level, text) {
    var template = document.getElementById("toast-template");
    var region = document.getElementById("toasts");
    if (!template || !region || !text) return;
    var node = template.content.firstElementChild.cloneNode(true);
    node.classList.add("toast--" + (level || "info"));
    node.querySelector(".toast__text").textContent = text;
    region.appendChild(node);
    while (region.children.length > 5) region.removeChild(region.firstElementChild);
  }

  // HX-Trigger: {"toast": [{"level": "success", "text": "..."}]}
  body.addEventListener("toast", function (e) {
    var items = Array.isArray(e.detail) ? e.detail : (e.detail && e.detail.value) || [];
    items.forEach(function (t) { toast(t.level, t.text); });
  });

  body.addEventListener("click", function (e) {
    var close = e.target.closest(".toast__close");
    if (close) close.parentElement.remove();
  });

  // Boosted navigation to an error page shows that page; a failed fragment request shows a toast.
  body.addEventListener("htmx:beforeSwap", function (e) {
    if (e.detail.boosted && e.detail.xhr.status >= 400) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });

  // A live refresh never wipes what someone is entering (a chosen file, typed text): the
  // fragment stays as it is until the next signal or poll, or until they submit, and the user
  // is told once that what they see has changed meanwhile.
  function hasUserInput(root) {
    var fields = root && root.querySelectorAll ? root.querySelectorAll("input, textarea") : [];
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i];
      if (f.type === "file") { if (f.files && f.files.length) return true; }
      else if (f.type === "checkbox" || f.type === "radio") { if (f.checked !== f.defaultChecked) return true; }
      else if (f.type !== "hidden" && f.value !== f.defaultValue) return true;
    }
    return false;
  }
  body.addEventListener("htmx:beforeSwap", function (e) {
    var config = e.detail.requestConfig;
    var live = config && config.headers && config.headers["X-Live-Refresh"];
    var target = e.detail.target;
    if (!live || !hasUserInput(target)) return;
    e.detail.shouldSwap = false;
    if (!target.dataset.stale) {
      target.dataset.stale = "1";
      toast("info", body.dataset.staleText);
    }
  });
  body.addEventListener("htmx:afterSwap", function (e) {
    if (e.detail.target && e.detail.target.dataset) delete e.detail.target.dataset.stale;
  });
  body.addEventListener("htmx:responseError", function (e) {
    var doc = new DOMParser().parseFromString(e.detail.xhr.responseText || "", "text/html");
    var text = doc.querySelector("[data-error-text]");
    toast("error", text ? text.textContent.trim() : (e.detail.xhr.status + " " + e.detail.xhr.statusText));
  });
  body.addEventListener("htmx:sendError", function () {
    toast("error", body.dataset.offlineText || "Network error");
  });

  // Live signals: {"event": "area:verb", ...ids} becomes an htmx event on <body>;
  // fragments listen with hx-trigger="area:verb from:body" and fetch their own HTML.
  if (window.io && !window.ftSocket) {
    var socket = (window.ftSocket = window.io({ withCredentials: true }));
    socket.on("notify", function (m) {
      if (!m || typeof m.event !== "string") return;
      htmx.trigger(body, m.event, m);
      if (m.event === "notification:new" && m.notification_id) {
        htmx.ajax("GET", "/notifications/" + encodeURIComponent(m.notification_id) + "/toast",
          { target: "#toasts", swap: "beforeend" });
      }
    });
    socket.on("connect", function () {
      document.documentElement.dataset.live = "on";
      joined = {};  // a reconnection starts with no room: join the open thread again
      joinThread();
    });
    socket.on("disconnect", function () { document.documentElement.dataset.live = "off"; });

    // Conversations: join the open thread's room (permission-checked by the server), say when
    // we type (at most every 3 s) and show who else types (for 6 s).
    var joined = {}, lastTyping = 0, typingTimer = null;
    var joinThread = function () {
      var box = document.getElementById("typing");
      if (!box || !socket.connected || joined[box.dataset.thread]) return;
      joined[box.dataset.thread] = true;
      socket.emit("subscribe", { room: "thread:" + box.dataset.thread });
    };
    body.addEventListener("htmx:load", joinThread);
    body.addEventListener("input", function (e) {
      var box = document.getElementById("typing");
      if (!box || !e.target || e.target.id !== "message-body") return;
      var now = Date.now();
      if (now - lastTyping < 3000) return;
      lastTyping = now;
      socket.emit("typing", { thread_id: parseInt(box.dataset.thread, 10) });
    });
    socket.on("notify", function (m) {
      var box = document.getElementById("typing");
      if (!m || m.event !== "thread:typing" || !box || String(m.thread_id) !== box.dataset.thread) return;
      var names = {};
      try { names = JSON.parse(box.dataset.names || "{}"); } catch (err) { names = {}; }
      box.textContent = (box.dataset.text || "").replace("{name}", names[String(m.user_id)] || "");
      clearTimeout(typingTimer);
      typingTimer = setTimeout(function () { box.textContent = ""; }, 6000);
    });
    // presence: seen within the last 60 s means online
    setInterval(function () { if (socket.connected) socket.emit("presence"); }, 30000);
  }

  // Browser push: on the notification settings page, the user asks for it on this device.
  body.addEventListener("click", function (e) {
    if (!e.target || e.target.id !== "push-enable") return;
    var box = document.getElementById("push-controls");
    var status = document.getElementById("push-status");
    if (!box || !("serviceWorker" in navigator) || !("PushManager" in window)) return;
    Notification.requestPermission().then(function (answer) {
      if (answer !== "granted") { status.textContent = box.dataset.deniedText; return null; }
      return navigator.serviceWorker.register("/sw.js").then(function (reg) {
        var raw = atob(box.dataset.key.replace(/-/g, "+").replace(/_/g, "/"));
        var key = new Uint8Array(raw.length);
        for (var i = 0; i < raw.length; i++) key[i] = raw.charCodeAt(i);
        return reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
      }).then(function (sub) {
        var headers = JSON.parse(body.getAttribute("hx-headers") || "{}");
        headers["Content-Type"] = "application/json";
        return fetch(box.dataset.subscribe, { method: "POST", headers: headers, body: JSON.stringify(sub) });
      }).then(function (resp) { if (resp && resp.ok) status.textContent = box.dataset.onText; });
    });
  });

  // Form analytics (A12): a tracked form ([data-track-url]) tells the server of its first
  // input, and, when the page is left without sending it, the step it was left on. Counts
  // only; the server ignores what it has already heard of this visit.
  var leaving = false, tracked = {};  // beacon URL -> the field last touched, per form started
  function beacon(url, event, step) {
    if (!navigator.sendBeacon) return;
    var data = new FormData();
    data.append("event", event);
    data.append("step", step || "");
    data.append("csrf_token", JSON.parse(body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "");
    navigator.sendBeacon(url, data);
  }
  function touched(e) {
    var box = e.target && e.target.closest && e.target.closest("[data-track-url]");
    if (!box || !e.target.name) return;
    var url = box.dataset.trackUrl, first = !(url in tracked);
    tracked[url] = e.target.name;
    if (first) beacon(url, "start");
  }
  body.addEventListener("focusin", function (e) { if (e.target.matches && e.target.matches("input, select, textarea")) touched(e); });
  body.addEventListener("input", touched);
  body.addEventListener("submit", function (e) {
    if (e.target.closest && e.target.closest("[data-track-url]")) leaving = true;
  }, true);
  body.addEventListener("htmx:afterSwap", function () { leaving = false; });
  function left() {
    Object.keys(tracked).forEach(function (url) {
      if (leaving) return;
      // a step-by-step form is left on the question it shows
      var question = document.querySelector('[data-track-url="' + url + '"] input[name=question]');
      beacon(url, "abandon", question ? question.value : tracked[url]);
    });
    tracked = {};
  }
  window.addEventListener("pagehide", left);
  body.addEventListener("htmx:beforeHistorySave", left);  // a boosted link leaves the page too

  // Fallback while the socket is down (or absent): live fragments refresh every 30 s.
  setInterval(function () {
    if (!window.ftSocket || !window.ftSocket.connected) htmx.trigger(body, "poll");
  }, 30000);
})();
