//! Where a user is notified: channels, their names, and webhook URLs that cannot
//! point inside the network the server runs in.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The kinds of channel. Each kind has its own target and its own way of
/// delivering; the delivery bookkeeping is the same for all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelKind {
    /// A signed `POST` (Standard Webhooks) to a URL.
    Webhook,
    /// A Web Push message (RFC 8030/8291/8292) to a browser's push subscription.
    WebPush,
}

impl ChannelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Webhook => "webhook",
            ChannelKind::WebPush => "web_push",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "webhook" => Ok(ChannelKind::Webhook),
            "web_push" => Ok(ChannelKind::WebPush),
            other => Err(format!(
                "unknown channel type {other:?}; use \"webhook\" or \"web_push\""
            )),
        }
    }
}

/// A channel's name: 1–100 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelName(String);

impl ChannelName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let name = raw.trim();
        match name.chars().count() {
            0 => Err("name must not be empty".into()),
            n if n > 100 => Err("name must be at most 100 characters".into()),
            _ if name.chars().any(char::is_control) => {
                Err("name must not contain control characters".into())
            }
            _ => Ok(ChannelName(name.to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether webhook URLs may point at private addresses and use plain `http`
/// (the `allow_private_webhooks` variable; for local development and tests only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NetworkPolicy {
    /// `https` to public destinations only.
    #[default]
    PublicOnly,
    /// Anything `http` or `https`.
    AllowPrivate,
}

/// A webhook URL the server may call: `https`, no credentials, and (unless the
/// policy allows private destinations) neither a name that stays inside a network
/// (`localhost`, `*.local`, `*.internal`) nor an IP literal that is not globally
/// routable. Names that resolve to private addresses are not caught here (there is
/// no DNS from inside a component); Spin's `block_networks` catches those when it
/// connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(url::Url);

/// The longest webhook URL accepted.
const MAX_URL_LEN: usize = 2048;

impl WebhookUrl {
    pub fn parse(raw: &str, policy: NetworkPolicy) -> Result<Self, String> {
        if raw.len() > MAX_URL_LEN {
            return Err(format!("url must be at most {MAX_URL_LEN} characters"));
        }
        let url = url::Url::parse(raw.trim())
            .map_err(|e| format!("url is not a valid absolute URL ({e})"))?;
        match (url.scheme(), policy) {
            ("https", _) | ("http", NetworkPolicy::AllowPrivate) => {}
            _ => return Err("url must use https".into()),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("url must not contain a user name or password".into());
        }
        if url.fragment().is_some() {
            return Err("url must not contain a fragment (#...)".into());
        }
        check_host(&url, policy).map_err(|e| format!("url {e}"))?;
        Ok(WebhookUrl(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// Whether `url`'s host may be called under `policy`: with [`NetworkPolicy::PublicOnly`],
/// neither a name that stays inside a network nor an IP literal that is not globally
/// routable. The error completes a sentence about the URL ("must point to ...").
pub fn check_host(url: &url::Url, policy: NetworkPolicy) -> Result<(), String> {
    let host = url.host().ok_or("must name a host")?;
    if policy == NetworkPolicy::PublicOnly {
        match host {
            url::Host::Domain(name) => check_name(name)?,
            url::Host::Ipv4(ip) => check_ip(IpAddr::V4(ip))?,
            url::Host::Ipv6(ip) => check_ip(IpAddr::V6(ip))?,
        }
    }
    Ok(())
}

fn check_name(name: &str) -> Result<(), String> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let inside = name == "localhost"
        || [".localhost", ".local", ".internal", ".home.arpa"]
            .iter()
            .any(|suffix| name.ends_with(suffix))
        || !name.contains('.');
    if inside {
        Err(format!(
            "must point to a public host; {name:?} names a machine on a local or internal network"
        ))
    } else {
        Ok(())
    }
}

fn check_ip(ip: IpAddr) -> Result<(), String> {
    match non_global(ip) {
        Some(what) => Err(format!("must point to a public address; {ip} is {what}")),
        None => Ok(()),
    }
}

/// What a non-globally-routable address is, or `None` for a public one.
pub fn non_global(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => non_global_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return non_global_v4(v4);
            }
            let s = v6.segments();
            if v6.is_unspecified() {
                Some("unspecified")
            } else if v6.is_loopback() {
                Some("loopback")
            } else if s[0] & 0xfe00 == 0xfc00 {
                Some("a private (unique local, RFC 4193) address")
            } else if s[0] & 0xffc0 == 0xfe80 {
                Some("link-local")
            } else if s[0] & 0xff00 == 0xff00 {
                Some("multicast")
            } else if s[0] == 0x64 && s[1] == 0xff9b {
                // NAT64 embeds an IPv4 address in the last 32 bits.
                non_global_v4(Ipv4Addr::new(
                    (s[6] >> 8) as u8,
                    s[6] as u8,
                    (s[7] >> 8) as u8,
                    s[7] as u8,
                ))
            } else if s[0] == 0x2001 && s[1] == 0xdb8 {
                Some("reserved for documentation")
            } else if v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
                Some("a cloud metadata address")
            } else {
                None
            }
        }
    }
}

fn non_global_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    if a == 0 {
        Some("unspecified (0.0.0.0/8)")
    } else if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("a private (RFC 1918) address")
    } else if a == 169 && b == 254 {
        Some("link-local (and cloud metadata)")
    } else if a == 100 && (64..128).contains(&b) {
        Some("shared address space (CGNAT, RFC 6598)")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if a >= 240 {
        Some("reserved (240.0.0.0/4) or broadcast")
    } else if (a == 192 && b == 0 && c == 0) || (a == 198 && (b & 0xfe) == 18) {
        Some("reserved for protocol assignments or benchmarking")
    } else if (a == 192 && b == 0 && c == 2)
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
    {
        Some("reserved for documentation")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(raw: &str) -> String {
        WebhookUrl::parse(raw, NetworkPolicy::PublicOnly).unwrap_err()
    }

    #[test]
    fn a_public_https_url_is_accepted() {
        let url = WebhookUrl::parse("https://hooks.example.com/x?y=1", NetworkPolicy::PublicOnly)
            .unwrap();
        assert_eq!(url.as_str(), "https://hooks.example.com/x?y=1");
        assert!(WebhookUrl::parse("https://8.8.8.8/", NetworkPolicy::PublicOnly).is_ok());
    }

    #[test]
    fn internal_destinations_are_refused_in_every_spelling() {
        for raw in [
            "http://hooks.example.com/",
            "https://127.0.0.1/",
            "https://2130706433/",
            "https://0x7f.1/",
            "https://[::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://10.1.2.3/",
            "https://172.16.0.1/",
            "https://192.168.1.1/",
            "https://[fd12:3456::1]/",
            "https://169.254.169.254/latest/meta-data",
            "https://[fe80::1]/",
            "https://100.64.0.1/",
            "https://224.0.0.1/",
            "https://0.0.0.0/",
            "https://[::]/",
            "https://[fd00:ec2::254]/",
            "https://localhost/",
            "https://LOCALHOST./",
            "https://printer.local/",
            "https://metadata.google.internal/",
            "https://intranet/",
            "https://user:pw@hooks.example.com/",
            "ftp://hooks.example.com/",
        ] {
            assert!(
                WebhookUrl::parse(raw, NetworkPolicy::PublicOnly).is_err(),
                "{raw} was accepted"
            );
        }
        assert!(refused("https://10.0.0.1/").contains("private"));
    }

    #[test]
    fn allowing_private_destinations_accepts_loopback_and_http() {
        for raw in [
            "http://127.0.0.1:8080/hook",
            "https://localhost/",
            "http://[::1]/",
        ] {
            assert!(
                WebhookUrl::parse(raw, NetworkPolicy::AllowPrivate).is_ok(),
                "{raw}"
            );
        }
        assert!(WebhookUrl::parse("ftp://x.example/", NetworkPolicy::AllowPrivate).is_err());
    }

    #[test]
    fn a_channel_name_is_trimmed_and_bounded() {
        assert_eq!(ChannelName::parse("  Phone ").unwrap().as_str(), "Phone");
        assert!(ChannelName::parse("   ").is_err());
        assert!(ChannelName::parse(&"x".repeat(101)).is_err());
    }
}
