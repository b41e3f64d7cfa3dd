//! The address a portal request comes from ([`app::portal::ClientAddress`]): the
//! connection's peer, or behind a proxy the server is told to trust (`TRUST_FORWARDED_FOR`),
//! the last `X-Forwarded-For` entry, the one that proxy appended. Earlier entries are the
//! client's own word and are ignored.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use app::portal::ClientAddress;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;

pub(super) async fn resolve(State(trust_forwarded_for): State<bool>, mut request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip());
    let forwarded = if trust_forwarded_for { last_forwarded(request.headers()) } else { None };
    let address = forwarded.or(peer).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    request.extensions_mut().insert(ClientAddress(address));
    next.run(request).await
}

/// The last address of the last `X-Forwarded-For` header.
fn last_forwarded(headers: &HeaderMap) -> Option<IpAddr> {
    let last = headers.get_all("x-forwarded-for").iter().next_back()?.to_str().ok()?;
    last.rsplit(',').next()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_proxys_entry_is_the_last_one() {
        let mut headers = HeaderMap::new();
        assert_eq!(last_forwarded(&headers), None);
        headers.append("x-forwarded-for", "10.0.0.1, 203.0.113.9".parse().unwrap());
        assert_eq!(last_forwarded(&headers), Some("203.0.113.9".parse().unwrap()));
        headers.append("x-forwarded-for", " 2001:db8::7 ".parse().unwrap());
        assert_eq!(last_forwarded(&headers), Some("2001:db8::7".parse().unwrap()));
        headers.append("x-forwarded-for", "not an address".parse().unwrap());
        assert_eq!(last_forwarded(&headers), None);
    }
}
