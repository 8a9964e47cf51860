//! The claims Spindle reads, and HS256 signing for local development.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::{AuthError, UserId, LEEWAY_SECONDS};

/// The longest `sub` accepted: user ids are stored and indexed as text.
const MAX_SUBJECT_LEN: usize = 255;

/// The claims of a token Spindle signs (local development, tests).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub exp: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
}

/// The registered claims checked on every token, whoever signed it. JWT times are
/// NumericDate: seconds, possibly fractional.
#[derive(Deserialize)]
pub(crate) struct Registered {
    sub: Option<serde_json::Value>,
    exp: Option<f64>,
    nbf: Option<f64>,
}

impl Registered {
    /// The user, once `exp` (required) and `nbf` (when present) admit `now`.
    pub(crate) fn user(self, now_seconds: i64) -> Result<UserId, AuthError> {
        let now = now_seconds as f64;
        let leeway = LEEWAY_SECONDS as f64;
        let exp = self.exp.ok_or(AuthError::NoExpiry)?;
        if now > exp + leeway {
            return Err(AuthError::Expired);
        }
        if self.nbf.is_some_and(|nbf| now + leeway < nbf) {
            return Err(AuthError::NotYetValid);
        }
        let Some(serde_json::Value::String(sub)) = self.sub else {
            return Err(AuthError::Subject);
        };
        let sub = sub.trim();
        if sub.is_empty() || sub.len() > MAX_SUBJECT_LEN || sub.chars().any(char::is_control) {
            return Err(AuthError::Subject);
        }
        Ok(UserId(sub.to_owned()))
    }
}

/// Signs `claims` with HS256. Used by the local token command, tests and benchmarks;
/// written on `hmac` directly, so tests sign with other code than the verifier's.
pub fn sign(claims: &Claims, secret: &[u8]) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
    let signing_input = format!("{header}.{payload}");
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}
