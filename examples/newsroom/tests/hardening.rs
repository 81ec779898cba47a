//! What an attacker and a bad day do to the newsroom: each test is named by
//! what it tried, and failed before the fix it guards.

mod common;

use common::{client, create_user, sqlite_app, token, viewer};
use http::StatusCode;
use serde_json::{Value, json};
use tack_test::TestClient;

#[tokio::test]
async fn append_slash_redirects_are_absolute_and_escaped() {
    let (_file, client) = client();
    // No route of the newsroom takes a `\\` (tack-routing's own tests
    // show one escaped); a path that is not a slug is a plain 404.
    let response = client.get("/articles/\\\\evil.example").send().await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(response.location(), None);
    let plain = client.get("/articles/tides-rise?x=1").send().await;
    assert_eq!(plain.location(), Some("/articles/tides-rise/?x=1"));
}

#[tokio::test]
async fn a_huge_page_number_is_a_404_not_a_500() {
    let (_file, client) = client();
    for uri in ["/?page=18446744073709551615", "/?page=9223372036854775807"] {
        let page = client.get(uri).send().await;
        assert_eq!(page.status(), StatusCode::NOT_FOUND, "{uri}");
    }
    let api = client
        .get("/api/articles/?page=18446744073709551615")
        .send()
        .await;
    assert_eq!(api.status(), StatusCode::NOT_FOUND, "{}", api.text());
}

#[tokio::test]
async fn a_search_of_a_thousand_words_is_a_400_naming_the_limit() {
    let (_file, client) = client();
    let words = vec!["tide"; 1_000].join("+");
    let api = client
        .get(&format!("/api/articles/?search={words}"))
        .send()
        .await;
    assert_eq!(api.status(), StatusCode::BAD_REQUEST, "{}", api.text());
    assert!(api.text().contains("at most 32 words"), "{}", api.text());
    // Within the limit, the search runs.
    let words = vec!["tide"; 32].join("+");
    let fine = client
        .get(&format!("/api/articles/?search={words}"))
        .send()
        .await;
    assert_eq!(fine.status(), StatusCode::OK, "{}", fine.text());
}

#[tokio::test]
async fn slugs_are_validated_like_djangos_slug_field() {
    let (file, app) = sqlite_app();
    create_user(&file.url(), "editor", true);
    let client = TestClient::new(app);
    let editor = token(&client, "editor").await;
    for slug in ["../../x", "a b", "a/b", "ünï", ""] {
        let response = client
            .patch("/api/articles/1/")
            .header("authorization", &format!("Bearer {editor}"))
            .json(&json!({ "slug": slug }))
            .send()
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{slug:?}: {}",
            response.text()
        );
        let problem: Value = response.json();
        assert!(problem["errors"].get("slug").is_some(), "{problem}");
    }
    // Nothing changed: the front page still renders every article.
    let home = client.get("/").send().await;
    assert_eq!(home.status(), StatusCode::OK);
}

/// Sends `request` as it is over a real socket; answers the status line.
fn raw_status(addr: std::net::SocketAddr, request: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn two_host_headers_and_foreign_absolute_targets_are_400() {
    let (_file, app) = sqlite_app();
    let server = tack_test::serve(app);
    let addr = server.addr();
    let status = |request: &str| raw_status(addr, request);
    assert_eq!(
        status("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"),
        "HTTP/1.1 200 OK"
    );
    assert_eq!(
        status(
            "GET / HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\nConnection: close\r\n\r\n"
        ),
        "HTTP/1.1 400 Bad Request",
        "two Host headers"
    );
    assert_eq!(
        status("GET http://evil.example/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"),
        "HTTP/1.1 400 Bad Request",
        "an absolute-form target naming another host"
    );
    assert_eq!(
        status("GET http://localhost/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"),
        "HTTP/1.1 200 OK"
    );
}

/// A request to `addr` over a real socket, `Host: localhost`.
async fn send(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> http::Response<bytes::Bytes> {
    let mut request = http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(bytes::Bytes::from(body.to_owned())).unwrap();
    tack_test::send(addr, request).await
}

/// Asks for an API token as `username` from the client address `from`
/// (sent as `X-Forwarded-For`); answers the status.
async fn token_status(
    addr: std::net::SocketAddr,
    username: &str,
    password: &str,
    from: &str,
) -> u16 {
    let body = json!({ "username": username, "password": password }).to_string();
    let headers = [
        ("content-type", "application/json"),
        ("x-forwarded-for", from),
    ];
    send(addr, "POST", "/api/auth/token/", &headers, &body)
        .await
        .status()
        .as_u16()
}

/// 40 wrong passwords for `username` at once from `from`: the statuses.
async fn burst(addr: std::net::SocketAddr, username: &str, from: &str) -> Vec<u16> {
    let attempts: Vec<_> = (0..40)
        .map(|_| {
            let (username, from) = (username.to_owned(), from.to_owned());
            tokio::spawn(async move { token_status(addr, &username, "wrong", &from).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for attempt in attempts {
        statuses.push(attempt.await.unwrap());
    }
    statuses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_parallel_wrong_passwords_are_not_all_checked() {
    let (file, app) = sqlite_app();
    create_user(&file.url(), "reader", false);
    let server = tack_test::serve(app);
    let statuses = burst(server.addr(), "reader", "203.0.113.9").await;
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(checked + throttled, 40, "{statuses:?}");
    assert!(
        checked <= 4,
        "{checked} passwords were checked: {statuses:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_from_one_address_cannot_lock_the_owner_out() {
    // Behind a trusted proxy, each client has its own address: the
    // attacker's burst slows down only the attacker.
    let file = tack_test::db::sqlite();
    let proxied = common::settings_with(&file.url(), &[("NEWSROOM_TRUSTED_PROXIES", "127.0.0.1")]);
    let server = tack_test::serve(newsroom::app(&proxied).unwrap());
    create_user(&file.url(), "reader", false);
    let statuses = burst(server.addr(), "reader", "203.0.113.9").await;
    assert!(statuses.contains(&429), "{statuses:?}");
    let owner = token_status(server.addr(), "reader", common::PASSWORD, "198.51.100.7").await;
    assert_eq!(owner, 201, "the owner signs in from their own address");
    let attacker = token_status(server.addr(), "reader", common::PASSWORD, "203.0.113.9").await;
    assert_eq!(attacker, 429, "the attacker's address stays slowed down");

    // Without trusted proxies `X-Forwarded-For` is whatever a client
    // says, so it is ignored: every client here is 127.0.0.1.
    let file = tack_test::db::sqlite();
    let direct = tack_test::serve(newsroom::app(&common::settings_for(&file.url())).unwrap());
    create_user(&file.url(), "reader", false);
    burst(direct.addr(), "reader", "203.0.113.9").await;
    let claimed = token_status(direct.addr(), "reader", common::PASSWORD, "198.51.100.7").await;
    assert_eq!(claimed, 429, "a forged X-Forwarded-For changes nothing");
}

/// The newsroom on `url`, served on loopback as if behind a TLS proxy there
/// (`X-Forwarded-Proto: https` from 127.0.0.1 is believed).
fn behind_a_tls_proxy(url: &str) -> tack_test::Server {
    let proxied = common::settings_with(
        url,
        &[
            ("NEWSROOM_TRUSTED_PROXIES", "127.0.0.1"),
            ("NEWSROOM_PROXY_SSL_HEADER", "X-Forwarded-Proto: https"),
        ],
    );
    tack_test::serve(newsroom::app(&proxied).unwrap())
}

/// The `Set-Cookie` headers of a response.
fn set_cookies(response: &http::Response<bytes::Bytes>) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn cookies_are_secure_over_https_and_scripted_http_clients_can_sign_in() {
    // Plain HTTP, debug off (the default): cookies a scripted client's jar
    // sends back, so its form posts pass CSRF and sign-in works.
    let (file, app) = sqlite_app();
    create_user(&file.url(), "reader", false);
    let server = tack_test::serve(app);
    let client = tack_test::SocketClient::new(server.addr());
    let form = client.get("/accounts/login/").await;
    let token = common::csrf_token(std::str::from_utf8(form.body()).unwrap());
    let signed_in = client
        .post_form(
            "/accounts/login/",
            &[
                ("csrfmiddlewaretoken", token.as_str()),
                ("username", "reader"),
                ("password", common::PASSWORD),
            ],
        )
        .await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER, "{signed_in:?}");
    assert!(client.cookie("sessionid").is_some());

    // Through a trusted TLS proxy: Secure.
    let file = tack_test::db::sqlite();
    let server = behind_a_tls_proxy(&file.url());
    let https = send(
        server.addr(),
        "GET",
        "/accounts/login/",
        &[("x-forwarded-proto", "https")],
        "",
    )
    .await;
    let cookies = set_cookies(&https);
    assert!(
        !cookies.is_empty() && cookies.iter().all(|c| c.contains("Secure")),
        "{cookies:?}"
    );
    let http = send(server.addr(), "GET", "/accounts/login/", &[], "").await;
    assert!(set_cookies(&http).iter().all(|c| !c.contains("Secure")));

    // HTTPS only: plain HTTP is redirected, and cookies are always Secure.
    let file = tack_test::db::sqlite();
    let strict = common::settings_with(&file.url(), &[("NEWSROOM_HTTPS_ONLY", "1")]);
    let server = tack_test::serve(newsroom::app(&strict).unwrap());
    let redirected = send(server.addr(), "GET", "/articles/?page=2", &[], "").await;
    assert_eq!(redirected.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(
        redirected.headers()["location"],
        "https://localhost/articles/?page=2"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn comments_on_drafts_do_not_reach_websocket_viewers() {
    let (file, app) = sqlite_app();
    create_user(&file.url(), "editor", true);
    let server = tack_test::serve(app.clone());
    let addr = server.addr();
    let client = TestClient::new(app);
    let editor = token(&client, "editor").await;
    let bearer = format!("Bearer {editor}");

    // A draft has no page, and no live viewers either: its slug is refused
    // like an unknown one.
    let refused = tokio::task::spawn_blocking(move || viewer(addr, "notes-next-week").err())
        .await
        .unwrap();
    assert_eq!(refused, Some(404));

    // A viewer of a published article that is then unpublished hears
    // nothing of the comments made while it is a draft.
    let mut socket = tokio::task::spawn_blocking(move || viewer(addr, "tides-rise").unwrap())
        .await
        .unwrap();
    let comment = async |body: &str| {
        let response = client
            .post("/api/comments/")
            .header("authorization", &bearer)
            .json(&json!({"article": 1, "body": body}))
            .send()
            .await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "{}",
            response.text()
        );
    };
    let set_status = async |status: &str| {
        let response = client
            .patch("/api/articles/1/")
            .header("authorization", &bearer)
            .json(&json!({ "status": status }))
            .send()
            .await;
        assert_eq!(response.status(), StatusCode::OK, "{}", response.text());
    };
    set_status("draft").await;
    comment("said while a draft").await;
    set_status("published").await;
    comment("said once published").await;
    let heard = tokio::task::spawn_blocking(move || {
        loop {
            match socket.read().expect("a comment event within 5 s") {
                tungstenite::Message::Text(text) => {
                    let event: Value = serde_json::from_str(&text).unwrap();
                    break event["comment"]["body"].as_str().unwrap().to_owned();
                }
                _ => continue,
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(heard, "said once published");
}

#[tokio::test]
async fn comments_have_a_length_limit_and_the_article_page_paginates_them() {
    let (file, app) = sqlite_app();
    create_user(&file.url(), "reader", false);
    let client = TestClient::new(app);
    let reader = token(&client, "reader").await;
    let post = async |body: String| {
        client
            .post("/api/comments/")
            .header("authorization", &format!("Bearer {reader}"))
            .json(&json!({"article": 1, "body": body}))
            .send()
            .await
    };
    let long = post("x".repeat(100_000)).await;
    assert_eq!(
        long.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        long.text()
    );
    let problem: Value = long.json();
    assert!(
        problem["errors"]["body"].to_string().contains("2000"),
        "{problem}"
    );
    // The limit counts characters, as Django's does.
    let longest = post("é".repeat(newsroom::pages::MAX_COMMENT_CHARS)).await;
    assert_eq!(longest.status(), StatusCode::CREATED, "{}", longest.text());

    let db = tack_orm::Database::connect(&file.url()).unwrap();
    let comments = (0..60)
        .map(|i| newsroom::models::Comment {
            id: 0,
            article: tack_orm::ForeignKey::new(1),
            author_name: "reader".into(),
            body: format!("comment number {i:02}"),
            created_at: chrono::Utc::now() + chrono::Duration::seconds(i),
        })
        .collect();
    newsroom::models::Comment::objects()
        .bulk_create(&db, comments)
        .unwrap();
    let shown = |html: &str| html.matches("comment number ").count();
    let first = client.get("/articles/tides-rise/").send().await.text();
    let per_page = newsroom::pages::COMMENTS_PER_PAGE as usize;
    assert_eq!(first.matches("<li><strong>").count(), per_page, "{first}");
    assert!(first.contains("Comments page 1 of 2"), "{first}");
    assert!(first.contains("?page=2#comments"));
    let second = client.get("/articles/tides-rise/?page=2").send().await;
    assert_eq!(second.status(), StatusCode::OK);
    let second = second.text();
    assert_eq!(shown(&first) + shown(&second), 60);
    assert!(second.contains("comment number 59"));
    let past = client.get("/articles/tides-rise/?page=3").send().await;
    assert_eq!(past.status(), StatusCode::NOT_FOUND);
}

/// Starts `n` newsroom start-ups (migrate, permissions, seed) on `url` at
/// the same moment, each on its own connections as separate processes are.
fn start_together(url: &str, n: usize) {
    let barrier = std::sync::Barrier::new(n);
    std::thread::scope(|scope| {
        let starts: Vec<_> = (0..n)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    newsroom::db::open(url).map(drop).map_err(|e| e.to_string())
                })
            })
            .collect();
        for start in starts {
            start.join().unwrap().expect("every start-up succeeds");
        }
    });
    let db = tack_orm::Database::connect(url).unwrap();
    let authors = newsroom::models::Author::objects().count(&db).unwrap();
    assert_eq!(authors, 3, "the demo data is seeded once");
    let permissions = tack_auth::models::Permission::objects().count(&db).unwrap();
    assert_eq!(permissions as usize, 4 * newsroom::models::all().len());
}

#[test]
fn processes_starting_together_on_a_fresh_database_all_start() {
    let file = tack_test::db::sqlite();
    start_together(&file.url(), 4);
    let Some(schema) =
        tack_test::db::postgres("processes_starting_together_on_a_fresh_database_all_start")
    else {
        return;
    };
    start_together(schema.url(), 4);
}

#[tokio::test]
async fn a_browser_behind_a_tls_proxy_can_sign_in() {
    let file = tack_test::db::sqlite();
    let server = behind_a_tls_proxy(&file.url());
    create_user(&file.url(), "reader", false);
    let addr = server.addr();
    // What the proxy forwards of a browser on https://localhost/.
    let form = send(
        addr,
        "GET",
        "/accounts/login/",
        &[("x-forwarded-proto", "https")],
        "",
    )
    .await;
    let cookie = set_cookies(&form)
        .iter()
        .map(|c| c.split(';').next().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("; ");
    let token = common::csrf_token(std::str::from_utf8(form.body()).unwrap());
    let body = format!(
        "csrfmiddlewaretoken={token}&username=reader&password={}",
        common::PASSWORD.replace(' ', "+")
    );
    let post = |origin: &'static str, proto: &'static str| {
        let (cookie, body) = (cookie.clone(), body.clone());
        async move {
            let mut headers = vec![
                ("content-type", "application/x-www-form-urlencoded"),
                ("cookie", cookie.as_str()),
                ("origin", origin),
                ("referer", "https://localhost/accounts/login/"),
            ];
            if !proto.is_empty() {
                headers.push(("x-forwarded-proto", proto));
            }
            send(addr, "POST", "/accounts/login/", &headers, &body).await
        }
    };
    // Plain http seen by the server, https by the browser: the origin check
    // passes because the trusted proxy said so.
    let signed_in = post("https://localhost", "https").await;
    assert_eq!(
        signed_in.status(),
        StatusCode::SEE_OTHER,
        "{:?}",
        std::str::from_utf8(signed_in.body())
    );
    // Without the header the request is plain http and an https origin is
    // foreign.
    let downgraded = post("https://localhost", "").await;
    assert_eq!(downgraded.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn api_tokens_expire_can_be_listed_and_revoked_and_go_with_a_password_change() {
    let (file, app) = sqlite_app();
    create_user(&file.url(), "reader", false);
    create_user(&file.url(), "other", false);
    let client = TestClient::new(app.clone());
    let bearer = |token: &str| format!("Bearer {token}");
    let mint = async |name: &str| token_of(&client, "reader", name).await;
    let status_with = async |token: &str| {
        client
            .get("/api/auth/tokens/")
            .header("authorization", &bearer(token))
            .send()
            .await
            .status()
    };

    // A token expires in 30 days and says so.
    let first = mint("laptop").await;
    let expires: chrono::DateTime<chrono::Utc> =
        first["expires_at"].as_str().unwrap().parse().unwrap();
    let days = (expires - chrono::Utc::now()).num_days();
    assert!((29..=30).contains(&days), "{first}");
    let too_long = client
        .post("/api/auth/token/")
        .json(&json!({"username": "reader", "password": common::PASSWORD, "name": "x".repeat(101)}))
        .send()
        .await;
    assert_eq!(too_long.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Minting on every run keeps the newest ten; the list shows no secret.
    for run in 0..11 {
        mint(&format!("run {run}")).await;
    }
    let token = mint("current").await["token"].as_str().unwrap().to_owned();
    let listed: Value = client
        .get("/api/auth/tokens/")
        .header("authorization", &bearer(&token))
        .send()
        .await
        .json();
    let results = listed["results"].as_array().unwrap();
    assert_eq!(results.len(), 10, "{listed}");
    assert!(results.iter().all(|t| t.get("token").is_none()));
    assert_eq!(results.last().unwrap()["name"], "current");
    assert_eq!(
        status_with(first["token"].as_str().unwrap()).await,
        StatusCode::UNAUTHORIZED,
        "the oldest was revoked"
    );
    let anonymous = client.get("/api/auth/tokens/").send().await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    // One's own token is revoked by id; another user's id is a 404.
    let theirs = token_of(&client, "other", "theirs").await;
    let their_id = theirs["id"].as_str().unwrap();
    let revoke = async |id: &str| {
        client
            .delete(&format!("/api/auth/tokens/{id}/"))
            .header("authorization", &bearer(&token))
            .send()
            .await
            .status()
    };
    assert_eq!(revoke(their_id).await, StatusCode::NOT_FOUND);
    let spare = results[0]["id"].as_str().unwrap();
    assert_eq!(revoke(spare).await, StatusCode::NO_CONTENT);
    assert_eq!(revoke(spare).await, StatusCode::NOT_FOUND);

    // The password change page: wrong old password, mismatch, weak, then done.
    let anonymous = TestClient::new(app.clone());
    let page = anonymous.get("/accounts/password/").send().await;
    assert_eq!(
        page.location(),
        Some("/accounts/login/?next=/accounts/password/")
    );
    let browser = TestClient::new(app.clone());
    let phone = TestClient::new(app.clone());
    common::sign_in(&browser, "reader", "/").await;
    common::sign_in(&phone, "reader", "/").await;
    let change = async |old: &str, new1: &str, new2: &str| {
        let form = browser.get("/accounts/password/").send().await.text();
        let csrf = common::csrf_token(&form);
        browser
            .post("/accounts/password/")
            .form(&[
                ("csrfmiddlewaretoken", csrf.as_str()),
                ("old_password", old),
                ("new_password1", new1),
                ("new_password2", new2),
            ])
            .send()
            .await
    };
    let fresh = "a fresh and longer passphrase";
    let wrong = change("not it", fresh, fresh).await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong
            .text()
            .contains("old password was entered incorrectly")
    );
    let mismatch = change(common::PASSWORD, fresh, "something else entirely").await;
    assert!(
        mismatch.text().contains("didn’t match"),
        "{}",
        mismatch.text()
    );
    let weak = change(common::PASSWORD, "password", "password").await;
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(weak.text().contains("too common"), "{}", weak.text());
    assert_eq!(
        status_with(&token).await,
        StatusCode::OK,
        "nothing changed yet"
    );
    let done = change(common::PASSWORD, fresh, fresh).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER, "{}", done.text());
    let home = browser.get("/").send().await.text();
    assert!(home.contains("Signed in as reader"), "this session stays");
    assert!(home.contains("Your password was changed"));
    let elsewhere = phone.get("/").send().await.text();
    assert!(!elsewhere.contains("Signed in as"), "other sessions go");
    assert_eq!(
        status_with(&token).await,
        StatusCode::UNAUTHORIZED,
        "tokens go"
    );
    assert_eq!(
        status_with(theirs["token"].as_str().unwrap()).await,
        StatusCode::OK
    );

    // `changepassword USERNAME`, as the binary runs it.
    let db = tack_orm::Database::connect(&file.url()).unwrap();
    let command = |args: &[&str], password: &str| {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        newsroom::accounts::change_password_command(&db, &args, Some(password.into()))
    };
    assert!(command(&[], fresh).unwrap_err().contains("USERNAME"));
    assert!(command(&["nobody"], fresh).unwrap_err().contains("nobody"));
    assert!(
        command(&["reader"], "12345")
            .unwrap_err()
            .contains("password")
    );
    assert!(command(&["reader"], common::PASSWORD).is_ok());
    let home = browser.get("/").send().await.text();
    assert!(!home.contains("Signed in as"), "signed out by the command");
    token_of(&client, "reader", "after the command").await;
}

/// A fresh token `name` of `username` (whose password is
/// `common::PASSWORD`): the whole answer.
async fn token_of(client: &TestClient<newsroom::App>, username: &str, name: &str) -> Value {
    let response = client
        .post("/api/auth/token/")
        .json(&json!({"username": username, "password": common::PASSWORD, "name": name}))
        .send()
        .await;
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "{}",
        response.text()
    );
    response.json()
}

/// The release of a rolling deploy: probes answer whatever the Host, and
/// SIGTERM closes websockets with 1001, lets the request in flight finish,
/// refuses new connections and exits 0.
#[test]
fn sigterm_finishes_the_request_in_flight_then_exits() {
    let file = tack_test::db::sqlite();
    let mut server = common::Process::start(&file.url(), &[]);
    server.wait_ready();
    let port = server.port;
    let health = common::exchange(
        port,
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");

    let stopped = common::sigterm_during_a_request_and_a_websocket(&mut server);
    stopped.assert_graceful();
}

/// `/readyz` says 503, and why, while shutting down or behind migrations.
#[tokio::test]
async fn readiness_follows_the_database_and_the_shutdown() {
    let (file, settings) = common::settings();
    let readiness = newsroom::health::Readiness::default();
    let app = newsroom::app_with_readiness(&settings, readiness.clone()).unwrap();
    let client = TestClient::new(app);
    let ready = client.get("/readyz").send().await;
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(ready.header("cache-control"), Some("no-store"));
    tack_orm::Connection::open(&file.url())
        .unwrap()
        .execute_batch("DELETE FROM tack_migrations WHERE app = 'sessions'")
        .unwrap();
    let behind = client.get("/readyz").send().await;
    assert_eq!(behind.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        behind
            .text()
            .contains(r#""problems":["1 unapplied migration"]"#),
        "{}",
        behind.text()
    );
    readiness.drain();
    let draining = client.get("/readyz").send().await;
    assert!(
        draining.text().contains("shutting down"),
        "{}",
        draining.text()
    );
    assert_eq!(client.get("/healthz").send().await.status(), StatusCode::OK);
}
