//! An identity provider on loopback, for tests and benchmarks: signing keys made and
//! used with `ring` (and `rsa` only to generate the RSA key), independently of the
//! verifier's `jsonwebtoken`, and a JWKS served by a real HTTP server ([`Receiver`]).

use std::sync::OnceLock;

use super::{Receiver, Reply};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use serde_json::{json, Value};

pub const ISSUER: &str = "https://idp.example";
pub const AUDIENCE: &str = "spindle";

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A signing key: its algorithm, `kid`, public JWK and how it signs.
pub struct Key {
    pub alg: &'static str,
    pub kid: String,
    pub jwk: Value,
    signer: Signer,
}

enum Signer {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// An RSA-2048 private key in PKCS#8 DER, generated once per test binary (slow).
fn rsa_pkcs8(slot: usize) -> &'static [u8] {
    static KEYS: [OnceLock<Vec<u8>>; 2] = [OnceLock::new(), OnceLock::new()];
    KEYS[slot].get_or_init(|| {
        use rsa::pkcs8::EncodePrivateKey;
        let key = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).expect("an RSA key");
        key.to_pkcs8_der().expect("PKCS#8").as_bytes().to_vec()
    })
}

impl Key {
    /// An RS256 key; `slot` 0 or 1 picks one of two distinct RSA keys.
    pub fn rs256(kid: &str, slot: usize) -> Key {
        let pair = RsaKeyPair::from_pkcs8(rsa_pkcs8(slot)).expect("ring reads the RSA key");
        let components = ring::rsa::PublicKeyComponents::<Vec<u8>>::from(pair.public());
        let (public, exponent) = (components.n, components.e);
        Key {
            alg: "RS256",
            kid: kid.into(),
            jwk: json!({"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
                        "n": b64(&public), "e": b64(&exponent)}),
            signer: Signer::Rsa(pair),
        }
    }

    pub fn es256(kid: &str) -> Key {
        let rng = SystemRandom::new();
        let alg = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).expect("a P-256 key");
        let pair = EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).expect("read it back");
        // Uncompressed point: 0x04 || X || Y.
        let point = pair.public_key().as_ref();
        Key {
            alg: "ES256",
            kid: kid.into(),
            jwk: json!({"kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256",
                        "x": b64(&point[1..33]), "y": b64(&point[33..65])}),
            signer: Signer::Ec(pair),
        }
    }

    /// An Ed25519 key, declared as `alg: EdDSA` the way Better Auth's JWKS does.
    pub fn eddsa(kid: &str) -> Key {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).expect("an Ed25519 key");
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("read it back");
        Key {
            alg: "EdDSA",
            kid: kid.into(),
            jwk: json!({"kty": "OKP", "crv": "Ed25519", "kid": kid, "alg": "EdDSA",
                        "x": b64(pair.public_key().as_ref())}),
            signer: Signer::Ed(pair),
        }
    }

    fn sign(&self, input: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match &self.signer {
            Signer::Rsa(pair) => {
                let mut out = vec![0; pair.public().modulus_len()];
                pair.sign(&signature::RSA_PKCS1_SHA256, &rng, input, &mut out)
                    .expect("RSA signing");
                out
            }
            Signer::Ec(pair) => pair
                .sign(&rng, input)
                .expect("ECDSA signing")
                .as_ref()
                .to_vec(),
            Signer::Ed(pair) => pair.sign(input).as_ref().to_vec(),
        }
    }

    /// A compact JWS of `claims`, with this key's `alg` and `kid`.
    pub fn token(&self, claims: &Value) -> String {
        self.token_with_header(
            &json!({"alg": self.alg, "kid": self.kid, "typ": "JWT"}),
            claims,
        )
    }

    pub fn token_with_header(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let signature = self.sign(input.as_bytes());
        format!("{input}.{}", b64(&signature))
    }
}

/// Standard claims for `sub`, valid around `now` (seconds).
pub fn claims(sub: &str, now: i64) -> Value {
    json!({"sub": sub, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600})
}

/// HS256 over `input` with `key`, with `ring`'s HMAC.
pub fn hs256_token(key: &[u8], header: &Value, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let tag = ring::hmac::sign(
        &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key),
        input.as_bytes(),
    );
    format!("{input}.{}", b64(tag.as_ref()))
}

/// A key server: serves `{"keys": [...]}` at a path unique to the test, so that the
/// Redis cache (keyed by the address) is the test's own.
pub struct Provider {
    pub server: Receiver,
    pub path: String,
}

impl Provider {
    pub fn start(keys: &[&Key]) -> Provider {
        let provider = Provider {
            server: Receiver::start(),
            path: format!("/{}/jwks.json", super::random_suffix()),
        };
        provider.publish(keys, None);
        provider
    }

    pub fn url(&self) -> String {
        self.server.url(&self.path)
    }

    /// Serves these keys from now on, with `Cache-Control` when given.
    pub fn publish(&self, keys: &[&Key], cache_control: Option<&str>) {
        let document = json!({ "keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>() });
        let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        if let Some(value) = cache_control {
            headers.push(("cache-control".to_owned(), value.to_owned()));
        }
        self.server.answer_always(Reply::Body {
            status: 200,
            headers,
            body: document.to_string().into_bytes(),
        });
    }

    /// How many times the keys were fetched.
    pub fn fetches(&self) -> usize {
        self.server.received().len()
    }
}
