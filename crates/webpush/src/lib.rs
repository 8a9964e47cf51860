//! Web Push, the standard way to reach a browser's service worker even with the tab closed:
//! parse the browser's subscription (RFC 8030), encrypt a message for it (RFC 8291,
//! `aes128gcm`), identify ourselves to its push service (VAPID, RFC 8292), and read what the
//! push service answered.
//!
//! No platform here: the notifier sends the [`PushRequest`] through the outbound HTTP port
//! and records what [`classify`] says.

mod encrypt;
mod outcome;
mod request;
mod subscription;
mod vapid;

pub use encrypt::{encrypt, encrypt_with, EncryptError, MAX_PLAINTEXT_LEN, RECORD_SIZE};
pub use outcome::{
    classify, parse_retry_after, PushOutcome, EXPIRED_REASON, MAX_RETRY_AFTER_SECONDS,
};
pub use request::{
    push_request, PushError, PushOptions, PushRequest, Topic, Ttl, Urgency, MAX_TTL_SECONDS,
    MIN_TTL_SECONDS,
};
pub use subscription::{ClientKeys, Endpoint, PushSubscription, AUTH_SECRET_LEN, MAX_ENDPOINT_LEN};
pub use vapid::{Vapid, VapidError, VapidKey, VapidSubject, TOKEN_LIFETIME_SECONDS};

/// The P-256 types of the keys above, for callers that hold raw keys (tests, tools).
pub use p256;
