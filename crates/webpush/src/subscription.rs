//! A browser's push subscription, as `PushSubscription.toJSON()` gives it, parsed once into
//! types that cannot hold a key a push message could not be encrypted for.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::PublicKey;
use serde_json::{json, Map, Value};
use spindle_domain::{check_host, FieldErrors, NetworkPolicy};
use url::Url;

/// The field of the request body that holds the subscription; errors name fields under it.
const FIELD: &str = "subscription";

/// Push endpoints of the browsers' services are a few hundred characters long.
pub const MAX_ENDPOINT_LEN: usize = 2048;

/// Length of the subscription's authentication secret (RFC 8291 §3.2).
pub const AUTH_SECRET_LEN: usize = 16;

/// Length of an uncompressed P-256 point: `0x04 || x || y` (SEC 1 §2.3.3).
const UNCOMPRESSED_POINT_LEN: usize = 65;

/// Where the push service takes messages for one browser: an absolute `https` URL with a
/// public host and no credentials — the same network rules as webhooks, so
/// [`NetworkPolicy::AllowPrivate`] (`allow_private_webhooks`, for development and tests)
/// also admits `http` and private hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint(Url);

impl Endpoint {
    pub fn parse(raw: &str, policy: NetworkPolicy) -> Result<Endpoint, String> {
        if raw.len() > MAX_ENDPOINT_LEN {
            return Err(format!(
                "must be at most {MAX_ENDPOINT_LEN} characters (it is {})",
                raw.len()
            ));
        }
        let url = Url::parse(raw).map_err(|e| format!("is not an absolute URL ({e})"))?;
        match (url.scheme(), policy) {
            ("https", _) | ("http", NetworkPolicy::AllowPrivate) => {}
            (scheme, NetworkPolicy::PublicOnly) => {
                return Err(format!(
                    "must be an https URL (push services are only reached over TLS), not {scheme}:"
                ))
            }
            (scheme, NetworkPolicy::AllowPrivate) => {
                return Err(format!("must be an http or https URL, not {scheme}:"))
            }
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not carry a user name or password".into());
        }
        check_host(&url, policy)?;
        Ok(Endpoint(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn url(&self) -> &Url {
        &self.0
    }

    /// `scheme://host[:port]`, the audience of the VAPID token (RFC 8292 §2).
    pub fn origin(&self) -> String {
        self.0.origin().ascii_serialization()
    }
}

/// The browser's keys: its ECDH public key and the authentication secret (RFC 8291 §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientKeys {
    p256dh: PublicKey,
    auth: [u8; AUTH_SECRET_LEN],
}

impl ClientKeys {
    pub fn new(p256dh: PublicKey, auth: [u8; AUTH_SECRET_LEN]) -> ClientKeys {
        ClientKeys { p256dh, auth }
    }

    /// `keys.p256dh`: base64url of an uncompressed point on P-256.
    pub fn parse_p256dh(raw: &str) -> Result<PublicKey, String> {
        let bytes = decode_base64url(raw)?;
        if bytes.len() != UNCOMPRESSED_POINT_LEN || bytes[0] != 0x04 {
            return Err(format!(
                "must be an uncompressed P-256 point: {UNCOMPRESSED_POINT_LEN} bytes starting with 0x04 (got {} bytes)",
                bytes.len()
            ));
        }
        PublicKey::from_sec1_bytes(&bytes).map_err(|_| "is not a point on the P-256 curve".into())
    }

    /// `keys.auth`: base64url of 16 bytes.
    pub fn parse_auth(raw: &str) -> Result<[u8; AUTH_SECRET_LEN], String> {
        let bytes = decode_base64url(raw)?;
        <[u8; AUTH_SECRET_LEN]>::try_from(bytes.as_slice()).map_err(|_| {
            format!(
                "must be {AUTH_SECRET_LEN} bytes (got {}), as the browser gives it",
                bytes.len()
            )
        })
    }

    pub fn p256dh(&self) -> &PublicKey {
        &self.p256dh
    }

    pub fn auth(&self) -> &[u8; AUTH_SECRET_LEN] {
        &self.auth
    }

    /// The uncompressed point, base64url without padding (as browsers give it).
    pub fn p256dh_base64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.p256dh.to_encoded_point(false).as_bytes())
    }

    pub fn auth_base64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.auth)
    }
}

/// A validated push subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushSubscription {
    pub endpoint: Endpoint,
    pub keys: ClientKeys,
    /// When the browser said the subscription ends, in milliseconds since the epoch.
    pub expiration_time: Option<i64>,
}

impl PushSubscription {
    /// Parses `PushSubscription.toJSON()`: `endpoint`, `expirationTime` (null or a time in
    /// milliseconds), `keys.p256dh`, `keys.auth`. Every problem is reported, each under the
    /// field it concerns (`subscription.keys.auth`, ...); unknown fields are refused.
    pub fn parse(value: &Value, policy: NetworkPolicy) -> Result<PushSubscription, FieldErrors> {
        let mut errors = FieldErrors::new();
        let Some(object) = value.as_object() else {
            return Err(FieldErrors::single(
                FIELD,
                "must be the object PushSubscription.toJSON() returns: {\"endpoint\", \"expirationTime\", \"keys\": {\"p256dh\", \"auth\"}}",
            ));
        };
        refuse_unknown(
            &mut errors,
            FIELD,
            object,
            &["endpoint", "expirationTime", "keys"],
        );

        let endpoint = required_string(&mut errors, FIELD, object, "endpoint")
            .and_then(|raw| errors.check("subscription.endpoint", Endpoint::parse(raw, policy)));
        let expiration_time = errors
            .check(
                "subscription.expirationTime",
                parse_expiration(object.get("expirationTime")),
            )
            .flatten();

        let keys = match object.get("keys") {
            Some(Value::Object(keys)) => {
                let prefix = "subscription.keys";
                refuse_unknown(&mut errors, prefix, keys, &["p256dh", "auth"]);
                let p256dh = required_string(&mut errors, prefix, keys, "p256dh").and_then(|raw| {
                    errors.check("subscription.keys.p256dh", ClientKeys::parse_p256dh(raw))
                });
                let auth = required_string(&mut errors, prefix, keys, "auth").and_then(|raw| {
                    errors.check("subscription.keys.auth", ClientKeys::parse_auth(raw))
                });
                p256dh
                    .zip(auth)
                    .map(|(p256dh, auth)| ClientKeys { p256dh, auth })
            }
            Some(_) => {
                errors.add(
                    "subscription.keys",
                    "must be an object with p256dh and auth",
                );
                None
            }
            None => {
                errors.add("subscription.keys", "is required");
                None
            }
        };

        match (endpoint, keys) {
            (Some(endpoint), Some(keys)) if errors.is_empty() => Ok(PushSubscription {
                endpoint,
                keys,
                expiration_time,
            }),
            _ => Err(errors),
        }
    }

    /// The subscription in the shape the browser gave it, for storing and showing.
    pub fn to_json(&self) -> Value {
        json!({
            "endpoint": self.endpoint.as_str(),
            "expirationTime": self.expiration_time,
            "keys": {
                "p256dh": self.keys.p256dh_base64url(),
                "auth": self.keys.auth_base64url(),
            },
        })
    }
}

/// Browsers give base64url without padding; padding is tolerated, other alphabets are not.
fn decode_base64url(raw: &str) -> Result<Vec<u8>, String> {
    URL_SAFE_NO_PAD
        .decode(raw.trim_end_matches('='))
        .map_err(|_| "must be base64url (A-Z a-z 0-9 - _), as the browser gives it".into())
}

fn parse_expiration(value: Option<&Value>) -> Result<Option<i64>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .filter(|ms| ms.is_finite() && *ms >= 0.0 && *ms < 1e15)
            // Whole milliseconds: the browser's DOMHighResTimeStamp may carry a fraction.
            .map(|ms| Some(ms as i64))
            .ok_or_else(|| "must be null or a time in milliseconds since 1970".into()),
        Some(_) => Err("must be null or a time in milliseconds since 1970".into()),
    }
}

fn required_string<'v>(
    errors: &mut FieldErrors,
    prefix: &str,
    object: &'v Map<String, Value>,
    name: &str,
) -> Option<&'v str> {
    match object.get(name) {
        Some(Value::String(s)) => Some(s),
        Some(_) => {
            errors.add(format!("{prefix}.{name}"), "must be a string");
            None
        }
        None => {
            errors.add(format!("{prefix}.{name}"), "is required");
            None
        }
    }
}

fn refuse_unknown(
    errors: &mut FieldErrors,
    prefix: &str,
    object: &Map<String, Value>,
    known: &[&str],
) {
    for name in object.keys().filter(|name| !known.contains(&name.as_str())) {
        errors.add(
            format!("{prefix}.{name}"),
            "is not a field of a push subscription",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P256DH: &str =
        "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
    const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";

    fn subscription(endpoint: &str, p256dh: &str, auth: &str) -> Value {
        json!({"endpoint": endpoint, "expirationTime": null, "keys": {"p256dh": p256dh, "auth": auth}})
    }

    fn fields(result: Result<PushSubscription, FieldErrors>) -> Vec<String> {
        result
            .expect_err("the subscription should be refused")
            .errors()
            .iter()
            .map(|e| e.field.clone())
            .collect()
    }

    #[test]
    fn a_browser_subscription_parses_and_serialises_back_the_same() {
        let value = subscription("https://push.example.net/wpush/v2/abc", P256DH, AUTH);
        let parsed = PushSubscription::parse(&value, NetworkPolicy::PublicOnly).unwrap();
        assert_eq!(parsed.endpoint.origin(), "https://push.example.net");
        assert_eq!(parsed.to_json(), value);
    }

    #[test]
    fn padded_keys_and_a_fractional_expiration_are_accepted() {
        let mut value = subscription(
            "https://push.example.net/x",
            P256DH,
            "BTBZMqHH6r4Tts7J_aSIgg==",
        );
        value["expirationTime"] = json!(1_700_000_000_000.5);
        let parsed = PushSubscription::parse(&value, NetworkPolicy::PublicOnly).unwrap();
        assert_eq!(parsed.expiration_time, Some(1_700_000_000_000));
    }

    #[test]
    fn an_http_endpoint_or_a_private_host_is_refused_unless_private_destinations_are_allowed() {
        let value = subscription("http://127.0.0.1:9/push", P256DH, AUTH);
        assert_eq!(
            fields(PushSubscription::parse(&value, NetworkPolicy::PublicOnly)),
            ["subscription.endpoint"]
        );
        assert!(PushSubscription::parse(&value, NetworkPolicy::AllowPrivate).is_ok());
        for private in [
            "https://localhost/push",
            "https://10.1.2.3/push",
            "https://[::1]/p",
        ] {
            let value = subscription(private, P256DH, AUTH);
            assert_eq!(
                fields(PushSubscription::parse(&value, NetworkPolicy::PublicOnly)),
                ["subscription.endpoint"],
                "{private}"
            );
            assert!(PushSubscription::parse(&value, NetworkPolicy::AllowPrivate).is_ok());
        }
        let ftp = subscription("ftp://push.example.net/", P256DH, AUTH);
        assert!(PushSubscription::parse(&ftp, NetworkPolicy::AllowPrivate).is_err());
    }

    #[test]
    fn endpoints_without_host_with_credentials_or_too_long_are_refused() {
        for endpoint in [
            "not a url",
            "https://user:pw@push.example.net/",
            &format!("https://push.example.net/{}", "a".repeat(MAX_ENDPOINT_LEN)),
        ] {
            let value = subscription(endpoint, P256DH, AUTH);
            assert_eq!(
                fields(PushSubscription::parse(&value, NetworkPolicy::PublicOnly)),
                ["subscription.endpoint"],
                "{endpoint}"
            );
        }
    }

    #[test]
    fn a_point_off_the_curve_a_compressed_point_and_bad_base64_name_p256dh() {
        let mut off_curve = URL_SAFE_NO_PAD.decode(P256DH).unwrap();
        off_curve[64] ^= 1;
        let compressed = URL_SAFE_NO_PAD.encode(
            ClientKeys::parse_p256dh(P256DH)
                .unwrap()
                .to_encoded_point(true)
                .as_bytes(),
        );
        for p256dh in [
            URL_SAFE_NO_PAD.encode(off_curve),
            compressed,
            "not+base64/url".to_string(),
        ] {
            let value = subscription("https://push.example.net/x", &p256dh, AUTH);
            assert_eq!(
                fields(PushSubscription::parse(&value, NetworkPolicy::PublicOnly)),
                ["subscription.keys.p256dh"]
            );
        }
    }

    #[test]
    fn a_short_auth_secret_names_auth() {
        let value = subscription("https://push.example.net/x", P256DH, "c2hvcnQ");
        let errors = PushSubscription::parse(&value, NetworkPolicy::PublicOnly).unwrap_err();
        assert_eq!(errors.errors()[0].field, "subscription.keys.auth");
        assert!(errors.errors()[0].message.contains("16 bytes (got 5)"));
    }

    #[test]
    fn every_problem_is_reported_at_once_with_unknown_and_missing_fields() {
        let value =
            json!({"endpoint": 7, "expirationTime": "soon", "keys": {"auth": AUTH}, "extra": 1});
        let mut got = fields(PushSubscription::parse(&value, NetworkPolicy::PublicOnly));
        got.sort();
        assert_eq!(
            got,
            [
                "subscription.endpoint",
                "subscription.expirationTime",
                "subscription.extra",
                "subscription.keys.p256dh",
            ]
        );
        assert_eq!(
            fields(PushSubscription::parse(
                &json!("x"),
                NetworkPolicy::PublicOnly
            )),
            ["subscription"]
        );
    }
}
