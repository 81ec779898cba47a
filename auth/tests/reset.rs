//! Password reset tokens: single use, bound to the password and last login,
//! time-limited.

mod common;

use std::time::Duration;

use common::{ManualClock, PASSWORD, auth, backend};
use tack_auth::validation::UserAttributes;
use tack_auth::{Credentials, Error, Password, PasswordResetTokens};
use tack_sessions::{SecretKey, Session};

#[tokio::test]
async fn a_reset_token_works_once() {
    let backend = backend();
    let ada = backend.add_user("ada", PASSWORD).unwrap();
    let auth = auth(backend.clone());
    let token = auth.reset_tokens().make_token(&ada);
    let attrs = UserAttributes::new("ada", "");
    let new = Password::new("harbour-gull-window-9");

    let user = auth.reset_password(&token, &new, &attrs).await.unwrap();
    assert_eq!(user.id, ada.id);
    assert!(
        auth.authenticate(&Credentials::password("ada", new.expose()), None)
            .await
            .is_ok()
    );

    let again = auth
        .reset_password(&token, &Password::new("another-fine-phrase-3"), &attrs)
        .await;
    assert!(
        matches!(again, Err(Error::InvalidResetToken { .. })),
        "{again:?}"
    );
    assert!(
        auth.authenticate(&Credentials::password("ada", new.expose()), None)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn signing_in_invalidates_reset_tokens() {
    let backend = backend();
    let ada = backend.add_user("ada", PASSWORD).unwrap();
    let auth = auth(backend.clone());
    let token = auth.reset_tokens().make_token(&ada);
    auth.login(&Session::new(), &ada).await.unwrap();
    let refreshed = backend.user(&ada.id).unwrap();
    assert!(auth.reset_tokens().check_token(&refreshed, &token).is_err());
}

#[tokio::test]
async fn weak_new_passwords_are_refused_and_the_token_still_works() {
    let backend = backend();
    let ada = backend.add_user("ada", PASSWORD).unwrap();
    let auth = auth(backend);
    let token = auth.reset_tokens().make_token(&ada);
    let attrs = UserAttributes::new("ada", "");
    let weak = auth
        .reset_password(&token, &Password::new("123"), &attrs)
        .await;
    assert!(matches!(weak, Err(Error::PasswordRejected { .. })));
    assert!(
        auth.reset_password(&token, &Password::new("harbour-gull-window-9"), &attrs)
            .await
            .is_ok()
    );
}

#[test]
fn tokens_expire_and_are_bound_to_user_key_and_shape() {
    let backend = backend();
    let ada = backend.add_user("ada", PASSWORD).unwrap();
    let bob = backend.add_user("bob", PASSWORD).unwrap();
    let key = SecretKey::generate();
    let tokens = PasswordResetTokens::new(key.clone()).with_max_age(Duration::from_secs(3600));
    let clock = ManualClock::new();
    let token = tokens.make_token_at(&ada, clock.now());
    assert_eq!(
        PasswordResetTokens::user_id(&token).as_deref(),
        Some(ada.id.as_str())
    );

    clock.advance(Duration::from_secs(3600));
    assert!(tokens.check_token_at(&ada, &token, clock.now()).is_ok());
    clock.advance(Duration::from_secs(1));
    let late = tokens.check_token_at(&ada, &token, clock.now());
    assert!(matches!(
        late,
        Err(Error::InvalidResetToken { reason: "expired" })
    ));

    let now = clock.now();
    let fresh = tokens.make_token_at(&ada, now);
    assert!(
        tokens.check_token_at(&bob, &fresh, now).is_err(),
        "another user"
    );
    let other_key = PasswordResetTokens::new(SecretKey::generate());
    assert!(
        other_key.check_token_at(&ada, &fresh, now).is_err(),
        "another key"
    );
    let rotated = PasswordResetTokens::new(SecretKey::generate()).with_fallback_keys([key]);
    assert!(
        rotated.check_token_at(&ada, &fresh, now).is_ok(),
        "fallback key"
    );
    let mut tampered = fresh.clone();
    tampered.push('x');
    for bad in [
        tampered.as_str(),
        "",
        "a.b",
        "a.b.c.d",
        "YWRh.notanumber.sig",
    ] {
        assert!(tokens.check_token_at(&ada, bad, now).is_err(), "{bad}");
    }
}
