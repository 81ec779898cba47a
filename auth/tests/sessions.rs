//! Login and logout on sessions, through the layers: fixation, password
//! changes signing out other sessions, logout.

mod common;

use common::{PASSWORD, app, auth, backend};
use tack_test::TestClient;

#[tokio::test]
async fn login_cycles_the_session_id() {
    let backend = backend();
    backend.add_user("ada", PASSWORD).unwrap();
    let client = TestClient::new(app(auth(backend)));
    // An attacker plants a session before sign-in.
    client.get("/logout").send().await;
    let response = client
        .get(&format!("/login?u=ada&p={PASSWORD}"))
        .send()
        .await;
    assert_eq!(response.text(), "welcome ada");
    let first = client.cookie("sessionid").expect("a session after login");
    // Visiting anonymously then signing in again changes the id each time.
    let again = client
        .get(&format!("/login?u=ada&p={PASSWORD}"))
        .send()
        .await;
    assert_eq!(again.status(), 200);
    let second = client.cookie("sessionid").unwrap();
    assert_ne!(first, second, "login must give the session a new id");
    // The old id names nothing any more.
    client.set_cookie("sessionid", &first);
    assert_eq!(client.get("/me").send().await.text(), "anonymous");
    client.set_cookie("sessionid", &second);
    assert_eq!(client.get("/me").send().await.text(), "ada");
}

#[tokio::test]
async fn a_planted_session_id_is_worthless_after_login() {
    let backend = backend();
    backend.add_user("ada", PASSWORD).unwrap();
    let auth = auth(backend);
    let victim = TestClient::new(app(auth));
    victim.set_cookie("sessionid", "planted-by-attacker");
    victim
        .get(&format!("/login?u=ada&p={PASSWORD}"))
        .send()
        .await;
    let after = victim.cookie("sessionid").unwrap();
    assert_ne!(after, "planted-by-attacker");
}

#[tokio::test]
async fn a_password_change_signs_out_other_sessions() {
    let backend = backend();
    backend.add_user("ada", PASSWORD).unwrap();
    let auth = auth(backend);
    let app = app(auth);
    let laptop = TestClient::new(app.clone());
    let phone = TestClient::new(app);
    for device in [&laptop, &phone] {
        device
            .get(&format!("/login?u=ada&p={PASSWORD}"))
            .send()
            .await;
        assert_eq!(device.get("/me").send().await.text(), "ada");
    }
    let before = laptop.cookie("sessionid").unwrap();
    let changed = laptop.get("/password?p=new-tide-harbour-77").send().await;
    assert_eq!(changed.text(), "changed");
    assert_ne!(
        laptop.cookie("sessionid").unwrap(),
        before,
        "the id cycles too"
    );
    assert_eq!(
        laptop.get("/me").send().await.text(),
        "ada",
        "this session stays"
    );
    assert_eq!(
        phone.get("/me").send().await.text(),
        "anonymous",
        "others are out"
    );
}

#[tokio::test]
async fn logout_flushes_the_session() {
    let backend = backend();
    backend.add_user("ada", PASSWORD).unwrap();
    let client = TestClient::new(app(auth(backend)));
    client
        .get(&format!("/login?u=ada&p={PASSWORD}"))
        .send()
        .await;
    let signed_in = client.cookie("sessionid").unwrap();
    client.get("/logout").send().await;
    assert_eq!(client.get("/me").send().await.text(), "anonymous");
    // The old cookie no longer names a session.
    client.set_cookie("sessionid", &signed_in);
    assert_eq!(client.get("/me").send().await.text(), "anonymous");
}

#[tokio::test]
async fn a_deactivated_user_is_signed_out() {
    let backend = backend();
    let ada = backend.add_user("ada", PASSWORD).unwrap();
    let client = TestClient::new(app(auth(backend.clone())));
    client
        .get(&format!("/login?u=ada&p={PASSWORD}"))
        .send()
        .await;
    backend.update(&ada.id, |user| user.is_active = false);
    assert_eq!(client.get("/me").send().await.text(), "anonymous");
}
