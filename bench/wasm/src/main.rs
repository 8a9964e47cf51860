//! Web Push cost per message with no I/O: encrypt (RFC 8291), sign (VAPID), and both, timed
//! inside the program, so the same loop runs natively and as a `wasm32-wasip2` component
//! (`std::time::Instant` is the host's monotonic clock there) — the part of a push send that
//! the wasm build makes slower or not.
//!
//! Usage: `bench-webpush-loop [MESSAGES]` (default 1000).

use std::time::{Duration, Instant};

use serde_json::json;
use spindle_webpush::{
    encrypt, push_request, PushOptions, PushSubscription, Topic, Ttl, Urgency, Vapid, VapidKey,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let messages: u32 = match std::env::args().nth(1) {
        Some(n) => n
            .parse()
            .map_err(|_| format!("MESSAGES must be a whole number, not {n:?}"))?,
        None => 1_000,
    };
    if messages == 0 {
        return Err("MESSAGES must be at least 1".into());
    }
    // Any P-256 public key serves as the browser's p256dh.
    let browser = VapidKey::generate()?;
    let subscription = PushSubscription::parse(
        &json!({
            "endpoint": "https://push.example.net/wpush/v2/bench",
            "expirationTime": null,
            "keys": {"p256dh": browser.public_key(), "auth": "BTBZMqHH6r4Tts7J_aSIgg"},
        }),
        spindle_domain::NetworkPolicy::PublicOnly,
    )
    .map_err(|e| e.to_string())?;
    let vapid = Vapid::from_config(
        &VapidKey::generate()?.private_base64url(),
        "mailto:bench@spindle.example",
    )?;
    // The size of a reminder's payload.
    let payload = json!({
        "notification_id": "0190f0a4-5b6c-7d8e-9f00-112233445566",
        "title": "Renew the passport before the trip",
        "body": "Due Fri 14 Mar, 09:00",
        "task_id": "0190f0a4-5b6c-7d8e-9f00-665544332211",
        "due_at": "2026-03-14T09:00:00+01:00",
        "url": "/tasks/0190f0a4-5b6c-7d8e-9f00-665544332211",
    })
    .to_string();
    let now = spindle_domain::Instant::from_micros(1_772_366_400_000_000);
    let options = PushOptions {
        ttl: Ttl::until(None, now),
        urgency: Urgency::Normal,
        topic: Some(Topic::for_id(uuid::Uuid::nil())),
    };

    let time = |what: &str, step: &mut dyn FnMut() -> Result<(), Box<dyn std::error::Error>>| {
        let start = Instant::now();
        for _ in 0..messages {
            step()?;
        }
        let per_message = start.elapsed() / messages;
        println!("   {what:<40} {:>8.1} µs per message", micros(per_message));
        Ok::<_, Box<dyn std::error::Error>>(())
    };
    println!(
        "== Web Push without I/O, {messages} messages ({}-byte payload), {}",
        payload.len(),
        if cfg!(target_family = "wasm") {
            "wasm32-wasip2"
        } else {
            "native"
        }
    );
    time("encrypt (aes128gcm, fresh key + salt)", &mut || {
        std::hint::black_box(encrypt(payload.as_bytes(), &subscription.keys)?);
        Ok(())
    })?;
    time("sign (VAPID ES256 JWT)", &mut || {
        std::hint::black_box(vapid.key.authorization(
            &subscription.endpoint,
            &vapid.subject,
            now,
        )?);
        Ok(())
    })?;
    time("encrypt + sign (push_request)", &mut || {
        std::hint::black_box(push_request(
            &vapid,
            &subscription,
            payload.as_bytes(),
            &options,
            now,
        )?);
        Ok(())
    })?;
    Ok(())
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}
