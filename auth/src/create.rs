//! Creating users from any CLI: Django's `createsuperuser`, as functions.

use std::time::SystemTime;

use crate::Error;
use crate::password::{Password, PasswordHasher};
use crate::user::{PermissionSet, User};
use crate::validation::{UserAttributes, Validators};

/// The longest username accepted (Django's 150).
pub const MAX_USERNAME_LEN: usize = 150;

/// A validated user with its password hashed, ready for a backend to store
/// (the backend assigns the id).
#[derive(Clone, Debug, PartialEq)]
pub struct NewUser {
    /// The username (checked).
    pub username: String,
    /// The email address (checked; its domain lowercased), possibly empty.
    pub email: String,
    /// The PHC hash of the password.
    pub password_hash: String,
    /// The first name.
    pub first_name: String,
    /// The last name.
    pub last_name: String,
    /// Whether the user may sign in (true).
    pub is_active: bool,
    /// Whether the user may use the admin.
    pub is_staff: bool,
    /// Whether the user has every permission.
    pub is_superuser: bool,
    /// When the user was created.
    pub date_joined: SystemTime,
}

impl NewUser {
    /// An active, non-staff user with an already computed hash (the
    /// username and email are not checked).
    pub fn with_hash(username: &str, email: &str, password_hash: String) -> Self {
        NewUser {
            username: username.to_owned(),
            email: email.to_owned(),
            password_hash,
            first_name: String::new(),
            last_name: String::new(),
            is_active: true,
            is_staff: false,
            is_superuser: false,
            date_joined: SystemTime::now(),
        }
    }

    /// The stored user, once the backend has given it an id.
    pub fn into_user(self, id: String) -> User {
        User {
            id,
            username: self.username,
            email: self.email,
            password: self.password_hash,
            first_name: self.first_name,
            last_name: self.last_name,
            is_active: self.is_active,
            is_staff: self.is_staff,
            is_superuser: self.is_superuser,
            last_login: None,
            date_joined: self.date_joined,
            groups: Vec::new(),
            permissions: PermissionSet::new(),
        }
    }
}

/// A username in Unicode NFKC form, as Django stores and compares them, so
/// that look-alike spellings (`ｊｏｈｎ` and `john`, ligatures) are one name.
/// [`create_user`] and [`Credentials::password`](crate::Credentials::password)
/// apply it.
pub fn normalize_username(username: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    username.nfkc().collect()
}

/// Checks a username: 1 to 150 characters, letters, digits and `@.+-_`.
pub fn validate_username(username: &str) -> Result<(), Error> {
    let invalid = |reason| {
        Err(Error::InvalidUsername {
            username: username.to_owned(),
            reason,
        })
    };
    if username.is_empty() {
        return invalid("it is empty");
    }
    if username.chars().count() > MAX_USERNAME_LEN {
        return invalid("it is longer than 150 characters");
    }
    if !username
        .chars()
        .all(|c| c.is_alphanumeric() || "@.+-_".contains(c))
    {
        return invalid("use only letters, digits and @ . + - _");
    }
    Ok(())
}

/// Checks an email address (empty is allowed) and lowercases its domain.
pub fn normalize_email(email: &str) -> Result<String, Error> {
    let email = email.trim();
    if email.is_empty() {
        return Ok(String::new());
    }
    match email.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !email.chars().any(|c| c.is_whitespace() || c.is_control()) =>
        {
            Ok(format!("{local}@{}", domain.to_lowercase()))
        }
        _ => Err(Error::InvalidEmail {
            email: email.to_owned(),
        }),
    }
}

/// Checks the username, email and password (with `validators`) and hashes
/// the password: an active, non-staff user for a backend to store. Hashing
/// is slow: async callers run this off the executor.
pub fn create_user(
    username: &str,
    email: &str,
    password: &Password,
    validators: &Validators,
    hasher: &PasswordHasher,
) -> Result<NewUser, Error> {
    let username = normalize_username(username);
    validate_username(&username)?;
    let email = normalize_email(email)?;
    validators.validate(password.expose(), &UserAttributes::new(&username, &email))?;
    let hash = hasher.hash(password.expose())?;
    Ok(NewUser::with_hash(&username, &email, hash))
}

/// [`create_user`] with staff and superuser status: Django's
/// `createsuperuser`, for any CLI to call with its own prompts.
pub fn create_superuser(
    username: &str,
    email: &str,
    password: &Password,
    validators: &Validators,
    hasher: &PasswordHasher,
) -> Result<NewUser, Error> {
    let mut user = create_user(username, email, password, validators, hasher)?;
    user.is_staff = true;
    user.is_superuser = true;
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for ok in ["ada", "ada.lovelace@x", "zoë_1", "a+b-c"] {
            assert!(validate_username(ok).is_ok(), "{ok}");
        }
        for bad in ["", "has space", "semi;colon", &"a".repeat(151)] {
            assert!(validate_username(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn usernames_are_nfkc_normalized() {
        assert_eq!(normalize_username("\u{FF4A}ohn"), "john");
        assert_eq!(normalize_username("\u{FB01}sh"), "fish");
        assert_eq!(normalize_username("zoë"), "zoë");
    }

    #[test]
    fn emails() {
        assert_eq!(
            normalize_email(" Ada@Example.COM ").unwrap(),
            "Ada@example.com"
        );
        assert_eq!(normalize_email("").unwrap(), "");
        for bad in ["ada", "@x", "a@", "a@b@c", "a b@c"] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }
}
