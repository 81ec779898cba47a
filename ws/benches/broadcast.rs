//! Broadcast to 1,000 websocket clients on loopback: `tack-ws` groups on a
//! hyper server against a bare tungstenite loop doing the same work.
//!
//! Both servers get the same clients (blocking tungstenite clients read by
//! four threads, round-robin) and the same traffic: `MESSAGES` broadcasts of
//! a 128-byte text, with 1 and then 16 broadcasts in flight. Printed: deliveries
//! per second and the p99 of send-to-read latency.
//!
//! Run: `cargo bench -p tack-ws --bench broadcast`.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tack_ws::{Connection, Consumer, Groups, WsConfig};
use tungstenite::stream::MaybeTlsStream;

#[path = "../tests/common/mod.rs"]
mod common;

const CLIENTS: usize = 1000;
const MESSAGES: usize = 200;
const READERS: usize = 4;

static EPOCH: OnceLock<Instant> = OnceLock::new();

fn now_nanos() -> u64 {
    EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// A 128-byte message carrying its send time.
fn message(k: usize) -> String {
    let text = format!(
        "{{\"type\":\"comment.created\",\"n\":{k},\"sent\":{}}}",
        now_nanos()
    );
    format!("{text:<128}")
}

fn sent_at(text: &str) -> u64 {
    let start = text.find("\"sent\":").expect("a timestamp") + 7;
    let end = text[start..].find('}').expect("the end of the timestamp") + start;
    text[start..end].parse().expect("a number")
}

/// Progress of the reader threads: how many broadcasts each has fully read.
struct Progress {
    rounds: Mutex<Vec<usize>>,
    changed: Condvar,
}

impl Progress {
    fn new() -> Arc<Self> {
        Arc::new(Progress {
            rounds: Mutex::new(vec![0; READERS]),
            changed: Condvar::new(),
        })
    }

    fn advance(&self, reader: usize) {
        self.rounds.lock().unwrap()[reader] += 1;
        self.changed.notify_all();
    }

    /// Waits until every reader has read at least `rounds` broadcasts.
    fn wait(&self, rounds: usize) {
        let guard = self.rounds.lock().unwrap();
        let _guard = self
            .changed
            .wait_while(guard, |done| {
                done.iter().copied().min().unwrap_or(0) < rounds
            })
            .unwrap();
    }
}

type Client = tungstenite::WebSocket<MaybeTlsStream<TcpStream>>;

fn connect_clients(addr: SocketAddr) -> Vec<Client> {
    (0..CLIENTS)
        .map(|_| {
            let (client, _) =
                tungstenite::connect(format!("ws://{addr}/ws/bench/")).expect("a client connects");
            if let MaybeTlsStream::Plain(stream) = client.get_ref() {
                stream
                    .set_read_timeout(Some(Duration::from_secs(30)))
                    .unwrap();
            }
            client
        })
        .collect()
}

/// Starts the reader threads; they return every latency in nanoseconds.
fn start_readers(
    clients: Vec<Client>,
    progress: &Arc<Progress>,
) -> Vec<std::thread::JoinHandle<Vec<u64>>> {
    let mut shares: Vec<Vec<Client>> = (0..READERS).map(|_| Vec::new()).collect();
    for (i, client) in clients.into_iter().enumerate() {
        shares[i % READERS].push(client);
    }
    shares
        .into_iter()
        .enumerate()
        .map(|(reader, mut share)| {
            let progress = progress.clone();
            std::thread::spawn(move || {
                let mut latencies = Vec::with_capacity(share.len() * MESSAGES);
                for _ in 0..MESSAGES {
                    for client in &mut share {
                        let text = loop {
                            match client.read().expect("a broadcast arrives") {
                                tungstenite::Message::Text(text) => break text,
                                _ => continue,
                            }
                        };
                        latencies.push(now_nanos().saturating_sub(sent_at(&text)));
                    }
                    progress.advance(reader);
                }
                latencies
            })
        })
        .collect()
}

struct Figures {
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

/// Sends `MESSAGES` broadcasts with `broadcast`, keeping `window` in flight.
fn run(clients: Vec<Client>, window: usize, mut broadcast: impl FnMut(String)) -> Figures {
    let progress = Progress::new();
    let readers = start_readers(clients, &progress);
    let started = Instant::now();
    for k in 0..MESSAGES {
        progress.wait((k + 1).saturating_sub(window));
        broadcast(message(k));
    }
    let mut latencies: Vec<u64> = readers
        .into_iter()
        .flat_map(|reader| reader.join().unwrap())
        .collect();
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    let at = |q: f64| {
        Duration::from_nanos(
            latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)],
        )
    };
    Figures {
        per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
    }
}

struct Joiner {
    groups: Groups,
}

impl Consumer for Joiner {
    fn connect(
        &mut self,
        connection: &Connection,
        _request: &http::request::Parts,
    ) -> Result<(), tack_http::Problem> {
        self.groups
            .join("bench", connection)
            .map_err(|error| error.to_problem())
    }
}

fn ours(window: usize) -> Figures {
    let groups = Groups::in_memory();
    let factory_groups = groups.clone();
    let factory = move || Joiner {
        groups: factory_groups.clone(),
    };
    let server = common::serve(common::endpoint(factory, WsConfig::default()));
    let clients = connect_clients(server.addr());
    while groups.local_len("bench") < CLIENTS {
        std::thread::yield_now();
    }
    run(clients, window, |text| {
        groups.broadcast("bench", text).unwrap()
    })
}

fn bare_tungstenite(window: usize) -> Figures {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = std::thread::spawn(move || {
        (0..CLIENTS)
            .map(|_| {
                let (stream, _) = listener.accept().unwrap();
                stream.set_nodelay(true).unwrap();
                tungstenite::accept(stream).expect("a server handshake")
            })
            .collect::<Vec<_>>()
    });
    let clients = connect_clients(addr);
    let mut servers = acceptor.join().unwrap();
    let result = run(clients, window, |text| {
        let message = tungstenite::Message::text(text);
        for server in &mut servers {
            server.send(message.clone()).unwrap();
        }
    });
    drop(servers);
    result
}

fn main() {
    println!(
        "broadcast of {MESSAGES} messages (128 bytes) to {CLIENTS} websocket clients on loopback"
    );
    for window in [1, 16] {
        let bare = bare_tungstenite(window);
        let tack = ours(window);
        println!("{window} broadcast(s) in flight:");
        for (name, figures) in [
            ("bare tungstenite loop", &bare),
            ("tack-ws Groups (hyper)", &tack),
        ] {
            println!(
                "  {name:<24} {:>8.0} messages/s   p50 {:>9.2?}   p99 {:>9.2?}",
                figures.per_second, figures.p50, figures.p99
            );
        }
        println!(
            "  tack-ws / bare: throughput {:.2}x, p99 latency {:.2}x",
            tack.per_second / bare.per_second,
            tack.p99.as_secs_f64() / bare.p99.as_secs_f64()
        );
    }
}
