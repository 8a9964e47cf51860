//! Bearer JWT verification (HS256 only) and signing for local development.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Seconds of clock difference tolerated between the issuer and Spindle.
const LEEWAY_SECONDS: i64 = 30;
/// The longest `sub` accepted: user ids are stored and indexed as text.
const MAX_SUBJECT_LEN: usize = 255;

/// The authenticated user: the token's `sub`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserId(String);

impl UserId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a token was refused. The message is safe to show to the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("the request has no bearer token; send `Authorization: Bearer <jwt>`")]
    Missing,
    #[error("the bearer token is not a well-formed JWT")]
    Malformed,
    #[error("the token's algorithm {0:?} is not accepted; tokens must be signed with HS256")]
    Algorithm(String),
    #[error("the token's signature does not verify")]
    Signature,
    #[error("the token has expired; get a new one")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token has no usable `sub` claim")]
    Subject,
    #[error("the token has no `exp` claim; tokens must expire")]
    NoExpiry,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

/// The claims Spindle reads and writes.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub exp: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
}

/// Reads the user from an `Authorization` header value.
pub fn authenticate(
    header: Option<&str>,
    secret: &[u8],
    now_seconds: i64,
) -> Result<UserId, AuthError> {
    let value = header.ok_or(AuthError::Missing)?;
    let (scheme, token) = value.trim().split_once(' ').ok_or(AuthError::Missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::Missing);
    }
    verify(token.trim(), secret, now_seconds)
}

/// Verifies an HS256 JWT and returns its subject.
pub fn verify(token: &str, secret: &[u8], now_seconds: i64) -> Result<UserId, AuthError> {
    let mut parts = token.split('.');
    let (Some(header_b64), Some(claims_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::Malformed);
    };
    let header: Header = decode_json(header_b64)?;
    // Checked before the signature so that `alg: none` and RS256/HS256 confusion
    // are refused outright, whatever the signature part holds.
    if header.alg != "HS256" {
        return Err(AuthError::Algorithm(header.alg));
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature_b64)
        .map_err(|_| AuthError::Malformed)?;
    let mut mac = HmacSha256::new_from_slice(secret).map_err(|_| AuthError::Signature)?;
    mac.update(header_b64.as_bytes());
    mac.update(b".");
    mac.update(claims_b64.as_bytes());
    mac.verify_slice(&signature)
        .map_err(|_| AuthError::Signature)?;

    let claims: Claims = decode_json(claims_b64)?;
    let exp = claims.exp.ok_or(AuthError::NoExpiry)?;
    if now_seconds > exp.saturating_add(LEEWAY_SECONDS) {
        return Err(AuthError::Expired);
    }
    if claims
        .nbf
        .is_some_and(|nbf| now_seconds.saturating_add(LEEWAY_SECONDS) < nbf)
    {
        return Err(AuthError::NotYetValid);
    }
    let sub = claims.sub.trim();
    if sub.is_empty() || sub.len() > MAX_SUBJECT_LEN || sub.chars().any(char::is_control) {
        return Err(AuthError::Subject);
    }
    Ok(UserId(sub.to_owned()))
}

fn decode_json<T: for<'de> Deserialize<'de>>(part: &str) -> Result<T, AuthError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| AuthError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| AuthError::Malformed)
}

/// Signs `claims` with HS256. Used by the local token command and by tests.
pub fn sign(claims: &Claims, secret: &[u8]) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
    let signing_input = format!("{header}.{payload}");
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"test-secret";
    const NOW: i64 = 1_800_000_000;

    fn token(sub: &str, exp: Option<i64>) -> String {
        sign(
            &Claims {
                sub: sub.into(),
                exp,
                nbf: None,
                iat: None,
            },
            SECRET,
        )
    }

    #[test]
    fn a_valid_token_yields_its_subject() {
        let user = verify(&token("alice", Some(NOW + 60)), SECRET, NOW).unwrap();
        assert_eq!(user.as_str(), "alice");
    }

    #[test]
    fn an_expired_token_is_refused() {
        assert_eq!(
            verify(&token("alice", Some(NOW - 3600)), SECRET, NOW),
            Err(AuthError::Expired)
        );
    }

    #[test]
    fn a_token_without_expiry_is_refused() {
        assert_eq!(
            verify(&token("alice", None), SECRET, NOW),
            Err(AuthError::NoExpiry)
        );
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let forged = sign(
            &Claims {
                sub: "alice".into(),
                exp: Some(NOW + 60),
                nbf: None,
                iat: None,
            },
            b"other",
        );
        assert_eq!(verify(&forged, SECRET, NOW), Err(AuthError::Signature));
    }

    #[test]
    fn alg_none_is_refused_even_without_a_signature() {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let claims = URL_SAFE_NO_PAD.encode(format!(r#"{{"sub":"alice","exp":{}}}"#, NOW + 60));
        let unsigned = format!("{header}.{claims}.");
        assert_eq!(
            verify(&unsigned, SECRET, NOW),
            Err(AuthError::Algorithm("none".into()))
        );
    }

    #[test]
    fn a_scheme_other_than_bearer_is_missing_credentials() {
        assert_eq!(
            authenticate(Some("Basic abc"), SECRET, NOW),
            Err(AuthError::Missing)
        );
    }
}
