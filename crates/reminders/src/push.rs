//! Web Push channels: a delivery becomes a push message for the browser's subscription —
//! encrypted for it, signed with the VAPID key — sent over the outbound HTTP port, and the
//! push service's answer read by the Web Push rules.

use serde_json::{json, Value};
use spindle_domain::{parse_instant, Instant, Priority};
use spindle_ports::{HttpClient, HttpRequest, Method};
use spindle_storage::deliveries::Claimed;
use spindle_webpush::{classify, push_request, PushOptions, PushSubscription, Topic, Ttl, Urgency};

use crate::delivery::{Sender, Sent};
use crate::settings::Settings;

/// Web Push `POST`s over the outbound HTTP port.
pub struct PushSender<'a, H: ?Sized> {
    pub http: &'a H,
    pub settings: &'a Settings,
}

impl<H: HttpClient + ?Sized> Sender for PushSender<'_, H> {
    fn send(&self, delivery: &Claimed, now: Instant) -> Sent {
        let Some(vapid) = &self.settings.vapid else {
            return Sent::NotAllowed(
                "Web Push is not set up on this server: the vapid_private_key variable is empty"
                    .into(),
            );
        };
        // Checked again before every send, like a webhook URL: the network rules may
        // have tightened since the subscription was registered.
        let stored = json!({ "endpoint": delivery.target, "keys": delivery.push_keys });
        let subscription = match PushSubscription::parse(&stored, self.settings.network_policy) {
            Ok(subscription) => subscription,
            Err(errors) => {
                return Sent::NotAllowed(format!("the push subscription is refused: {errors}"))
            }
        };
        let (payload, options) = message(delivery, now);
        let request = match push_request(vapid, &subscription, payload.as_bytes(), &options, now) {
            Ok(request) => request,
            Err(err) => return Sent::NotAllowed(err.to_string()),
        };
        let outgoing = request.headers.iter().fold(
            HttpRequest::new(Method::Post, request.url, self.settings.timeouts).body(request.body),
            |req, (name, value)| req.header(*name, value.as_str()),
        );
        match self.http.send(&outgoing) {
            Ok(response) => Sent::Push {
                status: response.status,
                outcome: classify(response.status, response.header("retry-after"), now),
            },
            Err(err) => Sent::Failed(err),
        }
    }
}

/// What the service worker receives, and how the push service should treat it: from the
/// delivery's body (a `reminder.due` or a test `ping`).
fn message(delivery: &Claimed, now: Instant) -> (String, PushOptions) {
    let body: Value = serde_json::from_slice(&delivery.payload).unwrap_or(Value::Null);
    let task = &body["data"]["task"];
    let due_at = task["due_at"].as_str();
    let due = due_at.and_then(|raw| parse_instant(raw).ok());
    let payload = match delivery.reminder_id {
        Some(_) => json!({
            "notification_id": body["notification_id"],
            "title": task["title"],
            "body": due_at.map_or_else(|| "Reminder".to_owned(), due_text),
            "task_id": task["id"],
            "due_at": due_at,
            "url": task["id"].as_str().map(|id| format!("/tasks/{id}")),
        }),
        None => json!({
            "notification_id": null,
            "title": "Spindle test notification",
            "body": "Reminders will appear here.",
            "task_id": null,
            "due_at": null,
            "url": "/",
        }),
    };
    let priority = task["priority"]
        .as_str()
        .and_then(|p| Priority::parse(p).ok());
    let options = PushOptions {
        ttl: Ttl::until(due, now),
        urgency: priority.map_or(Urgency::Normal, Urgency::for_priority),
        // A retried reminder replaces its earlier copy in the push service.
        topic: delivery.reminder_id.map(Topic::for_id),
    };
    (payload.to_string(), options)
}

/// "Due Fri 14 Mar, 09:00" in the task's own zone (the offset `due_at` carries).
fn due_text(due_at: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(due_at) {
        Ok(at) => format!("Due {}", at.format("%a %-d %b, %H:%M")),
        Err(_) => format!("Due {due_at}"),
    }
}
