//! Standard Webhooks (standardwebhooks.com): secrets, signatures and the request a
//! webhook delivery sends.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use spindle_ports::{HttpRequest, Method, Timeouts};

/// The prefix of a Standard Webhooks secret.
const SECRET_PREFIX: &str = "whsec_";
/// Random bytes in a new secret (the specification asks for 24 to 64).
const SECRET_BYTES: usize = 32;

/// A new secret: `whsec_` + base64 of 32 random bytes.
pub fn new_secret() -> String {
    let bytes: [u8; SECRET_BYTES] = rand::random();
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

/// The signature of one message with one secret: `v1,<base64 HMAC-SHA256 of
/// "id.timestamp.body">`, keyed with the secret's decoded bytes. `None` when the
/// stored secret is not a `whsec_` secret.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let key = STANDARD.decode(secret.strip_prefix(SECRET_PREFIX)?).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The `POST` of a delivery: `webhook-id` is the delivery's id (the same on every
/// retry, so the receiver can drop duplicates), `webhook-timestamp` the time of
/// this attempt in epoch seconds, and `webhook-signature` one signature per
/// secret, space-separated (two during the 24 hours after a rotation).
pub fn request(
    url: &str,
    id: &str,
    timestamp: i64,
    body: &[u8],
    secrets: &[&str],
    timeouts: Timeouts,
) -> HttpRequest {
    let signatures: Vec<String> = secrets
        .iter()
        .filter_map(|secret| sign(secret, id, timestamp, body))
        .collect();
    HttpRequest::new(Method::Post, url, timeouts)
        .header("content-type", "application/json")
        .header("user-agent", "Spindle-Webhooks/1")
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signatures.join(" "))
        .body(body.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_secret_carries_32_random_bytes() {
        let secret = new_secret();
        let raw = STANDARD
            .decode(secret.strip_prefix("whsec_").unwrap())
            .unwrap();
        assert_eq!(raw.len(), 32);
        assert_ne!(new_secret(), secret);
    }

    #[test]
    fn the_signature_matches_the_specifications_example() {
        // The example of the Standard Webhooks reference implementations.
        let signature = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(
            signature.as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
    }

    #[test]
    fn a_secret_without_the_prefix_signs_nothing() {
        assert_eq!(sign("plain", "id", 1, b"{}"), None);
    }
}
