//! The other side of Web Push, written independently of `spindle-webpush`: a browser that
//! holds a subscription's private key and decrypts what arrives (with the `web-push-native`
//! crate's RFC 8291 decryption), and a push service that checks the VAPID header (the JWT
//! taken apart by hand, its ES256 signature checked with the raw `p256` verifier).

#![allow(dead_code)] // Each test file uses a different part of this harness.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};
use spindle_webpush::p256::ecdsa::signature::Verifier as _;
use spindle_webpush::p256::ecdsa::{Signature, VerifyingKey};
use spindle_webpush::p256::elliptic_curve::sec1::ToEncodedPoint;
use spindle_webpush::p256::SecretKey;

/// A browser's push subscription keys, private half included.
pub struct Browser {
    secret: SecretKey,
    auth: [u8; 16],
}

impl Browser {
    pub fn new() -> Browser {
        let mut auth = [0u8; 16];
        getrandom::fill(&mut auth).expect("random bytes");
        let secret = loop {
            let mut scalar = [0u8; 32];
            getrandom::fill(&mut scalar).expect("random bytes");
            if let Ok(secret) = SecretKey::from_slice(&scalar) {
                break secret;
            }
        };
        Browser { secret, auth }
    }

    /// What `PushSubscription.toJSON()` gives for a subscription at `endpoint`.
    pub fn subscription(&self, endpoint: &str) -> Value {
        json!({
            "endpoint": endpoint,
            "expirationTime": null,
            "keys": {
                "p256dh": URL_SAFE_NO_PAD.encode(self.secret.public_key().to_encoded_point(false).as_bytes()),
                "auth": URL_SAFE_NO_PAD.encode(self.auth),
            },
        })
    }

    /// Decrypts an `aes128gcm` push message body, as the browser does.
    pub fn decrypt(&self, body: &[u8]) -> Vec<u8> {
        self.try_decrypt(body)
            .expect("the push message decrypts with the subscription's keys")
    }

    /// The plaintext, or `None` when the body was not encrypted for these keys or was altered.
    pub fn try_decrypt(&self, body: &[u8]) -> Option<Vec<u8>> {
        web_push_native::decrypt(
            body.to_vec(),
            &self.secret,
            &web_push_native::Auth::clone_from_slice(&self.auth),
        )
        .ok()
    }
}

/// The claims of a VAPID token that verified.
#[derive(Debug)]
pub struct VapidToken {
    pub header: Value,
    pub claims: Value,
}

/// Checks `Authorization: vapid t=<JWT>, k=<key>` as a push service would: `k` must be
/// `public_key` (base64url of an uncompressed P-256 point) and the JWT's ES256 signature
/// must verify with it. Panics, saying why, otherwise.
pub fn verify_vapid(authorization: &str, public_key: &str) -> VapidToken {
    let params = authorization
        .strip_prefix("vapid ")
        .unwrap_or_else(|| panic!("not a vapid authorization: {authorization}"));
    let mut token = None;
    let mut key = None;
    for param in params.split(',') {
        match param.trim().split_once('=') {
            Some(("t", value)) => token = Some(value),
            Some(("k", value)) => key = Some(value),
            _ => panic!("unexpected parameter {param:?} in {authorization}"),
        }
    }
    let (token, key) = (token.expect("a t= parameter"), key.expect("a k= parameter"));
    assert_eq!(
        key, public_key,
        "k= must be the application server's public key"
    );

    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWS compact serialisation: {token}");
    let json = |part: &str| -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
    };
    let verifying_key = VerifyingKey::from_sec1_bytes(
        &URL_SAFE_NO_PAD
            .decode(public_key)
            .expect("the public key is base64url"),
    )
    .expect("the public key is a P-256 point");
    let signature = Signature::from_slice(
        &URL_SAFE_NO_PAD
            .decode(parts[2])
            .expect("the signature is base64url"),
    )
    .expect("an ES256 signature is r || s, 64 bytes");
    verifying_key
        .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
        .expect("the ES256 signature verifies with the public key");
    VapidToken {
        header: json(parts[0]),
        claims: json(parts[1]),
    }
}
