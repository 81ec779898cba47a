//! Who sent a request, and over what: the client's address and whether the
//! request came over HTTPS, as a request extension every battery reads.

use std::net::{IpAddr, SocketAddr};

/// The client of a request as this site believes it: the server that
/// accepted the connection inserts it ([`ClientInfo::direct`]); behind a
/// reverse proxy, a layer that trusts the proxy (tack-security's
/// `ProxyLayer`) rewrites it from the proxy's headers.
///
/// Sessions and CSRF read [`secure`](ClientInfo::secure) to mark cookies
/// `Secure` and to check origins; login throttling reads
/// [`addr`](ClientInfo::addr).
///
/// ```
/// use tack_http::ClientInfo;
///
/// let mut request = http::Request::new(());
/// request
///     .extensions_mut()
///     .insert(ClientInfo::direct("192.0.2.7:50000".parse().unwrap(), false));
/// let client = ClientInfo::of(&request);
/// assert_eq!(client.addr, Some("192.0.2.7".parse().unwrap()));
/// assert!(!client.secure);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ClientInfo {
    /// The client's address; `None` when the server did not say.
    pub addr: Option<IpAddr>,
    /// The address of the connection's other end (the client, or the last
    /// proxy in front of this server).
    pub peer: Option<SocketAddr>,
    /// Whether the request reached the site over HTTPS (here, or at a
    /// trusted proxy in front).
    pub secure: bool,
}

impl ClientInfo {
    /// A client connected straight to this server from `peer`, over TLS
    /// when `tls`.
    pub fn direct(peer: SocketAddr, tls: bool) -> Self {
        ClientInfo {
            addr: Some(peer.ip()),
            peer: Some(peer),
            secure: tls,
        }
    }

    /// What `request` carries, or (when no server inserted anything) what
    /// its URI says: an `https` absolute-form target is secure.
    pub fn of<B>(request: &http::Request<B>) -> Self {
        Self::from_parts(request.extensions(), request.uri())
    }

    /// [`of`](ClientInfo::of) for code that holds the request's parts.
    pub fn from_parts(extensions: &http::Extensions, uri: &http::Uri) -> Self {
        extensions
            .get::<ClientInfo>()
            .copied()
            .unwrap_or_else(|| ClientInfo {
                secure: uri.scheme_str() == Some("https"),
                ..ClientInfo::default()
            })
    }
}
