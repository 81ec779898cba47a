//! `createsuperuser` as a function: validation, hashing, storing.

mod common;

use common::{backend, hasher};
use tack_auth::validation::Validators;
use tack_auth::{AuthUser, Credentials, Error, Password, create_superuser, create_user};

#[tokio::test]
async fn a_superuser_is_validated_hashed_and_can_sign_in() {
    let new = create_superuser(
        "admin",
        "Admin@Newsroom.EXAMPLE",
        &Password::new("tidal-harbour-lamp-81"),
        &Validators::default(),
        &hasher(),
    )
    .unwrap();
    assert!(new.is_staff && new.is_superuser && new.is_active);
    assert_eq!(new.email, "Admin@newsroom.example");
    assert!(new.password_hash.starts_with("$argon2id$"));
    assert!(!format!("{new:?}").contains("tidal-harbour"));

    let backend = backend();
    let stored = backend.insert(new.clone()).unwrap();
    assert!(stored.has_perm("anything.at_all"));
    let auth = common::auth(backend.clone());
    let user = auth
        .authenticate(
            &Credentials::password("admin", "tidal-harbour-lamp-81"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(user.id, stored.id);
    // A full-width spelling of the name is the same user.
    let look_alike = auth
        .authenticate(
            &Credentials::password("\u{FF41}dmin", "tidal-harbour-lamp-81"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(look_alike.id, stored.id);
    assert!(matches!(
        backend.insert(new),
        Err(Error::InvalidUsername { .. })
    ));
}

#[test]
fn bad_input_is_refused_with_a_message_naming_the_field() {
    let validators = Validators::default();
    let hasher = hasher();
    let good = Password::new("tidal-harbour-lamp-81");
    // (username, email, password, what the error names)
    let cases = [
        ("", "a@b.example", &good, "username"),
        ("bad name", "a@b.example", &good, "username"),
        ("ada", "not-an-email", &good, "email"),
        ("ada", "a@b.example", &Password::new("short"), "too short"),
        (
            "lovelace",
            "a@b.example",
            &Password::new("lovelace-1815"),
            "similar to your username",
        ),
    ];
    for (username, email, password, fragment) in cases {
        let error = create_user(username, email, password, &validators, &hasher).unwrap_err();
        assert!(
            error.to_string().contains(fragment),
            "{username:?}: {error}"
        );
        assert_eq!(error.status(), 422);
        let problem = error.problem();
        assert!(!problem.errors.is_empty(), "{problem}");
    }
}
