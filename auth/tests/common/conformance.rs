//! Conformance suites, written once and run against every implementation
//! of a trait: the in-memory ones now, database ones when they come.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, SystemTime};

use tack_auth::throttle::LoginThrottle;
use tack_auth::token::{TokenRecord, TokenStore, verify_token};
use tack_auth::{ApiToken, AuthBackend, AuthUser, Credentials};

/// What an [`AuthBackend`] suite needs besides the trait: a way to add
/// users and to deactivate them.
pub trait BackendFixture {
    /// The backend under test.
    type Backend: AuthBackend;
    /// The backend.
    fn backend(&self) -> &Self::Backend;
    /// Adds an active user with this password; answers its id.
    fn add_user(&self, username: &str, password: &str) -> String;
    /// Makes the user inactive.
    fn deactivate(&self, id: &str);
}

pub async fn backend_suite<F: BackendFixture>(fixture: &F) {
    let backend = fixture.backend();
    let id = fixture.add_user("conformance", "first-long-password");
    let other = fixture.add_user("other", "second-long-password");

    // authenticate: right, wrong, unknown.
    let user = backend
        .authenticate(&Credentials::password("conformance", "first-long-password"))
        .await
        .unwrap()
        .expect("the right password authenticates");
    assert_eq!(user.id(), id);
    for (username, password) in [
        ("conformance", "second-long-password"),
        ("nobody", "first-long-password"),
        ("", ""),
    ] {
        let found = backend
            .authenticate(&Credentials::password(username, password))
            .await
            .unwrap();
        assert!(found.is_none(), "{username:?}/{password:?}");
    }

    // get_user: known, unknown, junk ids.
    assert_eq!(
        backend.get_user(&id).await.unwrap().map(|u| u.id()),
        Some(id.clone())
    );
    for junk in ["", "999999999", "not-an-id", "1; DROP TABLE users"] {
        assert!(backend.get_user(junk).await.unwrap().is_none(), "{junk:?}");
    }

    // set_password changes what authenticates and the session-auth hash.
    let key = tack_sessions::SecretKey::generate();
    let before = user.session_auth_hash(&key);
    let hash = tack_auth::PasswordHasher::new()
        .with_params(super::CHEAP)
        .hash("third-long-password")
        .unwrap();
    backend.set_password(&id, hash).await.unwrap();
    let changed = backend.get_user(&id).await.unwrap().unwrap();
    assert_ne!(changed.session_auth_hash(&key), before);
    assert!(
        backend
            .authenticate(&Credentials::password("conformance", "third-long-password"))
            .await
            .unwrap()
            .is_some()
    );

    // record_login moves last_login.
    let at = SystemTime::now();
    backend.record_login(&changed, at).await.unwrap();
    let logged = backend.get_user(&id).await.unwrap().unwrap();
    assert!(logged.last_login().is_some());

    // Inactive users do not authenticate, but get_user still finds them.
    fixture.deactivate(&other);
    assert!(
        backend
            .authenticate(&Credentials::password("other", "second-long-password"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(!backend.get_user(&other).await.unwrap().unwrap().is_active());
}

/// `users` are three user ids the store accepts (existing users, for a
/// store whose tokens refer to a users table); the third owns no token.
pub async fn token_store_suite<S: TokenStore>(store: &S, users: [&str; 3]) {
    let [u1, u2, u3] = users;
    let now = SystemTime::now();
    let token = ApiToken::generate();
    let record = TokenRecord::new(u1, "first", &token);
    store.insert(record.clone()).await.unwrap();
    let second = ApiToken::generate();
    store
        .insert(TokenRecord::new(u1, "second", &second))
        .await
        .unwrap();
    store
        .insert(TokenRecord::new(u2, "theirs", &ApiToken::generate()))
        .await
        .unwrap();

    assert_eq!(
        store.find(&token.digest()).await.unwrap(),
        Some(record.clone())
    );
    let found = verify_token(store, token.expose(), now).await.unwrap();
    assert_eq!(found.map(|r| r.user_id), Some(u1.to_owned()));
    assert!(
        verify_token(store, "tack_unknown", now)
            .await
            .unwrap()
            .is_none()
    );
    let listed = store.list(u1).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.contains(&record), "records read back exactly");
    assert!(store.list(u3).await.unwrap().is_empty());

    assert!(store.revoke(&record.id).await.unwrap());
    assert!(!store.revoke(&record.id).await.unwrap());
    assert!(
        verify_token(store, token.expose(), now)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        verify_token(store, second.expose(), now)
            .await
            .unwrap()
            .is_some()
    );

    let expiring = ApiToken::generate();
    let mut record = TokenRecord::new(u1, "expiring", &expiring);
    record.expires_at = Some(now + Duration::from_secs(60));
    store.insert(record).await.unwrap();
    assert!(
        verify_token(store, expiring.expose(), now)
            .await
            .unwrap()
            .is_some()
    );
    let later = now + Duration::from_secs(61);
    assert!(
        verify_token(store, expiring.expose(), later)
            .await
            .unwrap()
            .is_none()
    );

    // Revoking all of a user's tokens leaves the others' alone.
    assert_eq!(
        store.revoke_all(u1).await.unwrap(),
        2,
        "second and expiring"
    );
    assert!(store.list(u1).await.unwrap().is_empty());
    assert_eq!(store.list(u2).await.unwrap().len(), 1);
    assert_eq!(store.revoke_all(u3).await.unwrap(), 0);
}

/// For throttles built with 2 free failures and a lock at 4 per
/// (username, address), and the default limits otherwise, on a clock that
/// `advance` moves.
pub async fn throttle_suite<T: LoginThrottle>(throttle: &T, advance: impl Fn(Duration)) {
    let here = Some(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let elsewhere = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
    for attempt in 1..=3 {
        assert_eq!(
            throttle.reserve("x", here).await.unwrap(),
            None,
            "attempt {attempt}: two free failures, then one after no delay"
        );
    }
    assert!(
        throttle.reserve("x", here).await.unwrap().is_some(),
        "slowed down: the reserved attempts counted"
    );
    assert_eq!(
        throttle.reserve("y", None).await.unwrap(),
        None,
        "other users are free"
    );
    advance(Duration::from_secs(3600));
    assert_eq!(
        throttle.reserve("x", here).await.unwrap(),
        None,
        "waits end"
    );
    for _ in 0..3 {
        advance(Duration::from_secs(31));
        assert_eq!(throttle.reserve("x", here).await.unwrap(), None);
    }
    advance(Duration::from_secs(31));
    assert!(
        throttle.reserve("x", here).await.unwrap().is_some(),
        "locked from this address"
    );
    assert_eq!(
        throttle.reserve("x", elsewhere).await.unwrap(),
        None,
        "not locked from another address"
    );
    throttle.record_success("x", here).await.unwrap();
    assert_eq!(
        throttle.reserve("x", here).await.unwrap(),
        None,
        "success clears"
    );
}
