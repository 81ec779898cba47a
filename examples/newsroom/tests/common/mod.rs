//! What the newsroom's tests share: settings on a temporary database, the
//! app and a client on it, and a signed-in client. A server on a loopback
//! port is `tack_test::serve(app)`.

#![allow(dead_code)]

use newsroom::{App, Settings};
use tack_test::TestClient;

/// A secret key long enough for the deployment checks.
pub const SECRET: &str = "a-test-secret-key-that-is-long-enough-0123456789";
/// The password the tests' users have.
pub const PASSWORD: &str = "correct horse battery staple";

/// Settings for the database at `url`.
pub fn settings_for(url: &str) -> Settings {
    settings_with(url, &[])
}

/// Settings for the database at `url`, with these variables as well.
pub fn settings_with(url: &str, vars: &[(&str, &str)]) -> Settings {
    Settings::from_lookup(|name| match name {
        "DATABASE_URL" => Some(url.to_owned()),
        "NEWSROOM_SECRET_KEY" => Some(SECRET.to_owned()),
        // Uploads of the tests go to a temporary folder, never the checkout.
        "NEWSROOM_MEDIA_ROOT" => Some(media_root(url).display().to_string()),
        _ => vars
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| (*value).to_owned()),
    })
    .unwrap()
}

/// The media folder of the app on the database at `url` (one per test).
pub fn media_root(url: &str) -> std::path::PathBuf {
    let name: String = url
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    std::env::temp_dir().join(format!("newsroom-test-media-{name}"))
}

/// Settings on a fresh SQLite file (kept while the first value lives).
pub fn settings() -> (tack_test::db::TempSqlite, Settings) {
    let file = tack_test::db::sqlite();
    let settings = settings_for(&file.url());
    (file, settings)
}

/// The app on a fresh SQLite file (kept while the first value lives).
pub fn sqlite_app() -> (tack_test::db::TempSqlite, App) {
    let (file, settings) = settings();
    let app = newsroom::app(&settings).unwrap();
    (file, app)
}

/// An in-process client of the app on a fresh SQLite file.
pub fn client() -> (tack_test::db::TempSqlite, TestClient<App>) {
    let (file, app) = sqlite_app();
    (file, TestClient::new(app))
}

/// Creates a user; `superuser` ones may do everything.
pub fn create_user(db_url: &str, username: &str, superuser: bool) {
    let db = tack_orm::Database::connect(db_url).unwrap();
    let hasher = tack_auth::PasswordHasher::new();
    let password = tack_auth::Password::new(PASSWORD);
    let validators = tack_auth::Validators::default();
    let email = format!("{username}@example.com");
    let user = if superuser {
        tack_auth::create_superuser(username, &email, &password, &validators, &hasher)
    } else {
        tack_auth::create_user(username, &email, &password, &validators, &hasher)
    }
    .unwrap();
    tack_auth::db::insert_user(&db, user).unwrap();
}

/// The CSRF token of the first form on a page.
pub fn csrf_token(html: &str) -> String {
    let marker = r#"name="csrfmiddlewaretoken" value=""#;
    let start = html.find(marker).expect("a form with a CSRF token") + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_owned()
}

/// Signs `username` in through the login form; answers the redirect.
pub async fn sign_in(
    client: &TestClient<App>,
    username: &str,
    next: &str,
) -> tack_test::TestResponse {
    let form = client.get("/accounts/login/").send().await;
    let token = csrf_token(&form.text());
    client
        .post("/accounts/login/")
        .form(&[
            ("csrfmiddlewaretoken", token.as_str()),
            ("username", username),
            ("password", PASSWORD),
            ("next", next),
        ])
        .send()
        .await
}

/// An API token for `username` (whose password is [`PASSWORD`]).
pub async fn token(client: &TestClient<App>, username: &str) -> String {
    let response = client
        .post("/api/auth/token/")
        .json(&serde_json::json!({"username": username, "password": PASSWORD}))
        .send()
        .await;
    assert_eq!(
        response.status(),
        http::StatusCode::CREATED,
        "{}",
        response.text()
    );
    response.json::<serde_json::Value>()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A live-comments viewer's socket on `/ws/articles/{slug}/`, reading with
/// a 5 s timeout; the handshake's status when it is refused.
pub fn viewer(
    addr: std::net::SocketAddr,
    slug: &str,
) -> Result<tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>, u16> {
    match tungstenite::connect(format!("ws://{addr}/ws/articles/{slug}/")) {
        Ok((mut socket, _)) => {
            if let tungstenite::stream::MaybeTlsStream::Plain(tcp) = socket.get_mut() {
                tcp.set_read_timeout(Some(std::time::Duration::from_secs(5)))
                    .unwrap();
            }
            Ok(socket)
        }
        Err(tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
        Err(other) => panic!("the handshake failed: {other}"),
    }
}

/// Sends `request` on a new connection to `port` and reads the answer to
/// the end (the request says `Connection: close`).
pub fn exchange(port: u16, request: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

/// A JSON `POST` to `path` on `port`, with a bearer token if given: the
/// status and the body.
pub fn post_json(port: u16, path: &str, body: &str, bearer: Option<&str>) -> (u16, String) {
    let authorization = bearer.map_or_else(String::new, |token| {
        format!("Authorization: Bearer {token}\r\n")
    });
    let answer = exchange(
        port,
        &format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
             Content-Type: application/json\r\n{authorization}Content-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    );
    let status = answer
        .get(9..12)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"));
    let body = answer
        .split_once("\r\n\r\n")
        .map_or("", |(_, body)| body)
        .to_owned();
    (status, body)
}

/// The newsroom binary serving on a free loopback port, its log kept in a
/// file that is printed if the test fails; killed on drop.
pub struct Process {
    child: std::process::Child,
    /// The port it listens on.
    pub port: u16,
    log: tempfile::NamedTempFile,
}

impl Process {
    /// Starts `newsroom serve` on `database_url` with the tests' secret key
    /// and these variables; returns at once (see [`Process::wait_ready`]).
    pub fn start(database_url: &str, vars: &[(&str, &str)]) -> Process {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = tempfile::NamedTempFile::new().expect("a log file");
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_newsroom"));
        command
            .env("DATABASE_URL", database_url)
            .env("NEWSROOM_SECRET_KEY", SECRET)
            .env("NEWSROOM_ADDR", format!("127.0.0.1:{port}"))
            .env("NEWSROOM_MEDIA_ROOT", media_root(database_url))
            .env("NEWSROOM_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(log.reopen().expect("the log file"));
        for (name, value) in vars {
            command.env(name, value);
        }
        let child = command.spawn().expect("start the newsroom");
        Process { child, port, log }
    }

    /// The listening address.
    pub fn addr(&self) -> std::net::SocketAddr {
        std::net::SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Waits until `/readyz` answers 200 (probed by address, as an
    /// orchestrator does), failing with the log after a minute.
    pub fn wait_ready(&mut self) {
        let probe = "GET /readyz HTTP/1.1\r\nHost: 10.1.2.3\r\nConnection: close\r\n\r\n";
        let started = std::time::Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "the newsroom exited ({status}) while starting:\n{}",
                    self.log()
                );
            }
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                let ready = exchange(self.port, probe);
                if ready.starts_with("HTTP/1.1 200") && ready.contains(r#"{"status":"ok"}"#) {
                    return;
                }
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(60),
                "the newsroom was not ready within a minute:\n{}",
                self.log()
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// Sends SIGTERM, as an orchestrator stopping the process does.
    pub fn terminate(&self) {
        let killed = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(killed.success());
    }

    /// Waits (at most 10 s) for the process to exit, and its status.
    pub fn wait_exit(&mut self) -> std::process::ExitStatus {
        let started = std::time::Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(10),
                "the newsroom did not exit:\n{}",
                self.log()
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// What the process logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("log of the newsroom on port {}:\n{}", self.port, self.log());
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a process stopped by [`sigterm_during_a_request_and_a_websocket`] did.
#[derive(Debug)]
pub struct Stopped {
    /// Whether a new connection was refused once it was shutting down.
    pub refused_new_connections: bool,
    /// The close code its live-comments viewer got.
    pub close_code: Option<u16>,
    /// The first line of the answer to the request in flight.
    pub answer: String,
    /// How it exited.
    pub exit: std::process::ExitStatus,
}

impl Stopped {
    /// The rolling deploy's promise: no new connections, the viewer told
    /// 1001 (going away, so the page reconnects elsewhere), the request
    /// answered, exit 0.
    pub fn assert_graceful(&self) {
        assert!(self.refused_new_connections, "{self:?}");
        assert_eq!(self.close_code, Some(1001), "{self:?}");
        assert!(
            self.answer.starts_with("HTTP/1.1 400") || self.answer.starts_with("HTTP/1.1 401"),
            "the request in flight is answered: {self:?}"
        );
        assert!(self.exit.success(), "{self:?}");
    }
}

/// Sends SIGTERM to `server` while a live-comments viewer is connected and
/// a request's body is still on its way, then finishes the request.
pub fn sigterm_during_a_request_and_a_websocket(server: &mut Process) -> Stopped {
    use std::io::{Read, Write};
    use std::time::Duration;
    let mut socket = viewer(server.addr(), "tides-rise").expect("a published article's socket");
    let body = r#"{"username": "nobody", "password": "wrong"}"#;
    let mut in_flight = std::net::TcpStream::connect(server.addr()).unwrap();
    in_flight
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        in_flight,
        "POST /api/auth/token/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{}",
        body.len(),
        &body[..10]
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    server.terminate();
    std::thread::sleep(Duration::from_millis(500));
    let refused_new_connections = std::net::TcpStream::connect(server.addr()).is_err();
    let close_code = loop {
        match socket.read() {
            Ok(tungstenite::Message::Close(frame)) => break frame.map(|f| u16::from(f.code)),
            Ok(_) => continue,
            Err(_) => break None,
        }
    };
    // Answer the close, as a browser does.
    let _ = socket.flush();
    in_flight.write_all(&body.as_bytes()[10..]).unwrap();
    let mut answer = String::new();
    let _ = in_flight.read_to_string(&mut answer);
    let answer = answer.lines().next().unwrap_or_default().to_owned();
    Stopped {
        refused_new_connections,
        close_code,
        answer,
        exit: server.wait_exit(),
    }
}
