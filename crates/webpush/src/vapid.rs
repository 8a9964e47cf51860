//! VAPID (RFC 8292): the application server identifies itself to push services with an
//! ES256 JWT signed by its key pair, and the public half in the `Authorization` header.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jwt_compact::alg::Es256;
use jwt_compact::{AlgorithmExt as _, Claims, Header};
use p256::ecdsa::SigningKey;
use serde::Serialize;
use spindle_domain::Instant;

use crate::encrypt::ephemeral_key;
use crate::{EncryptError, Endpoint};

/// How long a token is valid. RFC 8292 §2 allows up to 24 hours; push services differ in
/// what they accept, and 12 hours is what they all take.
pub const TOKEN_LIFETIME_SECONDS: i64 = 12 * 60 * 60;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VapidError {
    #[error("vapid_private_key must be the base64url of a 32-byte P-256 private key, as `spindle-vapid-keys` or `web-push generate-vapid-keys` print it: {0}")]
    PrivateKey(String),
    #[error("vapid_subject must be a mailto: or https: URL where the push service can reach the operator, not {0:?}")]
    Subject(String),
    #[error("signing the VAPID token failed: {0}")]
    Signing(String),
}

/// The application server's key pair (`vapid_private_key`).
#[derive(Clone)]
pub struct VapidKey {
    signing: SigningKey,
    public_key: String,
}

impl std::fmt::Debug for VapidKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The private half stays out of logs.
        f.debug_struct("VapidKey")
            .field("public_key", &self.public_key)
            .finish_non_exhaustive()
    }
}

/// Two keys are the same key pair when their public halves are.
impl PartialEq for VapidKey {
    fn eq(&self, other: &VapidKey) -> bool {
        self.public_key == other.public_key
    }
}

impl Eq for VapidKey {}

impl VapidKey {
    /// Reads the private key: base64url (padding tolerated) of the 32-byte scalar.
    pub fn from_base64url(raw: &str) -> Result<VapidKey, VapidError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(raw.trim().trim_end_matches('='))
            .map_err(|_| VapidError::PrivateKey("it is not base64url".into()))?;
        if bytes.len() != 32 {
            return Err(VapidError::PrivateKey(format!(
                "it decodes to {} bytes",
                bytes.len()
            )));
        }
        let signing = SigningKey::from_slice(&bytes).map_err(|_| {
            VapidError::PrivateKey("it is zero or not below the P-256 group order".into())
        })?;
        Ok(VapidKey::from_signing_key(signing))
    }

    /// A new random key pair.
    pub fn generate() -> Result<VapidKey, EncryptError> {
        Ok(VapidKey::from_signing_key(SigningKey::from(
            ephemeral_key()?
        )))
    }

    fn from_signing_key(signing: SigningKey) -> VapidKey {
        let point = signing.verifying_key().to_encoded_point(false);
        VapidKey {
            public_key: URL_SAFE_NO_PAD.encode(point.as_bytes()),
            signing,
        }
    }

    /// The private key as `vapid_private_key` holds it.
    pub fn private_base64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.signing.to_bytes())
    }

    /// The public key, base64url of the uncompressed point: the browser's
    /// `applicationServerKey` and the `k` of the `Authorization` header.
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// `vapid t=<JWT>, k=<public key>` for a message to `endpoint`: the token's `aud` is
    /// the endpoint's origin, `exp` is `now` + 12 h, `sub` is the operator's contact.
    pub fn authorization(
        &self,
        endpoint: &Endpoint,
        subject: &VapidSubject,
        now: Instant,
    ) -> Result<String, VapidError> {
        #[derive(Serialize)]
        struct VapidClaims<'a> {
            aud: &'a str,
            sub: &'a str,
        }
        let origin = endpoint.origin();
        let mut claims = Claims::new(VapidClaims {
            aud: &origin,
            sub: subject.as_str(),
        });
        let exp_seconds = now.micros().div_euclid(1_000_000) + TOKEN_LIFETIME_SECONDS;
        claims.expiration = Some(
            chrono::DateTime::from_timestamp(exp_seconds, 0)
                .ok_or_else(|| VapidError::Signing("the clock is out of range".into()))?,
        );
        let token = Es256
            .token(
                &Header::empty().with_token_type("JWT"),
                &claims,
                &self.signing,
            )
            .map_err(|e| VapidError::Signing(e.to_string()))?;
        Ok(format!("vapid t={token}, k={}", self.public_key))
    }
}

/// `vapid_subject`: how a push service's operator reaches ours (RFC 8292 §2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VapidSubject(String);

impl VapidSubject {
    pub fn parse(raw: &str) -> Result<VapidSubject, VapidError> {
        let raw = raw.trim();
        let valid = match raw.split_once(':') {
            Some(("mailto", address)) => address.contains('@') && !address.contains(' '),
            Some(("https", _)) => url::Url::parse(raw).is_ok_and(|u| u.host().is_some()),
            _ => false,
        };
        if valid {
            Ok(VapidSubject(raw.to_owned()))
        } else {
            Err(VapidError::Subject(raw.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Both VAPID settings, read together from configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vapid {
    pub key: VapidKey,
    pub subject: VapidSubject,
}

impl Vapid {
    pub fn from_config(private_key: &str, subject: &str) -> Result<Vapid, VapidError> {
        Ok(Vapid {
            key: VapidKey::from_base64url(private_key)?,
            subject: VapidSubject::parse(subject)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_reads_back_with_the_same_public_key() {
        let key = VapidKey::generate().unwrap();
        let again = VapidKey::from_base64url(&key.private_base64url()).unwrap();
        assert_eq!(again.public_key(), key.public_key());
        assert_eq!(key.public_key().len(), 87, "65 bytes in base64url");
        assert!(!format!("{key:?}").contains(&key.private_base64url()));
    }

    #[test]
    fn malformed_private_keys_say_what_is_wrong() {
        for raw in ["", "!!", "AAAA", &URL_SAFE_NO_PAD.encode([0u8; 32])] {
            let err = VapidKey::from_base64url(raw).unwrap_err();
            assert!(matches!(err, VapidError::PrivateKey(_)), "{raw}: {err}");
        }
    }

    #[test]
    fn the_subject_is_a_mailto_or_https_contact() {
        assert!(VapidSubject::parse("mailto:ops@example.com").is_ok());
        assert!(VapidSubject::parse("https://example.com/contact").is_ok());
        for bad in [
            "ops@example.com",
            "mailto:nobody",
            "http://example.com",
            "https://",
        ] {
            assert!(VapidSubject::parse(bad).is_err(), "{bad}");
        }
    }
}
