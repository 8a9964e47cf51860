// Shows each Spindle reminder as a system notification, and opens the task when clicked.
// The push message is the JSON the notifier sends: notification_id, title, body, task_id,
// due_at, url.
self.addEventListener("push", (event) => {
  const message = event.data ? event.data.json() : { title: "Spindle" };
  event.waitUntil(
    self.registration.showNotification(message.title, {
      body: message.body,
      tag: message.notification_id, // a redelivered message replaces, not repeats
      data: { url: message.url ?? "/" },
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(self.clients.openWindow(new URL(event.notification.data.url, self.location.origin)));
});
