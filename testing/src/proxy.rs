//! [`TcpProxy`]: a TCP relay a test cuts and restores, to play a database
//! outage.

use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

/// Relays every connection made to [`addr`](TcpProxy::addr) to `upstream`,
/// on plain threads (no runtime). [`cut`](TcpProxy::cut) closes the relayed
/// connections and refuses new ones, as a database that went away;
/// [`restore`](TcpProxy::restore) lets connections through again.
///
/// ```no_run
/// let proxy = tack_test::proxy::TcpProxy::start("127.0.0.1:5432".parse().unwrap()).unwrap();
/// let url = format!("postgres://postgres@{}/test", proxy.addr());
/// // ... connect the code under test to `url`, then:
/// proxy.cut();
/// proxy.restore();
/// # let _ = url;
/// ```
#[derive(Debug)]
pub struct TcpProxy {
    addr: SocketAddr,
    state: Arc<State>,
}

#[derive(Debug, Default)]
struct State {
    cut: AtomicBool,
    stop: AtomicBool,
    open: Mutex<Vec<TcpStream>>,
}

impl State {
    fn close_all(&self) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        for stream in open.drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

impl TcpProxy {
    /// Listens on a free loopback port and relays to `upstream`.
    pub fn start(upstream: SocketAddr) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State::default());
        let shared = state.clone();
        thread::Builder::new()
            .name("tack-test-proxy".into())
            .spawn(move || accept(listener, upstream, shared))?;
        Ok(TcpProxy { addr, state })
    }

    /// The address to connect to instead of the upstream.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Closes every relayed connection and refuses new ones until
    /// [`restore`](TcpProxy::restore).
    pub fn cut(&self) {
        self.state.cut.store(true, Ordering::SeqCst);
        self.state.close_all();
    }

    /// Relays new connections again.
    pub fn restore(&self) {
        self.state.cut.store(false, Ordering::SeqCst);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        self.state.close_all();
        // Wakes the accepting thread so that it sees `stop`.
        let _ = TcpStream::connect(self.addr);
    }
}

fn accept(listener: TcpListener, upstream: SocketAddr, state: Arc<State>) {
    for client in listener.incoming() {
        if state.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(client) = client else { continue };
        if state.cut.load(Ordering::SeqCst) {
            let _ = client.shutdown(Shutdown::Both);
            continue;
        }
        let Ok(server) = TcpStream::connect(upstream) else {
            let _ = client.shutdown(Shutdown::Both);
            continue;
        };
        let (Ok(client_copy), Ok(server_copy)) = (client.try_clone(), server.try_clone()) else {
            continue;
        };
        {
            let mut open = state.open.lock().unwrap_or_else(|p| p.into_inner());
            for stream in [&client, &server] {
                if let Ok(kept) = stream.try_clone() {
                    open.push(kept);
                }
            }
        }
        relay(client, server_copy);
        relay(server, client_copy);
    }
}

/// Copies `from` into `to` on a thread of its own until either closes.
fn relay(mut from: TcpStream, mut to: TcpStream) {
    let _ = thread::Builder::new()
        .name("tack-test-relay".into())
        .spawn(move || {
            let _ = io::copy(&mut from, &mut to);
            let _ = to.shutdown(Shutdown::Both);
            let _ = from.shutdown(Shutdown::Both);
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn relays_then_cuts_then_restores() {
        let echo = TcpListener::bind("127.0.0.1:0").unwrap();
        let upstream = echo.local_addr().unwrap();
        thread::spawn(move || {
            for stream in echo.incoming().flatten() {
                thread::spawn(move || {
                    let mut stream = stream;
                    let mut buf = [0u8; 64];
                    while let Ok(n @ 1..) = stream.read(&mut buf) {
                        let _ = stream.write_all(&buf[..n]);
                    }
                });
            }
        });
        let proxy = TcpProxy::start(upstream).unwrap();
        let roundtrip = |stream: &mut TcpStream| -> io::Result<Vec<u8>> {
            stream.write_all(b"ping")?;
            let mut buf = [0u8; 4];
            stream.read_exact(&mut buf)?;
            Ok(buf.to_vec())
        };
        let mut first = TcpStream::connect(proxy.addr()).unwrap();
        assert_eq!(roundtrip(&mut first).unwrap(), b"ping");
        proxy.cut();
        assert!(
            roundtrip(&mut first).is_err(),
            "the open connection is closed"
        );
        let mut refused = TcpStream::connect(proxy.addr()).unwrap();
        assert!(
            roundtrip(&mut refused).is_err(),
            "new ones are closed at once"
        );
        proxy.restore();
        let mut again = TcpStream::connect(proxy.addr()).unwrap();
        assert_eq!(roundtrip(&mut again).unwrap(), b"ping");
    }
}
