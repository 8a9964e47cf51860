//! [`Verifier`]: from an `Authorization` header to the user, or the reason not.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use spindle_ports::{HttpClient, KeyValue};

use crate::claims::Registered;
use crate::jwks::provider_algorithm;
use crate::keys::ProviderKeys;
use crate::{AuthError, UserId};

const PROVIDER_ALGORITHMS: &str =
    "the identity provider's tokens must be signed with RS256, ES256 or EdDSA";

/// How tokens are verified, from the `jwt_*` variables, as plain values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthSettings {
    /// `jwt_secret`: the HS256 key.
    pub secret: Option<String>,
    /// `jwt_jwks_url`: where the identity provider publishes its public keys.
    pub jwks_url: Option<String>,
    /// `jwt_issuer`: the `iss` provider tokens must carry.
    pub issuer: Option<String>,
    /// `jwt_audience` (comma-separated): provider tokens must name one of these in `aud`.
    pub audiences: Vec<String>,
}

/// Where a [`Verifier`] reads its settings from, one at a time: a token is checked
/// with only the settings its algorithm needs (an HS256 token needs the secret
/// alone), because on Spin every variable read is a host call paid on each request.
pub trait AuthSource {
    fn secret(&self) -> Option<String>;
    fn jwks_url(&self) -> Option<String>;
    fn issuer(&self) -> Option<String>;
    fn audiences(&self) -> Vec<String>;

    /// Whether any token can be verified at all.
    fn is_configured(&self) -> bool {
        self.secret().is_some() || self.jwks_url().is_some()
    }
}

impl AuthSource for AuthSettings {
    fn secret(&self) -> Option<String> {
        self.secret.clone()
    }
    fn jwks_url(&self) -> Option<String> {
        self.jwks_url.clone()
    }
    fn issuer(&self) -> Option<String> {
        self.issuer.clone()
    }
    fn audiences(&self) -> Vec<String> {
        self.audiences.clone()
    }
}

/// Verifies bearer tokens with the configured secret and the provider's keys, which
/// it reads through `http` and keeps in `kv`.
pub struct Verifier<'a> {
    settings: Box<dyn AuthSource + 'a>,
    http: &'a dyn HttpClient,
    kv: &'a dyn KeyValue,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
}

impl<'a> Verifier<'a> {
    pub fn new(
        settings: impl AuthSource + 'a,
        http: &'a dyn HttpClient,
        kv: &'a dyn KeyValue,
    ) -> Self {
        Verifier {
            settings: Box::new(settings),
            http,
            kv,
        }
    }

    pub fn settings(&self) -> &dyn AuthSource {
        self.settings.as_ref()
    }

    /// The user of an `Authorization: Bearer <jwt>` header value.
    pub fn authenticate(
        &self,
        authorization: Option<&str>,
        now_seconds: i64,
    ) -> Result<UserId, AuthError> {
        bearer(authorization)
            .and_then(|token| self.user_of(token, now_seconds))
            .map_err(|refused| self.refusal(refused))
    }

    /// The user of a compact JWT. The algorithm is decided before any key is touched:
    /// HS256 only with the shared secret, RS256/ES256/EdDSA only with a provider key
    /// pinned to that algorithm, nothing else (`none` included).
    pub fn verify(&self, token: &str, now_seconds: i64) -> Result<UserId, AuthError> {
        self.user_of(token, now_seconds)
            .map_err(|refused| self.refusal(refused))
    }

    /// [`Verifier::verify`] before [`Verifier::refusal`]: each setting is read only
    /// when the token's algorithm needs it.
    fn user_of(&self, token: &str, now_seconds: i64) -> Result<UserId, AuthError> {
        let header = read_header(token)?;
        if header.alg == "HS256" {
            let Some(secret) = self.settings.secret() else {
                return Err(AuthError::Algorithm(header.alg, PROVIDER_ALGORITHMS));
            };
            return verify_hs256(token, secret.as_bytes(), now_seconds);
        }
        let Some(alg) = provider_algorithm(&header.alg) else {
            return Err(AuthError::Algorithm(header.alg, self.accepted()));
        };
        let Some(url) = self.settings.jwks_url() else {
            return Err(AuthError::Algorithm(
                header.alg,
                "this deployment has no identity provider (jwt_jwks_url); tokens must be HS256",
            ));
        };
        let provider = ProviderKeys::new(&url, self.http, self.kv);
        let mut keys = provider
            .current(now_seconds)
            .map_err(AuthError::KeysUnavailable)?;
        let kid = header.kid.as_deref();
        if kid.is_some_and(|kid| !keys.set.contains(kid)) {
            if let Some(newer) = provider.refetch_for_unknown_key(&keys, now_seconds) {
                keys = newer;
            }
        }
        let key = keys.set.find(kid, alg)?;
        check(token, &key.key, self.provider_validation(alg))?.user(now_seconds)
    }

    /// Why a token is refused: `refused`, unless nothing is configured to verify
    /// any token, which is the deployment's fault and not the caller's. Asked only
    /// on refusal, so an accepted token reads no setting it does not need.
    fn refusal(&self, refused: AuthError) -> AuthError {
        if self.settings.is_configured() {
            refused
        } else {
            AuthError::NotConfigured
        }
    }

    fn accepted(&self) -> &'static str {
        match (self.settings.secret(), self.settings.jwks_url()) {
            (Some(_), Some(_)) => "use RS256, ES256 or EdDSA (identity provider) or HS256",
            (Some(_), None) => "tokens must be HS256",
            _ => PROVIDER_ALGORITHMS,
        }
    }

    fn provider_validation(&self, alg: Algorithm) -> Validation {
        let mut validation = Validation::new(alg);
        if let Some(issuer) = self.settings.issuer() {
            validation.set_issuer(&[issuer]);
            validation.required_spec_claims.insert("iss".into());
        }
        let audiences = self.settings.audiences();
        if audiences.is_empty() {
            validation.validate_aud = false;
        } else {
            validation.set_audience(&audiences);
            validation.required_spec_claims.insert("aud".into());
        }
        validation
    }
}

/// The user of an HS256 token signed with `secret` (the shared-secret path of
/// [`Verifier::verify`]; also what the local token command checks itself with).
pub fn verify_hs256(token: &str, secret: &[u8], now_seconds: i64) -> Result<UserId, AuthError> {
    let header = read_header(token)?;
    if header.alg != "HS256" {
        return Err(AuthError::Algorithm(header.alg, "tokens must be HS256"));
    }
    let key = DecodingKey::from_secret(secret);
    check(token, &key, Validation::new(Algorithm::HS256))?.user(now_seconds)
}

/// The token of an `Authorization: Bearer <jwt>` header value.
fn bearer(authorization: Option<&str>) -> Result<&str, AuthError> {
    let (scheme, token) = authorization
        .and_then(|value| value.trim().split_once(' '))
        .ok_or(AuthError::Missing)?;
    if scheme.eq_ignore_ascii_case("bearer") {
        Ok(token.trim())
    } else {
        Err(AuthError::Missing)
    }
}

fn read_header(token: &str) -> Result<Header, AuthError> {
    let mut parts = token.split('.');
    let (Some(header), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::Malformed);
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| AuthError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| AuthError::Malformed)
}

/// Checks the signature (and `iss`/`aud` when `validation` asks) and returns the
/// registered claims. `exp` and `nbf` are checked by [`Registered::user`] against
/// the caller's clock, not the system's.
fn check(
    token: &str,
    key: &DecodingKey,
    mut validation: Validation,
) -> Result<Registered, AuthError> {
    use jsonwebtoken::errors::ErrorKind;
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.required_spec_claims.remove("exp");
    if validation.aud.is_none() {
        validation.validate_aud = false;
    }
    jsonwebtoken::decode::<Registered>(token, key, &validation)
        .map(|data| data.claims)
        .map_err(|err| match err.kind() {
            ErrorKind::InvalidSignature => AuthError::Signature,
            ErrorKind::InvalidIssuer => AuthError::Issuer,
            ErrorKind::InvalidAudience => AuthError::Audience,
            ErrorKind::MissingRequiredClaim(claim) if claim == "iss" => AuthError::Issuer,
            ErrorKind::MissingRequiredClaim(claim) if claim == "aud" => AuthError::Audience,
            _ => AuthError::Malformed,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{sign, Claims};
    use spindle_ports::{HttpError, HttpRequest, HttpResponse, KvError};
    use std::time::Duration;

    const SECRET: &str = "test-secret";
    const NOW: i64 = 1_800_000_000;

    /// HS256 never touches the network or the cache.
    struct Offline;
    impl HttpClient for Offline {
        fn send(&self, _: &HttpRequest) -> Result<HttpResponse, HttpError> {
            Err(HttpError::Refused)
        }
    }
    impl KeyValue for Offline {
        fn get(&self, _: &str) -> Result<Option<Vec<u8>>, KvError> {
            Err(KvError("offline".into()))
        }
        fn set(&self, _: &str, _: &[u8], _: Duration) -> Result<(), KvError> {
            Err(KvError("offline".into()))
        }
        fn set_if_absent(&self, _: &str, _: &[u8], _: Duration) -> Result<bool, KvError> {
            Err(KvError("offline".into()))
        }
    }

    fn verifier(settings: AuthSettings) -> Verifier<'static> {
        Verifier::new(settings, &Offline, &Offline)
    }

    fn hs256_only() -> Verifier<'static> {
        verifier(AuthSettings {
            secret: Some(SECRET.into()),
            ..AuthSettings::default()
        })
    }

    fn token(sub: &str, exp: Option<i64>, nbf: Option<i64>, secret: &str) -> String {
        let claims = Claims {
            sub: sub.into(),
            exp,
            nbf,
            iat: None,
        };
        sign(&claims, secret.as_bytes())
    }

    #[test]
    fn a_valid_hs256_token_yields_its_subject() {
        let user = hs256_only()
            .verify(&token("alice", Some(NOW + 60), None, SECRET), NOW)
            .unwrap();
        assert_eq!(user.as_str(), "alice");
    }

    #[test]
    fn expiry_and_not_before_are_checked_with_a_few_seconds_of_leeway() {
        let v = hs256_only();
        let at = |exp, nbf| v.verify(&token("alice", Some(exp), nbf, SECRET), NOW);
        assert!(at(NOW - 5, None).is_ok());
        assert_eq!(at(NOW - 3600, None), Err(AuthError::Expired));
        assert!(at(NOW + 60, Some(NOW + 5)).is_ok());
        assert_eq!(at(NOW + 600, Some(NOW + 300)), Err(AuthError::NotYetValid));
        assert_eq!(
            v.verify(&token("alice", None, None, SECRET), NOW),
            Err(AuthError::NoExpiry)
        );
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let forged = token("alice", Some(NOW + 60), None, "other");
        assert_eq!(hs256_only().verify(&forged, NOW), Err(AuthError::Signature));
    }

    #[test]
    fn alg_none_is_refused_even_without_a_signature() {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let claims = URL_SAFE_NO_PAD.encode(format!(r#"{{"sub":"alice","exp":{}}}"#, NOW + 60));
        let unsigned = format!("{header}.{claims}.");
        assert!(matches!(
            hs256_only().verify(&unsigned, NOW),
            Err(AuthError::Algorithm(alg, _)) if alg == "none"
        ));
    }

    #[test]
    fn hs256_is_refused_where_only_an_identity_provider_is_configured() {
        let v = verifier(AuthSettings {
            jwks_url: Some("http://127.0.0.1:9/jwks".into()),
            ..AuthSettings::default()
        });
        let hs = token("alice", Some(NOW + 60), None, SECRET);
        assert!(matches!(v.verify(&hs, NOW), Err(AuthError::Algorithm(alg, _)) if alg == "HS256"));
    }

    #[test]
    fn nothing_configured_refuses_every_request_as_unavailable() {
        let err = verifier(AuthSettings::default())
            .authenticate(Some("Bearer x.y.z"), NOW)
            .unwrap_err();
        assert_eq!(err, AuthError::NotConfigured);
        assert!(err.is_unavailable());
    }

    /// Records which settings were read.
    struct Recording(std::rc::Rc<std::cell::RefCell<Vec<&'static str>>>);
    impl AuthSource for Recording {
        fn secret(&self) -> Option<String> {
            self.0.borrow_mut().push("secret");
            Some(SECRET.into())
        }
        fn jwks_url(&self) -> Option<String> {
            self.0.borrow_mut().push("jwks_url");
            None
        }
        fn issuer(&self) -> Option<String> {
            self.0.borrow_mut().push("issuer");
            None
        }
        fn audiences(&self) -> Vec<String> {
            self.0.borrow_mut().push("audiences");
            Vec::new()
        }
    }

    #[test]
    fn an_hs256_token_reads_the_secret_and_nothing_else() {
        let read = std::rc::Rc::default();
        let v = Verifier::new(Recording(std::rc::Rc::clone(&read)), &Offline, &Offline);
        let bearer = format!("Bearer {}", token("alice", Some(NOW + 60), None, SECRET));
        assert_eq!(
            v.authenticate(Some(&bearer), NOW).unwrap().as_str(),
            "alice"
        );
        assert_eq!(*read.borrow(), ["secret"]);
    }

    #[test]
    fn a_scheme_other_than_bearer_is_missing_credentials() {
        assert_eq!(
            hs256_only().authenticate(Some("Basic abc"), NOW),
            Err(AuthError::Missing)
        );
    }
}
