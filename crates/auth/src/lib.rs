//! Who is calling: bearer JWT verification for every user-facing route.
//!
//! A token is trusted in one of two ways:
//! - **HS256** with the shared `jwt_secret` (local development and tests; `spindle-token`
//!   signs such tokens with [`sign`]);
//! - **RS256, ES256 or EdDSA** with a public key the identity provider publishes as a
//!   JWKS at `jwt_jwks_url`, chosen by the token's `kid`, with `iss` and `aud` checked
//!   when `jwt_issuer` and `jwt_audience` are set.
//!
//! `jsonwebtoken` (on its pure-Rust RustCrypto backend) does the cryptography. This
//! crate decides which key and which algorithm a token may be checked with — where JWT
//! verification usually goes wrong (`alg: none`, HS256 keyed with a public key, a key
//! of another type) — and keeps the provider's keys in Redis across requests, since a
//! Spin instance remembers nothing ([`jwks`]).

mod claims;
mod jwks;
mod keys;
mod verify;

pub use claims::{sign, Claims};
pub use verify::{verify_hs256, AuthSettings, AuthSource, Verifier};

/// Seconds of clock difference tolerated between the issuer and Spindle, for `exp`
/// and `nbf`.
pub const LEEWAY_SECONDS: i64 = 10;

/// The authenticated user: the token's `sub`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserId(String);

impl UserId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a token was refused. Every message is safe to show to the caller and says
/// what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("the request has no bearer token; send `Authorization: Bearer <jwt>`")]
    Missing,
    #[error("the bearer token is not a well-formed JWT")]
    Malformed,
    #[error("tokens signed with {0:?} are not accepted here; {1}")]
    Algorithm(String, &'static str),
    #[error("the token's signature does not verify")]
    Signature,
    #[error("the token has expired; get a new one")]
    Expired,
    #[error("the token is not valid yet (its nbf is in the future)")]
    NotYetValid,
    #[error("the token has no `exp` claim; tokens must expire")]
    NoExpiry,
    #[error("the token has no usable `sub` claim")]
    Subject,
    #[error("the token was issued by another issuer than the one this deployment trusts")]
    Issuer,
    #[error("the token is meant for another audience than this deployment")]
    Audience,
    #[error("the token's signing key {0:?} is not among the identity provider's current keys; sign in again")]
    UnknownKey(String),
    #[error("the token's algorithm {alg} does not match its key {kid:?}, which is for {key_alg}")]
    KeyMismatch {
        alg: String,
        kid: String,
        key_alg: &'static str,
    },
    /// The provider's keys are needed and cannot be had; not the caller's fault.
    #[error(
        "the identity provider's signing keys cannot be fetched right now ({0}); retry shortly"
    )]
    KeysUnavailable(String),
    /// Neither `jwt_jwks_url` nor `jwt_secret` is set; not the caller's fault.
    #[error("{NOT_CONFIGURED}")]
    NotConfigured,
}

impl AuthError {
    /// Whether the fault is the server's (503), not the token's (401).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            AuthError::KeysUnavailable(_) | AuthError::NotConfigured
        )
    }
}

/// What is wrong with a deployment that can verify no token, for logs and `/readyz`.
pub const NOT_CONFIGURED: &str = "no token verification is configured: set jwt_jwks_url \
     (the identity provider's JWKS address) or jwt_secret (an HS256 key), or both";
