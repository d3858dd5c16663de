//! The client's address: the peer's, or, when the peer is a trusted reverse proxy, the one its
//! `X-Forwarded-For` names. A header from anyone else is ignored, since a client can send any.

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};

/// The address a sign-in is counted under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// Walks `X-Forwarded-For` from the right (the entry the nearest proxy added) past every trusted
/// proxy: the first address that is not one is the client. Entries left of it were written by
/// the client itself and prove nothing. An unreadable entry stops the walk at the last proxy.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let peer = peer.to_canonical();
    if !is_trusted(&peer) {
        return peer;
    }
    // Each line read as bytes: a client's unreadable line must not hide what the proxy appended.
    let hops: Vec<String> = headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .split(',')
                .map(|h| h.trim().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Some(ip) = hop_address(hop) else {
            break;
        };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

/// One `X-Forwarded-For` entry's address: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or
/// `[2001:db8::1]:443`, IPv4-mapped IPv6 read as IPv4.
fn hop_address(hop: &str) -> Option<IpAddr> {
    let bare = match hop.strip_prefix('[') {
        Some(rest) => rest.split(']').next()?,
        None if hop.matches(':').count() == 1 => hop.split(':').next()?,
        None => hop,
    };
    bare.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

impl FromRequestParts<crate::state::AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &crate::state::AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
        Ok(ClientAddr(client_address(
            peer,
            &parts.headers,
            &state.settings.trusted_proxies,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().expect("header"));
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let trusted = ["10.0.0.0/8".parse().expect("net")];
        assert_eq!(
            client_address(ip("203.0.113.9"), &headers(&["1.2.3.4"]), &trusted),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_address(ip("203.0.113.9"), &headers(&[]), &[]),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn a_trusted_proxy_names_the_client_and_spoofed_entries_are_skipped() {
        let trusted = [
            "10.0.0.0/8".parse().expect("net"),
            "::1/128".parse().expect("net"),
        ];
        let h = headers(&["6.6.6.6, 198.51.100.4", "10.1.2.3"]);
        assert_eq!(
            client_address(ip("10.0.0.1"), &h, &trusted),
            ip("198.51.100.4")
        );
        assert_eq!(
            client_address(ip("::1"), &headers(&["198.51.100.4"]), &trusted),
            ip("198.51.100.4")
        );
        // Nothing forwarded: the proxy is the client; garbage: the last proxy is.
        assert_eq!(
            client_address(ip("10.0.0.1"), &headers(&[]), &trusted),
            ip("10.0.0.1")
        );
        assert_eq!(
            client_address(ip("10.0.0.1"), &headers(&["x, 10.9.9.9"]), &trusted),
            ip("10.9.9.9")
        );
        // Ports, brackets and IPv4-mapped peers (a server listening on [::]).
        assert_eq!(
            client_address(
                ip("::ffff:10.0.0.1"),
                &headers(&["198.51.100.4:5678"]),
                &trusted
            ),
            ip("198.51.100.4")
        );
        assert_eq!(
            client_address(ip("10.0.0.1"), &headers(&["[2001:db8::1]:443"]), &trusted),
            ip("2001:db8::1")
        );
    }
}
