//! Web Push cost per message, natively: `aes128gcm` encryption (RFC 8291: ECDH, HKDF,
//! AES-GCM with a fresh key pair and salt), the VAPID ES256 signature, both together, and
//! a whole send to a receiver on loopback — beside the baseline of a bare HTTP `POST` of a
//! body of the same size to the same receiver, measured in the same run.
//!
//! Usage: `cargo run --release -p spindle-bench --bin bench-webpush -- [--messages N]`

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::json;
use spindle_native::testing::{Receiver, Reply};
use spindle_native::UreqHttp;
use spindle_ports::{HttpClient, HttpRequest, Method, Timeouts};
use spindle_webpush::{
    encrypt, push_request, PushOptions, PushRequest, PushSubscription, Topic, Ttl, Urgency, Vapid,
    VapidKey,
};

const TIMEOUTS: Timeouts = Timeouts {
    connect: Duration::from_secs(2),
    total: Duration::from_secs(10),
};

fn messages() -> anyhow::Result<usize> {
    let mut messages = 2_000;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--messages" => {
                messages = args
                    .next()
                    .context("--messages needs a number")?
                    .parse()
                    .context("--messages needs a whole number")?;
            }
            other => bail!("unknown argument {other:?}; expected --messages N"),
        }
    }
    if messages == 0 {
        bail!("--messages must be at least 1");
    }
    Ok(messages)
}

fn post(http: &UreqHttp, url: &str, headers: &[(&'static str, String)], body: &[u8]) {
    let request = headers.iter().fold(
        HttpRequest::new(Method::Post, url, TIMEOUTS).body(body.to_vec()),
        |req, (name, value)| req.header(*name, value),
    );
    let response = http.send(&request).expect("the loopback receiver answers");
    assert_eq!(
        response.status, 201,
        "the receiver is scripted to answer 201"
    );
}

fn main() -> anyhow::Result<()> {
    let messages = messages()?;
    let receiver = Receiver::start();
    receiver.answer_always(Reply::Status(201));
    let http = UreqHttp::new();

    // A browser's subscription: any P-256 public key will do as p256dh.
    let browser_key = VapidKey::generate()?;
    let subscription = PushSubscription::parse(
        &json!({
            "endpoint": receiver.url("/wpush/v2/bench"),
            "expirationTime": null,
            "keys": {"p256dh": browser_key.public_key(), "auth": "BTBZMqHH6r4Tts7J_aSIgg"},
        }),
        spindle_domain::NetworkPolicy::AllowPrivate,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
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
        topic: Some(Topic::for_id(uuid::Uuid::new_v4())),
    };
    let sample: PushRequest =
        push_request(&vapid, &subscription, payload.as_bytes(), &options, now)?;
    let plain_body = vec![b'x'; sample.body.len()];

    println!(
        "== Web Push, {messages} messages: {}-byte payload, {}-byte encrypted body",
        payload.len(),
        sample.body.len()
    );
    let mut encrypting = Vec::with_capacity(messages);
    let mut signing = Vec::with_capacity(messages);
    let mut both = Vec::with_capacity(messages);
    let mut bare_post = Vec::with_capacity(messages);
    let mut whole_send = Vec::with_capacity(messages);
    for _ in 0..messages {
        let start = Instant::now();
        std::hint::black_box(encrypt(payload.as_bytes(), &subscription.keys)?);
        encrypting.push(start.elapsed());

        let start = Instant::now();
        std::hint::black_box(vapid.key.authorization(
            &subscription.endpoint,
            &vapid.subject,
            now,
        )?);
        signing.push(start.elapsed());

        let start = Instant::now();
        std::hint::black_box(push_request(
            &vapid,
            &subscription,
            payload.as_bytes(),
            &options,
            now,
        )?);
        both.push(start.elapsed());

        // Baseline and subject alternate, so both see the same machine.
        let start = Instant::now();
        post(
            &http,
            &sample.url,
            &[("content-type", "application/octet-stream".into())],
            &plain_body,
        );
        bare_post.push(start.elapsed());

        let start = Instant::now();
        let request = push_request(&vapid, &subscription, payload.as_bytes(), &options, now)?;
        post(&http, &request.url, &request.headers, &request.body);
        whole_send.push(start.elapsed());
    }
    report("encrypt (aes128gcm, fresh key + salt)", &mut encrypting);
    report("sign (VAPID ES256 JWT)", &mut signing);
    report("encrypt + sign (push_request)", &mut both);
    report("baseline: bare HTTP POST to loopback", &mut bare_post);
    report(
        "whole send: push_request + POST to loopback",
        &mut whole_send,
    );
    println!("   receiver got {} requests", receiver.received().len());
    Ok(())
}

fn report(what: &str, samples: &mut [Duration]) {
    samples.sort();
    let pick = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    let mean = samples.iter().sum::<Duration>() / samples.len() as u32;
    println!(
        "   {what:<45} mean {:>7.1} µs  p50 {:>7.1} µs  p99 {:>7.1} µs",
        mean.as_secs_f64() * 1e6,
        pick(0.50).as_secs_f64() * 1e6,
        pick(0.99).as_secs_f64() * 1e6,
    );
}
