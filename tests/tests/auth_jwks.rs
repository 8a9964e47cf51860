//! Tokens from an identity provider: a JWKS served over real HTTP on loopback, tokens
//! signed by other code than the verifier's, the keys cached in the real Redis.

use serde_json::json;
use spindle_auth::{AuthError, AuthSettings, Verifier};
use spindle_native::testing::provider::{
    b64, claims, hs256_token, Key, Provider, AUDIENCE, ISSUER,
};
use spindle_native::{RedisKv, UreqHttp};

/// 2026-03-01T12:00:00Z.
const NOW: i64 = 1_772_366_400;

struct Setup {
    http: UreqHttp,
    kv: RedisKv,
}

impl Setup {
    fn new() -> Setup {
        Setup {
            http: UreqHttp::new(),
            kv: RedisKv::new("redis://127.0.0.1:6379"),
        }
    }

    fn verifier(&self, provider: &Provider, secret: Option<&str>) -> Verifier<'_> {
        let settings = AuthSettings {
            secret: secret.map(str::to_owned),
            jwks_url: Some(provider.url()),
            issuer: Some(ISSUER.into()),
            audiences: vec![AUDIENCE.into()],
        };
        Verifier::new(settings, &self.http, &self.kv)
    }
}

#[test]
fn rs256_es256_and_eddsa_tokens_from_the_provider_verify_by_kid() {
    let (rsa, ec, ed) = (
        Key::rs256("rsa-1", 0),
        Key::es256("ec-1"),
        Key::eddsa("ed-1"),
    );
    let provider = Provider::start(&[&rsa, &ec, &ed]);
    let setup = Setup::new();
    let verifier = setup.verifier(&provider, None);
    for key in [&rsa, &ec, &ed] {
        let token = key.token(&claims(&format!("user-{}", key.alg), NOW));
        let user = verifier
            .authenticate(Some(&format!("Bearer {token}")), NOW)
            .unwrap_or_else(|e| panic!("{} token refused: {e}", key.alg));
        assert_eq!(user.as_str(), format!("user-{}", key.alg));
    }
    assert_eq!(
        provider.fetches(),
        1,
        "one fetch serves every later request from Redis"
    );
}

#[test]
fn tokens_out_of_time_or_for_someone_else_are_refused() {
    let ec = Key::es256("ec-1");
    let provider = Provider::start(&[&ec]);
    let setup = Setup::new();
    let verifier = setup.verifier(&provider, None);
    let verify = |claims: serde_json::Value| verifier.verify(&ec.token(&claims), NOW);

    let mut expired = claims("alice", NOW);
    expired["exp"] = json!(NOW - 60);
    assert_eq!(verify(expired), Err(AuthError::Expired));

    let mut early = claims("alice", NOW);
    early["nbf"] = json!(NOW + 120);
    assert_eq!(verify(early), Err(AuthError::NotYetValid));

    let mut no_exp = claims("alice", NOW);
    no_exp.as_object_mut().unwrap().remove("exp");
    assert_eq!(verify(no_exp), Err(AuthError::NoExpiry));

    let mut other_issuer = claims("alice", NOW);
    other_issuer["iss"] = json!("https://evil.example");
    assert_eq!(verify(other_issuer), Err(AuthError::Issuer));

    let mut no_issuer = claims("alice", NOW);
    no_issuer.as_object_mut().unwrap().remove("iss");
    assert_eq!(verify(no_issuer), Err(AuthError::Issuer));

    let mut other_audience = claims("alice", NOW);
    other_audience["aud"] = json!(["another-api"]);
    assert_eq!(verify(other_audience), Err(AuthError::Audience));

    let mut listed_audience = claims("alice", NOW);
    listed_audience["aud"] = json!(["another-api", AUDIENCE]);
    assert!(verify(listed_audience).is_ok());
}

#[test]
fn forged_tokens_are_refused() {
    let (rsa, ec) = (Key::rs256("rsa-1", 0), Key::es256("ec-1"));
    let provider = Provider::start(&[&rsa, &ec]);
    let setup = Setup::new();
    let good = claims("alice", NOW);

    // A kid the provider never published.
    let stranger = Key::es256("not-published");
    assert!(matches!(
        setup
            .verifier(&provider, None)
            .verify(&stranger.token(&good), NOW),
        Err(AuthError::UnknownKey(_))
    ));

    // alg: none, no signature.
    let header = b64(br#"{"alg":"none","kid":"ec-1"}"#);
    let body = b64(good.to_string().as_bytes());
    assert!(matches!(
        setup.verifier(&provider, None).verify(&format!("{header}.{body}."), NOW),
        Err(AuthError::Algorithm(alg, _)) if alg == "none"
    ));

    // HS256 keyed with the provider's public key (algorithm confusion), with and
    // without a shared secret configured.
    let public_key = rsa.jwk.to_string();
    let confused = hs256_token(
        public_key.as_bytes(),
        &json!({"alg": "HS256", "kid": "rsa-1"}),
        &good,
    );
    assert!(matches!(
        setup.verifier(&provider, None).verify(&confused, NOW),
        Err(AuthError::Algorithm(alg, _)) if alg == "HS256"
    ));
    assert_eq!(
        setup
            .verifier(&provider, Some("the-real-secret"))
            .verify(&confused, NOW),
        Err(AuthError::Signature)
    );

    // A key used for an algorithm it was not published for.
    let mismatched = ec.token_with_header(&json!({"alg": "ES256", "kid": "rsa-1"}), &good);
    assert!(matches!(
        setup.verifier(&provider, None).verify(&mismatched, NOW),
        Err(AuthError::KeyMismatch { .. })
    ));

    // A payload changed after signing.
    let token = rsa.token(&good);
    let parts: Vec<&str> = token.split('.').collect();
    let mut tampered_claims = good.clone();
    tampered_claims["sub"] = json!("mallory");
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64(tampered_claims.to_string().as_bytes()),
        parts[2]
    );
    assert_eq!(
        setup.verifier(&provider, None).verify(&tampered, NOW),
        Err(AuthError::Signature)
    );
}

#[test]
fn a_rotated_key_is_picked_up_and_unknown_kids_refetch_at_most_every_30_seconds() {
    let (old, new) = (Key::rs256("2026-01", 0), Key::rs256("2026-02", 1));
    let provider = Provider::start(&[&old]);
    let setup = Setup::new();
    let verifier = setup.verifier(&provider, None);
    assert!(verifier
        .verify(&old.token(&claims("alice", NOW)), NOW)
        .is_ok());
    assert_eq!(provider.fetches(), 1);

    // The provider rotates; within 30 s of the last fetch a new kid is not fetched.
    provider.publish(&[&old, &new], None);
    let soon = NOW + 10;
    assert!(matches!(
        verifier.verify(&new.token(&claims("alice", soon)), soon),
        Err(AuthError::UnknownKey(_))
    ));
    assert_eq!(provider.fetches(), 1);

    // Later, the unknown kid triggers one refetch, and the new key works from then on.
    let later = NOW + 31;
    assert!(verifier
        .verify(&new.token(&claims("alice", later)), later)
        .is_ok());
    assert!(verifier
        .verify(&old.token(&claims("alice", later)), later)
        .is_ok());
    assert_eq!(provider.fetches(), 2);

    // A flood of made-up kids costs the provider nothing more in the same interval.
    for i in 0..5 {
        let forged = Key::es256(&format!("made-up-{i}"));
        assert!(verifier
            .verify(&forged.token(&claims("alice", later)), later)
            .is_err());
    }
    assert_eq!(provider.fetches(), 2);
}

#[test]
fn with_the_provider_down_cached_keys_keep_verifying() {
    let ed = Key::eddsa("ed-1");
    let setup = Setup::new();
    let url;
    {
        let provider = Provider::start(&[&ed]);
        provider.publish(&[&ed], Some("public, max-age=300"));
        url = provider.url();
        assert!(setup
            .verifier(&provider, None)
            .verify(&ed.token(&claims("alice", NOW)), NOW)
            .is_ok());
    } // The key server is gone: connections to it are refused.
    let settings = AuthSettings {
        jwks_url: Some(url),
        issuer: Some(ISSUER.into()),
        audiences: vec![AUDIENCE.into()],
        ..AuthSettings::default()
    };
    let verifier = Verifier::new(settings, &setup.http, &setup.kv);
    // An hour on, the keys are stale and cannot be refreshed: they still verify.
    let later = NOW + 3600;
    let user = verifier
        .verify(&ed.token(&claims("alice", later)), later)
        .unwrap();
    assert_eq!(user.as_str(), "alice");
}

#[test]
fn cache_control_max_age_decides_when_keys_are_fetched_again() {
    let ec = Key::es256("ec-1");
    let provider = Provider::start(&[&ec]);
    provider.publish(&[&ec], Some("public, max-age=3600"));
    let setup = Setup::new();
    let verifier = setup.verifier(&provider, None);
    for at in [NOW, NOW + 1800, NOW + 3599] {
        assert!(verifier.verify(&ec.token(&claims("alice", at)), at).is_ok());
    }
    assert_eq!(provider.fetches(), 1, "fresh for max-age");
    let stale = NOW + 3601;
    assert!(verifier
        .verify(&ec.token(&claims("alice", stale)), stale)
        .is_ok());
    assert_eq!(provider.fetches(), 2, "refetched once stale");
}

#[test]
fn without_cached_keys_an_unreachable_provider_is_unavailable_not_unauthorized() {
    let ec = Key::es256("ec-1");
    let url = {
        let provider = Provider::start(&[&ec]);
        provider.url()
    };
    let setup = Setup::new();
    let settings = AuthSettings {
        jwks_url: Some(url),
        ..AuthSettings::default()
    };
    let err = Verifier::new(settings, &setup.http, &setup.kv)
        .verify(&ec.token(&claims("alice", NOW)), NOW)
        .unwrap_err();
    assert!(matches!(err, AuthError::KeysUnavailable(_)), "{err:?}");
    assert!(err.is_unavailable());
}
