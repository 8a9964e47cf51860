//! The identity provider's keys, kept in Redis across requests and replicas.
//!
//! - A cached key set is used as is while fresh: for the provider's `Cache-Control:
//!   max-age`, held between [`MIN_FRESH`] and [`MAX_FRESH`] ([`DEFAULT_FRESH`] without one).
//! - Once stale it is refetched — by one request per [`REFETCH_INTERVAL`] across all
//!   replicas; the others, and that one if the provider does not answer, keep verifying
//!   with the stale keys, which Redis keeps for [`KEEP_STALE`]. A provider outage
//!   therefore locks nobody out.
//! - A token naming a key the cached set does not have (the provider rotated its key)
//!   triggers a refetch, at most once per [`REFETCH_INTERVAL`], so a flood of tokens
//!   with made-up `kid`s costs the provider one request per interval.
//!
//! The times are the caller's clock (seconds); the `REFETCH_INTERVAL` guard is a Redis
//! key per interval of that clock, set with `NX`, so only one replica wins it.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use spindle_ports::{HttpClient, HttpRequest, KeyValue, Method, Timeouts};

use crate::jwks::KeySet;

pub(crate) const MIN_FRESH: i64 = 60;
pub(crate) const MAX_FRESH: i64 = 24 * 3600;
pub(crate) const DEFAULT_FRESH: i64 = 600;
pub(crate) const REFETCH_INTERVAL: i64 = 30;
const KEEP_STALE: Duration = Duration::from_secs(7 * 24 * 3600);
/// A key server answers in milliseconds; a request waiting on it waits at most this.
const FETCH_TIMEOUTS: Timeouts = Timeouts {
    connect: Duration::from_secs(2),
    total: Duration::from_secs(4),
};

/// What Redis holds for one JWKS address.
#[derive(Serialize, Deserialize)]
struct Cached {
    fetched_at: i64,
    fresh_until: i64,
    document: String,
}

/// Usable keys, and when they were fetched.
pub(crate) struct Keys {
    pub set: KeySet,
    pub fetched_at: i64,
}

pub(crate) struct ProviderKeys<'a> {
    url: &'a str,
    http: &'a dyn HttpClient,
    kv: &'a dyn KeyValue,
    cache_key: String,
}

impl<'a> ProviderKeys<'a> {
    pub(crate) fn new(url: &'a str, http: &'a dyn HttpClient, kv: &'a dyn KeyValue) -> Self {
        let digest = Sha256::digest(url.as_bytes());
        let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        ProviderKeys {
            url,
            http,
            kv,
            cache_key: format!("spindle:jwks:{hex}"),
        }
    }

    /// The keys to verify with now: cached, refreshed when stale, fetched when
    /// nothing is cached. `Err` only when there is no key set at all.
    pub(crate) fn current(&self, now: i64) -> Result<Keys, String> {
        let Some(cached) = self.load() else {
            return self.fetch(now);
        };
        if now < cached.fresh_until || !self.claim_refetch(now) {
            return parse(cached);
        }
        match self.fetch(now) {
            Ok(keys) => Ok(keys),
            Err(reason) => {
                eprintln!(
                    "spindle: warning: the signing keys at {} could not be refreshed ({reason}); \
                     verifying with the keys fetched at {} (unix time)",
                    self.url, cached.fetched_at
                );
                parse(cached)
            }
        }
    }

    /// Fetches the keys again because a token names a key `keys` lacks, unless that
    /// was done less than [`REFETCH_INTERVAL`] ago. `None`: nothing newer to look at.
    pub(crate) fn refetch_for_unknown_key(&self, keys: &Keys, now: i64) -> Option<Keys> {
        if now - keys.fetched_at < REFETCH_INTERVAL || !self.claim_refetch(now) {
            return None;
        }
        self.fetch(now)
            .map_err(|reason| {
                eprintln!(
                    "spindle: warning: the signing keys at {} could not be refetched for an \
                     unknown kid ({reason})",
                    self.url
                )
            })
            .ok()
    }

    fn load(&self) -> Option<Cached> {
        match self.kv.get(&self.cache_key) {
            Ok(Some(bytes)) => serde_json::from_slice(&bytes).ok(),
            Ok(None) => None,
            Err(err) => {
                eprintln!("spindle: warning: cached signing keys cannot be read ({err})");
                None
            }
        }
    }

    /// Whether this request is the one allowed to refetch in the current interval.
    /// When Redis cannot say, refetching is allowed: the provider is the only source.
    fn claim_refetch(&self, now: i64) -> bool {
        let slot = format!(
            "{}:refetch:{}",
            self.cache_key,
            now.div_euclid(REFETCH_INTERVAL)
        );
        let ttl = Duration::from_secs(2 * REFETCH_INTERVAL as u64);
        self.kv.set_if_absent(&slot, b"1", ttl).unwrap_or(true)
    }

    fn fetch(&self, now: i64) -> Result<Keys, String> {
        let request = HttpRequest::new(Method::Get, self.url, FETCH_TIMEOUTS)
            .header("accept", "application/jwk-set+json, application/json");
        let response = self.http.send(&request).map_err(|e| e.to_string())?;
        if response.status != 200 {
            return Err(format!("the key server answered HTTP {}", response.status));
        }
        let set = KeySet::parse(&response.body)?;
        let fresh_for = freshness(response.header("cache-control"));
        let cached = Cached {
            fetched_at: now,
            fresh_until: now + fresh_for,
            document: String::from_utf8_lossy(&response.body).into_owned(),
        };
        if let Err(err) = serde_json::to_vec(&cached)
            .map_err(|e| e.to_string())
            .and_then(|bytes| {
                self.kv
                    .set(&self.cache_key, &bytes, KEEP_STALE)
                    .map_err(|e| e.to_string())
            })
        {
            eprintln!("spindle: warning: fetched signing keys cannot be cached ({err})");
        }
        Ok(Keys {
            set,
            fetched_at: now,
        })
    }
}

fn parse(cached: Cached) -> Result<Keys, String> {
    Ok(Keys {
        set: KeySet::parse(cached.document.as_bytes())?,
        fetched_at: cached.fetched_at,
    })
}

/// Seconds a fetched key set stays fresh: the response's `max-age` (`no-cache` and
/// `no-store` count as zero), within [`MIN_FRESH`]..=[`MAX_FRESH`].
fn freshness(cache_control: Option<&str>) -> i64 {
    let Some(value) = cache_control else {
        return DEFAULT_FRESH;
    };
    let mut max_age = None;
    for directive in value.split(',').map(str::trim) {
        let (name, argument) = match directive.split_once('=') {
            Some((name, argument)) => (name.trim(), Some(argument.trim().trim_matches('"'))),
            None => (directive, None),
        };
        match name.to_ascii_lowercase().as_str() {
            "no-cache" | "no-store" => return MIN_FRESH,
            "max-age" => max_age = argument.and_then(|a| a.parse::<i64>().ok()),
            _ => {}
        }
    }
    max_age.map_or(DEFAULT_FRESH, |seconds| seconds.clamp(MIN_FRESH, MAX_FRESH))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_is_honoured_within_bounds() {
        assert_eq!(freshness(Some("public, max-age=3600")), 3600);
        assert_eq!(freshness(Some("max-age=5")), MIN_FRESH);
        assert_eq!(freshness(Some("max-age=99999999")), MAX_FRESH);
        assert_eq!(freshness(Some("no-store")), MIN_FRESH);
        assert_eq!(freshness(Some("max-age=soon")), DEFAULT_FRESH);
        assert_eq!(freshness(None), DEFAULT_FRESH);
    }
}
