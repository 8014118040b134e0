/* FinancialTracker service worker: shows pushed notifications and opens their link. */
self.addEventListener("push", function (event) {
  var data = {};
  try { data = event.data ? event.data.json() : {}; } catch (err) { data = {}; }
  event.waitUntil(self.registration.showNotification(data.title || "FinancialTracker", {
    body: data.body || "",
    data: { link: data.link || "/" },
    icon: "/static/favicon.svg"
  }));
});
self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  event.waitUntil(self.clients.openWindow(event.notification.data.link || "/"));
});
