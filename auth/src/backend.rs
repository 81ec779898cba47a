//! Where users come from: the [`AuthBackend`] trait and an in-memory backend.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use crate::create::NewUser;
use crate::password::{Password, PasswordHasher, Verification};
use crate::user::{PermissionSet, User};
use crate::{AuthUser, Error};

/// The future a backend method returns: boxed, `Send`, tied to no runtime.
pub type BackendFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>;

/// What a user presents to sign in.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Credentials {
    /// A username and a password.
    Password {
        /// The username as typed.
        username: String,
        /// The password (its `Debug` prints `***`).
        password: Password,
    },
}

impl Credentials {
    /// A username (NFKC-normalized, like stored ones) and a password.
    pub fn password(username: impl AsRef<str>, password: impl Into<Password>) -> Self {
        Credentials::Password {
            username: crate::create::normalize_username(username.as_ref()),
            password: password.into(),
        }
    }

    /// The username the credentials name (the throttling key).
    pub fn username(&self) -> &str {
        match self {
            Credentials::Password { username, .. } => username,
        }
    }
}

/// Where users come from: an in-memory map, the ORM's `User` model, a
/// service's own users table, LDAP...
///
/// Methods return boxed futures so a backend on a synchronous driver can
/// run queries and password hashing on its own worker threads, and an
/// in-memory one can answer at once, with no runtime either way.
pub trait AuthBackend: Send + Sync + 'static {
    /// The user type the backend answers.
    type User: AuthUser;

    /// The user these credentials prove, or `None`.
    ///
    /// A backend that checks passwords must: run
    /// [`PasswordHasher::verify_dummy`] when the username is unknown (so
    /// timing does not reveal which usernames exist); answer `None` for an
    /// inactive user; and store a new hash when verification answers
    /// [`Verification::NeedsRehash`].
    fn authenticate<'a>(
        &'a self,
        credentials: &'a Credentials,
    ) -> BackendFuture<'a, Option<Self::User>>;

    /// The user with this id (as [`AuthUser::id`] formats it), active or
    /// not, or `None`.
    fn get_user<'a>(&'a self, id: &'a str) -> BackendFuture<'a, Option<Self::User>>;

    /// Records a successful sign-in (Django's `last_login`). Default: nothing.
    fn record_login<'a>(&'a self, user: &'a Self::User, at: SystemTime) -> BackendFuture<'a, ()> {
        let _ = (user, at);
        Box::pin(std::future::ready(Ok(())))
    }

    /// Hashes a new password (a change or a reset) with `hasher`.
    /// Default: inline, on the caller's thread; a backend with worker
    /// threads runs it there, off the async executor.
    fn hash_password<'a>(
        &'a self,
        hasher: &'a PasswordHasher,
        password: &'a Password,
    ) -> BackendFuture<'a, String> {
        Box::pin(std::future::ready(hasher.hash(password.expose())))
    }

    /// Stores a new password hash for the user with this id. Default: an
    /// error saying the backend keeps no passwords.
    fn set_password<'a>(&'a self, id: &'a str, password_hash: String) -> BackendFuture<'a, ()> {
        let _ = password_hash;
        Box::pin(std::future::ready(Err(Error::backend(
            format!("set the password of user {id}"),
            "this backend does not store passwords",
        ))))
    }
}

impl<B: AuthBackend + ?Sized> AuthBackend for Arc<B> {
    type User = B::User;

    fn authenticate<'a>(
        &'a self,
        credentials: &'a Credentials,
    ) -> BackendFuture<'a, Option<Self::User>> {
        (**self).authenticate(credentials)
    }

    fn get_user<'a>(&'a self, id: &'a str) -> BackendFuture<'a, Option<Self::User>> {
        (**self).get_user(id)
    }

    fn record_login<'a>(&'a self, user: &'a Self::User, at: SystemTime) -> BackendFuture<'a, ()> {
        (**self).record_login(user, at)
    }

    fn hash_password<'a>(
        &'a self,
        hasher: &'a PasswordHasher,
        password: &'a Password,
    ) -> BackendFuture<'a, String> {
        (**self).hash_password(hasher, password)
    }

    fn set_password<'a>(&'a self, id: &'a str, password_hash: String) -> BackendFuture<'a, ()> {
        (**self).set_password(id, password_hash)
    }
}

#[derive(Debug, Default)]
struct Data {
    users: BTreeMap<u64, User>,
    own_permissions: HashMap<u64, PermissionSet>,
    groups: BTreeMap<String, PermissionSet>,
    next_id: u64,
}

impl Data {
    /// The user with its own and its groups' permissions resolved.
    fn resolved(&self, id: u64) -> Option<User> {
        let mut user = self.users.get(&id)?.clone();
        let mut permissions = self.own_permissions.get(&id).cloned().unwrap_or_default();
        for group in &user.groups {
            if let Some(granted) = self.groups.get(group) {
                permissions.extend(granted.iter());
            }
        }
        user.permissions = permissions;
        Some(user)
    }

    fn id_of(&self, username: &str) -> Option<u64> {
        self.users
            .iter()
            .find(|(_, user)| user.username == username)
            .map(|(id, _)| *id)
    }
}

/// Users and groups in memory: for tests, examples and small tools. Clones
/// share the data. Passwords are checked inline (no worker thread): fine
/// for tests; a database backend runs hashing beside its queries.
#[derive(Clone, Debug, Default)]
pub struct MemoryBackend {
    data: Arc<Mutex<Data>>,
    hasher: PasswordHasher,
}

fn parse_id(id: &str) -> Option<u64> {
    id.parse().ok()
}

impl MemoryBackend {
    /// An empty backend hashing with OWASP's parameters.
    pub fn new() -> Self {
        MemoryBackend::default()
    }

    /// Uses this hasher (cheaper parameters in tests, an observer...).
    pub fn with_hasher(mut self, hasher: PasswordHasher) -> Self {
        self.hasher = hasher;
        self
    }

    /// The hasher the backend verifies and rehashes with.
    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    fn data(&self) -> MutexGuard<'_, Data> {
        // Every method leaves the data consistent before anything can
        // panic, so a poisoned lock is safe to keep using.
        self.data.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores a new user (from [`create_user`](crate::create_user) or
    /// [`create_superuser`](crate::create_superuser)) and answers it with
    /// its id.
    pub fn insert(&self, new: NewUser) -> Result<User, Error> {
        let mut data = self.data();
        if data.id_of(&new.username).is_some() {
            return Err(Error::InvalidUsername {
                username: new.username,
                reason: "a user with that username already exists",
            });
        }
        data.next_id += 1;
        let id = data.next_id;
        data.users.insert(id, new.into_user(id.to_string()));
        Ok(data.resolved(id).expect("the user was inserted just above"))
    }

    /// Adds a user with this password, hashed but not validated (for tests
    /// and seeding).
    pub fn add_user(&self, username: &str, password: &str) -> Result<User, Error> {
        let hash = self.hasher.hash(password)?;
        self.insert(NewUser::with_hash(username, "", hash))
    }

    /// Creates (or replaces) a group with these permissions.
    pub fn add_group<S: Into<String>>(&self, name: &str, permissions: impl IntoIterator<Item = S>) {
        self.data()
            .groups
            .insert(name.to_owned(), permissions.into_iter().collect());
    }

    /// Changes a stored user; answers it as changed, or `None` when unknown.
    pub fn update(&self, id: &str, change: impl FnOnce(&mut User)) -> Option<User> {
        let id = parse_id(id)?;
        let mut data = self.data();
        change(data.users.get_mut(&id)?);
        data.resolved(id)
    }

    /// Adds the user to a group.
    pub fn add_to_group(&self, id: &str, group: &str) -> Option<User> {
        self.update(id, |user| {
            if !user.groups.iter().any(|g| g == group) {
                user.groups.push(group.to_owned());
            }
        })
    }

    /// Grants the user a permission of its own.
    pub fn grant(&self, id: &str, permission: &str) -> Option<User> {
        let key = parse_id(id)?;
        self.data()
            .own_permissions
            .entry(key)
            .or_default()
            .insert(permission);
        self.user(id)
    }

    /// The user with this id, permissions resolved.
    pub fn user(&self, id: &str) -> Option<User> {
        self.data().resolved(parse_id(id)?)
    }

    /// The user with this username, permissions resolved.
    pub fn user_by_username(&self, username: &str) -> Option<User> {
        let data = self.data();
        data.resolved(data.id_of(username)?)
    }

    fn authenticate_now(&self, credentials: &Credentials) -> Option<User> {
        let Credentials::Password { username, password } = credentials;
        let Some(user) = self.user_by_username(username) else {
            self.hasher.verify_dummy(password.expose());
            return None;
        };
        // Checked after the hash so that an inactive account costs the same.
        let verification = self.hasher.verify(password.expose(), &user.password);
        if !verification.is_verified() || !user.is_active {
            return None;
        }
        if verification == Verification::NeedsRehash
            && let Ok(rehashed) = self.hasher.hash(password.expose())
        {
            return self.update(&user.id, |stored| stored.password = rehashed);
        }
        Some(user)
    }
}

impl AuthBackend for MemoryBackend {
    type User = User;

    fn authenticate<'a>(&'a self, credentials: &'a Credentials) -> BackendFuture<'a, Option<User>> {
        Box::pin(std::future::ready(Ok(self.authenticate_now(credentials))))
    }

    fn get_user<'a>(&'a self, id: &'a str) -> BackendFuture<'a, Option<User>> {
        Box::pin(std::future::ready(Ok(self.user(id))))
    }

    fn record_login<'a>(&'a self, user: &'a User, at: SystemTime) -> BackendFuture<'a, ()> {
        self.update(&user.id, |stored| stored.last_login = Some(at));
        Box::pin(std::future::ready(Ok(())))
    }

    fn set_password<'a>(&'a self, id: &'a str, password_hash: String) -> BackendFuture<'a, ()> {
        let found = self.update(id, |stored| stored.password = password_hash);
        Box::pin(std::future::ready(match found {
            Some(_) => Ok(()),
            None => Err(Error::backend(
                format!("set the password of user {id}"),
                "no such user",
            )),
        }))
    }
}
