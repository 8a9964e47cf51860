//! An identity provider's JSON Web Key Set, and which of its keys may verify a token.
//!
//! Every key is pinned to exactly one algorithm, from its type and curve: an RSA key
//! verifies RS256, a P-256 key ES256, an Ed25519 key EdDSA. A key that declares
//! another `alg`, a key for encryption (`use: enc`) and a symmetric key (`kty: oct`)
//! are left out, so a token can never choose HS256 keyed with a provider's public key
//! or any algorithm its key was not made for.

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

use crate::AuthError;

/// A key that may verify tokens of one algorithm.
pub(crate) struct SigningKey {
    pub kid: Option<String>,
    pub alg: Algorithm,
    pub key: DecodingKey,
}

/// The usable keys of a JWKS document.
pub(crate) struct KeySet {
    keys: Vec<SigningKey>,
}

/// The algorithms accepted from an identity provider, by their `alg` name.
pub(crate) fn provider_algorithm(name: &str) -> Option<Algorithm> {
    match name {
        "RS256" => Some(Algorithm::RS256),
        "ES256" => Some(Algorithm::ES256),
        "EdDSA" => Some(Algorithm::EdDSA),
        _ => None,
    }
}

pub(crate) fn algorithm_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::RS256 => "RS256",
        Algorithm::ES256 => "ES256",
        Algorithm::EdDSA => "EdDSA",
        _ => "another algorithm",
    }
}

impl KeySet {
    /// Reads a JWKS document (`{"keys": [...]}`), keeping the keys Spindle can use.
    /// Fails when the document is not a JWKS or holds no usable key, so that a
    /// broken answer from the provider never replaces good cached keys.
    pub(crate) fn parse(document: &[u8]) -> Result<KeySet, String> {
        let value: Value =
            serde_json::from_slice(document).map_err(|e| format!("the JWKS is not JSON: {e}"))?;
        let Some(entries) = value.get("keys").and_then(Value::as_array) else {
            return Err("the JWKS has no \"keys\" array".into());
        };
        let keys: Vec<SigningKey> = entries.iter().filter_map(signing_key).collect();
        if keys.is_empty() {
            return Err(format!(
                "none of the JWKS's {} keys is an RS256, ES256 or EdDSA signing key",
                entries.len()
            ));
        }
        Ok(KeySet { keys })
    }

    /// The key that verifies a token with header `alg` and `kid`. A token without
    /// `kid` is accepted only when exactly one key of its algorithm exists.
    pub(crate) fn find(&self, kid: Option<&str>, alg: Algorithm) -> Result<&SigningKey, AuthError> {
        let Some(kid) = kid else {
            let mut of_alg = self.keys.iter().filter(|k| k.alg == alg);
            return match (of_alg.next(), of_alg.next()) {
                (Some(key), None) => Ok(key),
                _ => Err(AuthError::UnknownKey("(none: the token has no kid)".into())),
            };
        };
        let mut named = self.keys.iter().filter(|k| k.kid.as_deref() == Some(kid));
        let first = named
            .next()
            .ok_or_else(|| AuthError::UnknownKey(kid.to_owned()))?;
        if first.alg == alg {
            return Ok(first);
        }
        named
            .find(|k| k.alg == alg)
            .ok_or_else(|| AuthError::KeyMismatch {
                alg: algorithm_name(alg).to_owned(),
                kid: kid.to_owned(),
                key_alg: algorithm_name(first.alg),
            })
    }

    pub(crate) fn contains(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }
}

/// The one algorithm a JWK may verify, or `None` when Spindle does not use it.
fn pinned_algorithm(entry: &Value) -> Option<Algorithm> {
    let field = |name: &str| entry.get(name).and_then(Value::as_str);
    if field("use").is_some_and(|u| u != "sig") {
        return None;
    }
    let alg = match (field("kty")?, field("crv")) {
        ("RSA", _) => Algorithm::RS256,
        ("EC", Some("P-256")) => Algorithm::ES256,
        ("OKP", Some("Ed25519")) => Algorithm::EdDSA,
        _ => return None,
    };
    // A declared `alg` must be the one the key type implies ("Ed25519" is the
    // fully specified name of EdDSA over Ed25519, RFC 9864).
    match field("alg") {
        None => Some(alg),
        Some("Ed25519") if alg == Algorithm::EdDSA => Some(alg),
        Some(declared) => (provider_algorithm(declared) == Some(alg)).then_some(alg),
    }
}

fn signing_key(entry: &Value) -> Option<SigningKey> {
    let alg = pinned_algorithm(entry)?;
    // jsonwebtoken's `Jwk` refuses `alg` values it does not know (such as
    // "Ed25519"); the algorithm is already pinned, so it is not needed here.
    let mut stripped = entry.clone();
    if let Some(object) = stripped.as_object_mut() {
        object.remove("alg");
    }
    let jwk: Jwk = serde_json::from_value(stripped).ok()?;
    let key = DecodingKey::from_jwk(&jwk).ok()?;
    Some(SigningKey {
        kid: entry.get("kid").and_then(Value::as_str).map(str::to_owned),
        alg,
        key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // A P-256 public key and an Ed25519 public key (RFC 8037 A.2), valid points.
    fn ec_key(kid: &str) -> Value {
        json!({"kty": "EC", "crv": "P-256", "kid": kid,
               "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
               "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})
    }
    fn ed_key(kid: &str) -> Value {
        json!({"kty": "OKP", "crv": "Ed25519", "kid": kid,
               "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})
    }

    fn set(keys: Vec<Value>) -> KeySet {
        KeySet::parse(json!({ "keys": keys }).to_string().as_bytes()).unwrap()
    }

    #[test]
    fn a_key_is_found_by_kid_for_its_own_algorithm_only() {
        let keys = set(vec![ec_key("ec-1"), ed_key("ed-1")]);
        assert_eq!(
            keys.find(Some("ec-1"), Algorithm::ES256).unwrap().alg,
            Algorithm::ES256
        );
        assert!(matches!(
            keys.find(Some("ec-1"), Algorithm::EdDSA),
            Err(AuthError::KeyMismatch { .. })
        ));
        assert!(matches!(
            keys.find(Some("nope"), Algorithm::ES256),
            Err(AuthError::UnknownKey(_))
        ));
    }

    #[test]
    fn symmetric_encryption_and_mislabelled_keys_are_left_out() {
        let mut enc = ec_key("enc");
        enc["use"] = json!("enc");
        let mut mislabelled = ec_key("mislabelled");
        mislabelled["alg"] = json!("RS256");
        let oct = json!({"kty": "oct", "kid": "oct", "k": "c2VjcmV0"});
        let keys = set(vec![enc, mislabelled, oct, ed_key("ed")]);
        for kid in ["enc", "mislabelled", "oct"] {
            assert!(!keys.contains(kid), "{kid} must not be usable");
        }
        assert!(keys.contains("ed"));
    }

    #[test]
    fn a_document_without_usable_keys_is_refused() {
        let oct = json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}).to_string();
        assert!(KeySet::parse(oct.as_bytes()).is_err());
        assert!(KeySet::parse(b"<html>").is_err());
    }

    #[test]
    fn a_token_without_kid_needs_a_single_key_of_its_algorithm() {
        let one = set(vec![ec_key("a"), ed_key("b")]);
        assert!(one.find(None, Algorithm::ES256).is_ok());
        let two = set(vec![ec_key("a"), ec_key("b")]);
        assert!(two.find(None, Algorithm::ES256).is_err());
    }
}
