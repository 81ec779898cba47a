//! A real browser (Debian's Chromium, driven through chromedriver's
//! WebDriver protocol) signs in, writes an article with a tag at /write/ and
//! sees it in the list. Skipped, saying so, when chromedriver is not
//! installed; under `CI=true` that is a failure (`.ci/run` installs it).

mod common;

use std::net::{SocketAddr, TcpListener};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::*;
use serde_json::{Value, json};
use tack_orm::prelude::*;

use newsroom::models::Author;

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// chromedriver on a port of its own, stopped on drop.
struct Driver {
    child: Child,
    addr: SocketAddr,
    session: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // chromedriver leads its own process group: the browsers it started
        // go with it, even when a failed test never closed its session.
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn program(env: &str, default: &str) -> Option<String> {
    let path = std::env::var(env).unwrap_or_else(|_| default.to_owned());
    std::path::Path::new(&path).exists().then_some(path)
}

impl Driver {
    async fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let request = http::Request::builder()
            .method(method)
            .uri(path)
            .header("host", "localhost")
            .header("content-type", "application/json")
            .body(Bytes::from(if method == "POST" {
                body.to_string()
            } else {
                String::new()
            }))
            .unwrap();
        let response = tack_test::send(self.addr, request).await;
        let answer: Value = serde_json::from_slice(response.body()).unwrap_or(Value::Null);
        assert!(response.status().is_success(), "{method} {path}: {answer}");
        answer["value"].clone()
    }

    async fn start(chromedriver: &str, chromium: &str) -> Driver {
        let port = free_port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let mut driver = Driver {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            session: String::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(driver.addr).await.is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on {port}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
            }
        }}});
        let session = driver.call("POST", "/session", capabilities).await;
        driver.session = session["sessionId"]
            .as_str()
            .expect("a session id")
            .to_owned();
        driver
    }

    async fn go(&self, url: &str) {
        self.call(
            "POST",
            &format!("/session/{}/url", self.session),
            json!({ "url": url }),
        )
        .await;
    }

    async fn find(&self, css: &str) -> String {
        let found = self
            .call(
                "POST",
                &format!("/session/{}/element", self.session),
                json!({"using": "css selector", "value": css}),
            )
            .await;
        found[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_owned()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.call(
            "POST",
            &format!("/session/{}/element/{element}/value", self.session),
            json!({ "text": text }),
        )
        .await;
    }

    async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.call(
            "POST",
            &format!("/session/{}/element/{element}/click", self.session),
            json!({}),
        )
        .await;
    }

    /// Clicks what submits a form or follows a link, and waits (up to 10 s)
    /// until the browser has left the page it was on.
    async fn click_and_wait(&self, css: &str) {
        let before = self.url().await;
        self.click(css).await;
        for _ in 0..200 {
            if self.url().await != before {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn url(&self) -> String {
        self.call(
            "GET",
            &format!("/session/{}/url", self.session),
            Value::Null,
        )
        .await
        .as_str()
        .unwrap_or("")
        .to_owned()
    }

    async fn source(&self) -> String {
        self.call(
            "GET",
            &format!("/session/{}/source", self.session),
            Value::Null,
        )
        .await
        .as_str()
        .unwrap_or("")
        .to_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_writes_an_article_with_a_tag() {
    let (Some(chromedriver), Some(chromium)) = (
        program("CHROMEDRIVER", "/usr/bin/chromedriver"),
        program("CHROMIUM", "/usr/bin/chromium"),
    ) else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true and no chromium/chromedriver: .ci/run installs Debian's chromium and chromium-driver"
        );
        println!(
            "skipping the browser test: /usr/bin/chromedriver or /usr/bin/chromium is missing (apt-get install chromium chromium-driver)"
        );
        return;
    };
    let file = tack_test::db::sqlite();
    let url = file.url();
    let app = tokio::task::spawn_blocking(move || {
        let app = newsroom::app(&settings_for(&url)).unwrap();
        create_user(&url, "ada", false);
        let db = Database::connect(&url).unwrap();
        let user: tack_auth::models::User = tack_auth::models::User::objects()
            .filter_by_name("username", "ada")
            .unwrap()
            .one(&db)
            .unwrap();
        let mut author = Author::objects()
            .filter(Author::DISPLAY_NAME.eq("Ada Reporter"))
            .one(&db)
            .unwrap();
        author.user = Some(ForeignKey::new(user.id));
        author.save(&db).unwrap();
        app
    })
    .await
    .unwrap();
    let server = tack_test::serve(app);
    let site = format!("http://localhost:{}", server.addr().port());
    let browser = Driver::start(&chromedriver, &chromium).await;

    browser.go(&format!("{site}/write/")).await;
    assert!(
        browser
            .url()
            .await
            .contains("/accounts/login/?next=/write/"),
        "{}",
        browser.url().await
    );
    browser.type_into("#id_username", "ada").await;
    browser.type_into("#id_password", PASSWORD).await;
    browser
        .click_and_wait("form.stacked button[type=submit]")
        .await;
    assert_eq!(
        browser.url().await,
        format!("{site}/write/"),
        "{}",
        browser.source().await
    );

    browser.click_and_wait("a.button[href='/write/new/']").await;
    browser
        .type_into("#id_title", "Gulls learn to open bins")
        .await;
    browser.type_into("#id_slug", "gulls-bins").await;
    browser
        .type_into("#id_body", "Seen on the harbour wall.")
        .await;
    browser.click("#id_tags option:nth-child(3)").await;
    browser
        .click_and_wait(".crud-form button[type=submit]")
        .await;
    let detail = browser.source().await;
    assert!(
        detail.contains("The article “Gulls learn to open bins” was added successfully."),
        "{detail}"
    );

    browser.click_and_wait("a[href='/write/']").await;
    let list = browser.source().await;
    assert!(list.contains("Gulls learn to open bins"), "{list}");
    let tag = tokio::task::spawn_blocking(move || {
        let db = Database::connect(&file.url()).unwrap();
        let article = newsroom::models::Article::objects()
            .filter(newsroom::models::Article::SLUG.eq("gulls-bins"))
            .one(&db)
            .unwrap();
        article
            .tags()
            .all(&db)
            .unwrap()
            .into_iter()
            .map(|t| t.name)
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    assert_eq!(tag.len(), 1, "one tag chosen in the browser");
    browser
        .call(
            "DELETE",
            &format!("/session/{}", browser.session),
            Value::Null,
        )
        .await;
}
