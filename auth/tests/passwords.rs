//! Authenticating with passwords: wrong password, unknown user (the dummy
//! verification runs), inactive user, and hash upgrade on login.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{CHEAP, PASSWORD, auth, backend, hasher};
use tack_auth::password::{Argon2Params, HasherEvent};
use tack_auth::{AuthBackend, Credentials, Error, MemoryBackend, PasswordHasher, Verification};

/// A backend whose hasher counts what it does.
fn counted() -> (MemoryBackend, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let verifies = Arc::new(AtomicUsize::new(0));
    let dummies = Arc::new(AtomicUsize::new(0));
    let (v, d) = (Arc::clone(&verifies), Arc::clone(&dummies));
    let hasher = hasher().with_observer(move |event| match event {
        HasherEvent::Verify => {
            v.fetch_add(1, Ordering::SeqCst);
        }
        HasherEvent::VerifyDummy => {
            d.fetch_add(1, Ordering::SeqCst);
        }
        _ => {}
    });
    (MemoryBackend::new().with_hasher(hasher), verifies, dummies)
}

#[tokio::test]
async fn right_and_wrong_passwords() {
    let backend = backend();
    backend.add_user("ada", PASSWORD).unwrap();
    let auth = auth(backend);
    let user = auth
        .authenticate(&Credentials::password("ada", PASSWORD), None)
        .await
        .unwrap();
    assert_eq!(user.username, "ada");
    let wrong = auth
        .authenticate(&Credentials::password("ada", "mill-pond-lanterns"), None)
        .await;
    assert!(matches!(wrong, Err(Error::InvalidCredentials)));
    // Usernames are case-sensitive, as in Django.
    let other_case = auth
        .authenticate(&Credentials::password("Ada", PASSWORD), None)
        .await;
    assert!(matches!(other_case, Err(Error::InvalidCredentials)));
}

#[tokio::test]
async fn unknown_users_run_the_dummy_verification_and_get_the_same_error() {
    let (backend, verifies, dummies) = counted();
    backend.add_user("ada", PASSWORD).unwrap();
    let auth = auth(backend);

    let unknown = auth
        .authenticate(&Credentials::password("nobody", PASSWORD), None)
        .await
        .unwrap_err();
    assert_eq!(
        dummies.load(Ordering::SeqCst),
        1,
        "the hasher ran for an unknown user"
    );
    assert_eq!(verifies.load(Ordering::SeqCst), 0);

    let wrong = auth
        .authenticate(&Credentials::password("ada", "nope"), None)
        .await
        .unwrap_err();
    assert_eq!(verifies.load(Ordering::SeqCst), 1);
    assert_eq!(unknown.to_string(), wrong.to_string());
    assert_eq!(unknown.status(), wrong.status());
}

#[tokio::test]
async fn inactive_users_cannot_sign_in_but_cost_a_verification() {
    let (backend, verifies, _) = counted();
    let ada = backend.add_user("ada", PASSWORD).unwrap();
    backend.update(&ada.id, |user| user.is_active = false);
    let auth = auth(backend);
    let refused = auth
        .authenticate(&Credentials::password("ada", PASSWORD), None)
        .await;
    assert!(matches!(refused, Err(Error::InvalidCredentials)));
    assert_eq!(verifies.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn login_upgrades_hashes_made_with_old_parameters() {
    let old = PasswordHasher::new().with_params(Argon2Params {
        iterations: 2,
        ..CHEAP
    });
    let backend = backend();
    let ada = backend
        .insert(tack_auth::NewUser::with_hash(
            "ada",
            "",
            old.hash(PASSWORD).unwrap(),
        ))
        .unwrap();
    assert_eq!(
        backend.hasher().verify(PASSWORD, &ada.password),
        Verification::NeedsRehash
    );
    let auth = auth(backend.clone());
    let user = auth
        .authenticate(&Credentials::password("ada", PASSWORD), None)
        .await
        .unwrap();
    let stored = backend.user(&ada.id).unwrap().password;
    assert_ne!(stored, ada.password);
    assert_eq!(user.password, stored);
    assert!(stored.contains("m=64,t=1,p=1"), "{stored}");
    assert_eq!(
        backend.hasher().verify(PASSWORD, &stored),
        Verification::Verified
    );
}

#[tokio::test]
async fn last_login_is_recorded() {
    let backend = backend();
    let ada = backend.add_user("ada", PASSWORD).unwrap();
    assert_eq!(ada.last_login, None);
    let auth = auth(backend.clone());
    let session = tack_sessions::Session::new();
    auth.login(&session, &ada).await.unwrap();
    assert!(
        backend
            .get_user(&ada.id)
            .await
            .unwrap()
            .unwrap()
            .last_login
            .is_some()
    );
}
