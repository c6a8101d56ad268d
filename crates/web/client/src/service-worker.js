// Natter's service worker (`/sw.js`): shows the notifications the server pushes (one per room, the
// newest replacing the last) and opens the room at the message when one is clicked.

/** @type {any} */
const worker = self;

worker.addEventListener("push", (/** @type {any} */ event) => {
  /** @type {{ title?: string, body?: string, url?: string, tag?: string }} */
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { body: event.data ? event.data.text() : "" };
  }
  event.waitUntil(
    worker.registration.showNotification(data.title || "Natter", {
      body: data.body ?? "",
      tag: data.tag,
      renotify: Boolean(data.tag),
      icon: "/static/favicon.svg",
      data: { url: data.url ?? "/rooms" },
    }),
  );
});

worker.addEventListener("notificationclick", (/** @type {any} */ event) => {
  event.notification.close();
  const url = new URL(event.notification.data?.url ?? "/rooms", worker.location.origin).href;
  event.waitUntil(
    worker.clients.matchAll({ type: "window", includeUncontrolled: true }).then((/** @type {any[]} */ windows) => {
      const open = windows.find((w) => new URL(w.url).origin === worker.location.origin);
      if (open) return open.navigate(url).then((/** @type {any} */ w) => (w ?? open).focus());
      return worker.clients.openWindow(url);
    }),
  );
});
