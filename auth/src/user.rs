//! Users: the small trait the layers and guards need, and a plain user.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::SystemTime;

use tack_sessions::signing::{SecretKey, Signer};

/// The salt of the session-auth hash, so it is useless for anything else.
const SESSION_HASH_SALT: &str = "tack.auth.session-auth-hash";

/// Permission names (`app_label.codename`, e.g. `newsroom.change_article`)
/// that a user has directly or through its groups.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PermissionSet(BTreeSet<String>);

/// The empty set, for users that have no permissions.
static NO_PERMISSIONS: PermissionSet = PermissionSet(BTreeSet::new());

impl PermissionSet {
    /// An empty set.
    pub fn new() -> Self {
        PermissionSet::default()
    }

    /// A shared empty set.
    pub fn empty() -> &'static PermissionSet {
        &NO_PERMISSIONS
    }

    /// Adds a permission.
    pub fn insert(&mut self, permission: impl Into<String>) {
        self.0.insert(permission.into());
    }

    /// Whether the set holds `permission`.
    pub fn contains(&self, permission: &str) -> bool {
        self.0.contains(permission)
    }

    /// Whether the set holds any permission of the app `app_label`.
    pub fn has_module(&self, app_label: &str) -> bool {
        self.0.iter().any(|permission| {
            permission
                .split_once('.')
                .is_some_and(|(app, _)| app == app_label)
        })
    }

    /// The permissions, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// How many permissions the set holds.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<S: Into<String>> FromIterator<S> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        PermissionSet(iter.into_iter().map(Into::into).collect())
    }
}

impl<S: Into<String>> Extend<S> for PermissionSet {
    fn extend<I: IntoIterator<Item = S>>(&mut self, iter: I) {
        self.0.extend(iter.into_iter().map(Into::into));
    }
}

/// What the layers and guards need from a user: bring your own user type
/// by implementing it (an id, flags, the password hash and permissions).
///
/// Permissions are synchronous: a backend loads them with the user (its
/// own and its groups', in one query) so that checks in handlers and
/// guards never block on a database.
pub trait AuthUser: Clone + Send + Sync + 'static {
    /// The user's id as text (what the session stores).
    fn id(&self) -> String;

    /// The stored password hash (a PHC string, or an unusable one). It
    /// feeds [`AuthUser::session_auth_hash`].
    fn password_hash(&self) -> &str;

    /// The email address (default empty): password reset tokens are bound
    /// to it.
    fn email(&self) -> &str {
        ""
    }

    /// The last successful sign-in (default none): password reset tokens
    /// are bound to it, so signing in invalidates them.
    fn last_login(&self) -> Option<SystemTime> {
        None
    }

    /// Whether the user may sign in and has any permission (default true).
    fn is_active(&self) -> bool {
        true
    }

    /// Whether the user may use the admin (default false).
    fn is_staff(&self) -> bool {
        false
    }

    /// Whether the user has every permission while active (default false).
    fn is_superuser(&self) -> bool {
        false
    }

    /// The permissions the user has directly and through its groups
    /// (default none).
    fn permissions(&self) -> &PermissionSet {
        PermissionSet::empty()
    }

    /// Whether the user has `permission` (`app_label.codename`): an
    /// inactive user has none, an active superuser has all.
    fn has_perm(&self, permission: &str) -> bool {
        self.is_active() && (self.is_superuser() || self.permissions().contains(permission))
    }

    /// Whether the user has every one of `permissions`.
    fn has_perms<'p>(&self, permissions: impl IntoIterator<Item = &'p str>) -> bool
    where
        Self: Sized,
    {
        permissions
            .into_iter()
            .all(|permission| self.has_perm(permission))
    }

    /// Whether the user has any permission in the app `app_label` (what
    /// the admin checks to show an app).
    fn has_module_perms(&self, app_label: &str) -> bool {
        self.is_active() && (self.is_superuser() || self.permissions().has_module(app_label))
    }

    /// An HMAC of the password hash with the secret key: stored in the
    /// session at login and checked on every request, so changing the
    /// password signs out every other session.
    fn session_auth_hash(&self, key: &SecretKey) -> String {
        Signer::new(key.clone())
            .with_salt(SESSION_HASH_SALT)
            .signature(self.password_hash())
    }
}

/// Whether `hash` is `user`'s session-auth hash under `key` or one of the
/// fallback keys, compared in constant time.
pub(crate) fn session_hash_matches<U: AuthUser>(
    user: &U,
    hash: &str,
    key: &SecretKey,
    fallbacks: &[SecretKey],
) -> bool {
    let signer = Signer::new(key.clone())
        .with_salt(SESSION_HASH_SALT)
        .with_fallback_keys(fallbacks.iter().cloned());
    // `unsign` checks `value:signature` in constant time against each key.
    signer
        .unsign(&format!("{}:{hash}", user.password_hash()))
        .is_ok()
}

/// A plain user with Django's fields: what the in-memory backend keeps,
/// what [`create_superuser`](crate::create_superuser) prepares, and what a
/// database backend can load its rows into.
#[derive(Clone, Debug, PartialEq)]
pub struct User {
    /// The id as text (a database backend formats its primary key).
    pub id: String,
    /// The unique username.
    pub username: String,
    /// The email address.
    pub email: String,
    /// The PHC password hash (never the password).
    pub password: String,
    /// The first name.
    pub first_name: String,
    /// The last name.
    pub last_name: String,
    /// Whether the user may sign in.
    pub is_active: bool,
    /// Whether the user may use the admin.
    pub is_staff: bool,
    /// Whether the user has every permission.
    pub is_superuser: bool,
    /// The last successful sign-in.
    pub last_login: Option<SystemTime>,
    /// When the account was created.
    pub date_joined: SystemTime,
    /// The names of the user's groups.
    pub groups: Vec<String>,
    /// The user's own permissions and its groups', resolved by the backend.
    pub permissions: PermissionSet,
}

impl AuthUser for User {
    fn id(&self) -> String {
        self.id.clone()
    }
    fn password_hash(&self) -> &str {
        &self.password
    }
    fn email(&self) -> &str {
        &self.email
    }
    fn last_login(&self) -> Option<SystemTime> {
        self.last_login
    }
    fn is_active(&self) -> bool {
        self.is_active
    }
    fn is_staff(&self) -> bool {
        self.is_staff
    }
    fn is_superuser(&self) -> bool {
        self.is_superuser
    }
    fn permissions(&self) -> &PermissionSet {
        &self.permissions
    }
}

/// How the current user was authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthMethod {
    /// A session cookie (so CSRF protection applies).
    Session,
    /// An `Authorization: Bearer` API token (no cookie: CSRF does not apply).
    Token,
}

/// The user of this request, or anonymous: what [`AuthLayer`](crate::AuthLayer)
/// puts in the request's extensions. Cheap to clone.
#[derive(Clone, Debug)]
pub struct CurrentUser<U> {
    user: Option<Arc<U>>,
    method: Option<AuthMethod>,
}

impl<U> Default for CurrentUser<U> {
    fn default() -> Self {
        CurrentUser::anonymous()
    }
}

impl<U> CurrentUser<U> {
    /// Nobody is signed in.
    pub fn anonymous() -> Self {
        CurrentUser {
            user: None,
            method: None,
        }
    }

    /// `user`, authenticated by `method`.
    pub fn authenticated(user: U, method: AuthMethod) -> Self {
        CurrentUser {
            user: Some(Arc::new(user)),
            method: Some(method),
        }
    }

    /// The user, if someone is signed in.
    pub fn user(&self) -> Option<&U> {
        self.user.as_deref()
    }

    /// Whether someone is signed in.
    pub fn is_authenticated(&self) -> bool {
        self.user.is_some()
    }

    /// How the user was authenticated (`None` when anonymous).
    pub fn method(&self) -> Option<AuthMethod> {
        self.method
    }
}

impl<U: AuthUser> CurrentUser<U> {
    /// [`AuthUser::has_perm`], false when anonymous.
    pub fn has_perm(&self, permission: &str) -> bool {
        self.user().is_some_and(|user| user.has_perm(permission))
    }

    /// Whether the user is signed in, active and staff.
    pub fn is_staff(&self) -> bool {
        self.user()
            .is_some_and(|user| user.is_active() && user.is_staff())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_permissions_match_whole_labels() {
        let set: PermissionSet = ["newsroom.change_article"].into_iter().collect();
        assert!(set.has_module("newsroom"));
        assert!(!set.has_module("news"));
        assert!(!PermissionSet::empty().has_module("newsroom"));
    }

    #[derive(Clone)]
    struct Minimal(String);

    impl AuthUser for Minimal {
        fn id(&self) -> String {
            self.0.clone()
        }
        fn password_hash(&self) -> &str {
            "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaA"
        }
    }

    #[test]
    fn a_minimal_user_has_no_permissions_and_a_stable_session_hash() {
        let user = Minimal("7".into());
        assert!(!user.has_perm("a.b"));
        assert!(user.has_perms([]));
        let key = SecretKey::from("key");
        let hash = user.session_auth_hash(&key);
        assert!(session_hash_matches(&user, &hash, &key, &[]));
        assert!(!session_hash_matches(
            &user,
            &hash,
            &SecretKey::from("other"),
            &[]
        ));
        assert!(session_hash_matches(
            &user,
            &hash,
            &SecretKey::from("new"),
            &[key]
        ));
    }
}
