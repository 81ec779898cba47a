//! API tokens through the auth layer.

mod common;

use std::time::Duration;

use common::{PASSWORD, app, auth, backend};
use tack_test::TestClient;

#[tokio::test]
async fn bearer_tokens_authenticate_through_the_layer() {
    let backend = backend();
    let ada = backend.add_user("ada", PASSWORD).unwrap();
    let auth = auth(backend.clone());
    let (token, record) = auth.create_token(&ada, "deploy script").await.unwrap();
    assert_eq!(record.user_id, ada.id);
    assert_eq!(format!("{token:?}"), "***");
    let client = TestClient::new(app(auth.clone()));

    let me = client
        .get("/me")
        .header("authorization", &format!("Bearer {}", token.expose()))
        .send()
        .await;
    assert_eq!(me.status(), 200);
    assert_eq!(me.text(), "ada");
    // The scheme is case-insensitive; no cookie is needed or set.
    let lower = client
        .get("/me")
        .header("authorization", &format!("bearer {}", token.expose()))
        .send()
        .await;
    assert_eq!(lower.text(), "ada");
    assert_eq!(client.cookie("sessionid"), None);

    // Token users pass guards like session users.
    backend.grant(&ada.id, "newsroom.change_article");
    let editor = client
        .get("/editor/")
        .header("authorization", &format!("Bearer {}", token.expose()))
        .send()
        .await;
    assert_eq!(editor.text(), "ada");

    // Revoked tokens answer 401 problem+json.
    assert!(auth.revoke_token(&record.id).await.unwrap());
    let revoked = client
        .get("/me")
        .header("authorization", &format!("Bearer {}", token.expose()))
        .send()
        .await;
    assert_eq!(revoked.status(), 401);
    assert_eq!(revoked.content_type(), Some("application/problem+json"));
    assert_eq!(
        revoked.header("www-authenticate"),
        Some("Bearer error=\"invalid_token\"")
    );
}

#[tokio::test]
async fn bad_tokens_are_refused_and_other_schemes_ignored() {
    let backend = backend();
    let ada = backend.add_user("ada", PASSWORD).unwrap();
    let auth = auth(backend.clone());
    let (token, _) = auth.create_token(&ada, "cli").await.unwrap();
    let client = TestClient::new(app(auth.clone()));
    for header in ["Bearer tack_unknown", "Bearer", "Bearer a b"] {
        let response = client
            .get("/me")
            .header("authorization", header)
            .send()
            .await;
        assert_eq!(response.status(), 401, "{header}");
    }
    // Basic auth is someone else's business: anonymous here.
    let basic = client
        .get("/me")
        .header("authorization", "Basic YWRhOnB3")
        .send()
        .await;
    assert_eq!(basic.text(), "anonymous");
    // An inactive owner's token stops working.
    backend.update(&ada.id, |user| user.is_active = false);
    let inactive = client
        .get("/me")
        .header("authorization", &format!("Bearer {}", token.expose()))
        .send()
        .await;
    assert_eq!(inactive.status(), 401);
    assert_eq!(auth.tokens_of(&ada).await.unwrap().len(), 1);
}

#[tokio::test]
async fn without_a_token_store_bearer_headers_are_left_alone() {
    let backend = backend();
    backend.add_user("ada", PASSWORD).unwrap();
    let auth = tack_auth::Auth::new(backend, tack_sessions::SecretKey::generate())
        .with_hasher(common::hasher());
    assert!(!auth.accepts_tokens());
    let client = TestClient::new(app(auth));
    let response = client
        .get("/me")
        .header("authorization", "Bearer for-another-layer")
        .send()
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text(), "anonymous");
}

#[tokio::test]
async fn tokens_expire_are_capped_per_user_and_go_with_a_password_change() {
    let backend = backend();
    let ada = backend.add_user("ada", PASSWORD).unwrap();
    let bob = backend.add_user("bob", PASSWORD).unwrap();
    let clock = common::ManualClock::new();
    let auth = auth(backend.clone())
        .with_token_lifetime(Some(Duration::from_secs(3600)))
        .with_max_tokens_per_user(3)
        .with_clock(clock.reader());
    let client = TestClient::new(app(auth.clone()));
    let me = async |token: &tack_auth::token::ApiToken| {
        client
            .get("/me")
            .header("authorization", &format!("Bearer {}", token.expose()))
            .send()
            .await
            .status()
    };

    // An hour, then refused.
    let (first, record) = auth.create_token(&ada, "cli").await.unwrap();
    assert_eq!(
        record.expires_at,
        Some(record.created_at + Duration::from_secs(3600))
    );
    assert_eq!(me(&first).await, 200);
    clock.advance(Duration::from_secs(3601));
    assert_eq!(me(&first).await, 401, "expired");
    assert!(auth.tokens_of(&ada).await.unwrap().is_empty(), "not listed");

    // A token on every run keeps the newest three.
    let mut made = Vec::new();
    for run in 0..5 {
        made.push(
            auth.create_token(&ada, &format!("run {run}"))
                .await
                .unwrap(),
        );
        clock.advance(Duration::from_secs(1));
    }
    let names: Vec<String> = auth
        .tokens_of(&ada)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["run 2", "run 3", "run 4"]);
    assert_eq!(me(&made[0].0).await, 401, "the oldest was revoked");
    assert_eq!(me(&made[4].0).await, 200);

    // A user revokes their own tokens only.
    let (theirs, their_record) = auth.create_token(&bob, "bob's").await.unwrap();
    assert!(!auth.revoke_token_of(&ada, &their_record.id).await.unwrap());
    assert_eq!(me(&theirs).await, 200);
    assert!(auth.revoke_token_of(&ada, &made[4].1.id).await.unwrap());
    assert_eq!(me(&made[4].0).await, 401);

    // A password change revokes every token of the user.
    let attributes = tack_auth::validation::UserAttributes::new("ada", "");
    let password = tack_auth::Password::from("a-new-and-longer-passphrase");
    auth.set_password(&ada, &password, &attributes)
        .await
        .unwrap();
    assert_eq!(me(&made[3].0).await, 401);
    assert!(auth.tokens_of(&ada).await.unwrap().is_empty());
    assert_eq!(me(&theirs).await, 200, "bob's token is his");
}
