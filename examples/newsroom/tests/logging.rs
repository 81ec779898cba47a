//! The log an operator reads: a line per request, and the reasons for
//! refusals (which clients in production do not see).

mod common;

use common::{create_user, sqlite_app, token};
use http::StatusCode;
use serde_json::json;
use tack_test::TestClient;

/// A log sink the test reads back.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

// The only test of this binary: the subscriber is the process's own, so no
// other test's thread can leave the log's call sites switched off.
#[tokio::test]
async fn requests_are_logged_and_refusals_say_why_in_the_log_only() {
    use tracing_subscriber::layer::SubscriberExt;
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::registry().with(
        tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(move || sink.clone()),
    );
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let (file, app) = sqlite_app();
    create_user(&file.url(), "reader", false);
    let client = TestClient::new(app);
    let reader = token(&client, "reader").await;
    let me = client
        .get("/api/auth/tokens/")
        .header("authorization", &format!("Bearer {reader}"))
        .send()
        .await;
    assert_eq!(me.status(), StatusCode::OK);
    // A forged cross-site form post: the client hears only that it failed.
    let forged = client
        .post("/api/comments/")
        .header("accept", "application/json")
        .json(&json!({"article": 1, "body": "x"}))
        .send()
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let answer = forged.text();
    assert!(!answer.contains("cookie"), "{answer}");

    let log = captured.text();
    let line = |needle: &str| {
        log.lines()
            .find(|line| line.contains(needle))
            .unwrap_or_else(|| panic!("no log line with {needle:?} in:\n{log}"))
            .to_owned()
    };
    let listed = line(r#"path="/api/auth/tokens/""#);
    assert!(
        listed.contains("INFO") && listed.contains("status=200"),
        "{listed}"
    );
    assert!(listed.contains(r#"method="GET""#) && listed.contains("duration_ms="));
    assert!(
        !listed.contains(r#"user="-""#),
        "the user's id is logged: {listed}"
    );
    let refused = line(r#"path="/api/comments/" status=403"#);
    assert!(refused.contains("WARN"), "{refused}");
    let reason = line("request refused");
    assert!(reason.contains("CSRF cookie not set"), "{reason}");
}
