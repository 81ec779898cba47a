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
