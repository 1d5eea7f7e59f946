//! The client's address behind a reverse proxy. With several instances
//! behind a load balancer every connection comes from the proxy, so the
//! peer address says nothing of the client: the rate limit would count all
//! clients as one, and the audit log and the sign-in limits would record
//! the proxy. When (and only when) the peer is one of the configured
//! `trusted_proxies`, the client is taken from `X-Forwarded-For`: the
//! right-most address in it that is not itself a trusted proxy (the
//! left-most entries are whatever the client chose to send, and are never
//! believed). The request's `ConnectInfo` is replaced by that address, so
//! that everything after this layer — the rate limiter, the audit log of the
//! API and of the web app, the sign-in limits — sees the client.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request};
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;

/// Parses the configured proxies: addresses (`10.0.0.5`) or networks
/// (`10.0.0.0/8`).
pub fn parse(list: &[String]) -> anyhow::Result<Vec<IpNet>> {
    list.iter()
        .map(|s| {
            let s = s.trim();
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    anyhow::anyhow!(
                        "api.trusted_proxies: \"{s}\" is neither an address nor a network (e.g. 10.0.0.5 or 10.0.0.0/8)"
                    )
                })
        })
        .collect()
}

/// The client behind `peer`, given the `X-Forwarded-For` values in order.
pub fn client(peer: IpAddr, forwarded: &[&str], trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = forwarded
        .iter()
        .flat_map(|h| h.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        // A hop that is not an address ends the chain: what is left of it
        // cannot be trusted.
        let Ok(ip) = hop
            .parse::<IpAddr>()
            .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()).map_err(|_| ()))
        else {
            break;
        };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

/// The layer: rewrites `ConnectInfo` when the peer is a trusted proxy.
pub async fn real_client(
    trusted: std::sync::Arc<Vec<IpNet>>,
    mut req: Request,
    next: Next,
) -> Response {
    if !trusted.is_empty()
        && let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>().copied()
    {
        let values: Vec<&str> = req
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let ip = client(peer.ip(), &values, &trusted);
        if ip != peer.ip() {
            req.extensions_mut()
                .insert(ConnectInfo(SocketAddr::new(ip, peer.port())));
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_trusted_peer_is_believed_and_only_up_to_the_first_stranger() {
        let trusted = parse(&["10.0.0.0/8".into(), "192.168.1.5".into()]).unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // Not through a trusted proxy: the header is ignored.
        assert_eq!(
            client(ip("203.0.113.9"), &["1.2.3.4"], &trusted),
            ip("203.0.113.9")
        );
        // Through one proxy.
        assert_eq!(
            client(ip("10.1.1.1"), &["198.51.100.7"], &trusted),
            ip("198.51.100.7")
        );
        // A client that forges a left-most entry is still named by the
        // proxy's own right-most entry.
        assert_eq!(
            client(ip("10.1.1.1"), &["1.1.1.1, 198.51.100.7"], &trusted),
            ip("198.51.100.7")
        );
        // Two proxies in a row, over two headers.
        assert_eq!(
            client(ip("10.1.1.1"), &["198.51.100.7", "192.168.1.5"], &trusted),
            ip("198.51.100.7")
        );
        // Garbage: the proxy itself.
        assert_eq!(
            client(ip("10.1.1.1"), &["nonsense"], &trusted),
            ip("10.1.1.1")
        );
        assert_eq!(client(ip("10.1.1.1"), &[], &trusted), ip("10.1.1.1"));
        assert!(parse(&["10.0.0.0/33".into()]).is_err());
        assert!(
            parse(&["proxy.example.jp".into()])
                .unwrap_err()
                .to_string()
                .contains("proxy.example.jp")
        );
    }
}
