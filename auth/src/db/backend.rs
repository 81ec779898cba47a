//! [`DbBackend`]: users, groups and permissions in the `auth_*` tables.

use std::borrow::Cow;
use std::sync::OnceLock;
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use tack_orm::{AsyncDatabase, Connection, Database, Dialect, Executor, Model, ModelExt, Value};

use super::models;
use crate::backend::BackendFuture;
use crate::create::{NewUser, validate_username};
use crate::password::{Password, PasswordHasher, Verification};
use crate::user::{PermissionSet, User};
use crate::validation::{UserAttributes, Validators};
use crate::{AuthBackend, Credentials, Error};

/// Users from the `auth_user` table, with their groups' and their own
/// permissions, on SQLite or PostgreSQL. Every query and every password
/// hash or verification runs on the database's worker threads
/// ([`AsyncDatabase::run`]), never on the async executor. Clones share the
/// database.
///
/// Loading a user costs one query whatever its groups: its row, its
/// group names and its permissions (own and through groups) come back as
/// `UNION ALL` branches.
#[derive(Clone, Debug)]
pub struct DbBackend {
    db: AsyncDatabase,
    hasher: PasswordHasher,
}

/// Wraps an ORM error with what the backend was doing.
fn failed(action: impl Into<String>) -> impl FnOnce(tack_orm::Error) -> Error {
    let action = action.into();
    move |error| Error::backend(action, error)
}

impl DbBackend {
    /// A backend on `db`, hashing with OWASP's parameters. Create the
    /// tables of [`models::all`] first.
    pub fn new(db: AsyncDatabase) -> Self {
        DbBackend {
            db,
            hasher: PasswordHasher::new(),
        }
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

    /// The database.
    pub fn database(&self) -> &AsyncDatabase {
        &self.db
    }

    /// Runs `f` on a worker thread with the database.
    async fn on_worker<R: Send + 'static>(
        &self,
        f: impl FnOnce(&tack_orm::Database) -> Result<R, Error> + Send + 'static,
    ) -> Result<R, Error> {
        self.db
            .run(move |db| Ok(f(db)))
            .await
            .map_err(failed("reach the database worker"))?
    }

    /// Stores a new user (from [`create_user`](crate::create_user) or
    /// [`create_superuser`](crate::create_superuser)) and answers it. A
    /// taken username is [`Error::InvalidUsername`] (422).
    pub async fn insert(&self, new: NewUser) -> Result<User, Error> {
        self.on_worker(move |db| insert_user(db, new)).await
    }

    /// Adds an active user with this password, hashed on a worker thread
    /// but not validated (for tests and seeding).
    pub async fn add_user(&self, username: &str, password: &str) -> Result<User, Error> {
        let hasher = self.hasher.clone();
        let username = crate::create::normalize_username(username);
        let password = password.to_owned();
        self.on_worker(move |db| {
            let hash = hasher.hash(&password)?;
            insert_user(db, NewUser::with_hash(&username, "", hash))
        })
        .await
    }

    /// The user with this id, permissions resolved.
    pub async fn user(&self, id: &str) -> Result<Option<User>, Error> {
        let Ok(key) = id.parse::<i64>() else {
            return Ok(None);
        };
        self.on_worker(move |db| user_by_id(db, key)).await
    }

    /// The user with this username, permissions resolved.
    pub async fn user_by_username(&self, username: &str) -> Result<Option<User>, Error> {
        let username = crate::create::normalize_username(username);
        self.on_worker(move |db| {
            let found = load_user(db, UserKey::Username, Value::Text(username))?;
            Ok(found.map(Loaded::into_user))
        })
        .await
    }

    /// Loads the row of user `id` on a worker, runs `change` with it, and
    /// answers the user as changed (`None` when unknown, `f` not run).
    async fn change_row(
        &self,
        id: &str,
        change: impl FnOnce(&tack_orm::Database, models::User) -> Result<(), Error> + Send + 'static,
    ) -> Result<Option<User>, Error> {
        let Ok(key) = id.parse::<i64>() else {
            return Ok(None);
        };
        self.on_worker(move |db| {
            let Some(row) = models::User::objects()
                .filter(models::User::ID.eq(key))
                .first(db)
                .map_err(failed(format!("load user {key}")))?
            else {
                return Ok(None);
            };
            change(db, row)?;
            user_by_id(db, key)
        })
        .await
    }

    /// Changes a stored user row (flags, names, email); answers the user as
    /// changed, or `None` when unknown.
    pub async fn update(
        &self,
        id: &str,
        change: impl FnOnce(&mut models::User) + Send + 'static,
    ) -> Result<Option<User>, Error> {
        self.change_row(id, move |db, mut row| {
            let key = row.id;
            change(&mut row);
            row.id = key;
            validate_username(&row.username)?;
            match row.save(db) {
                Err(tack_orm::Error::UniqueViolation { .. }) => Err(Error::InvalidUsername {
                    username: row.username,
                    reason: "a user with that username already exists",
                }),
                saved => saved.map_err(failed(format!("update user {key}"))),
            }
        })
        .await
    }

    /// Creates the group, or replaces its permissions
    /// (`app_label.codename`, already stored: see
    /// [`ensure_permissions`](super::ensure_permissions)), in one transaction.
    pub async fn add_group<S: Into<String>>(
        &self,
        name: &str,
        permissions: impl IntoIterator<Item = S>,
    ) -> Result<(), Error> {
        let name = name.to_owned();
        let keys: Vec<String> = permissions.into_iter().map(Into::into).collect();
        self.on_worker(move |db| {
            db.atomic(|tx| {
                let found = stored_permissions(tx, &keys)?;
                let group = group_named(tx, &name)?;
                let refs: Vec<&models::Permission> = found.iter().collect();
                group
                    .permissions()
                    .set(tx, &refs)
                    .map_err(failed(format!("set the permissions of group {name}")))
            })
        })
        .await
    }

    /// Adds the user to a group (created empty if missing); answers the
    /// user, or `None` when unknown.
    pub async fn add_to_group(&self, id: &str, group: &str) -> Result<Option<User>, Error> {
        let group = group.to_owned();
        self.change_row(id, move |db, row| {
            db.atomic(|tx| {
                let group = group_named(tx, &group)?;
                row.groups().add(tx, &[&group]).map_err(failed(format!(
                    "add user {} to group {}",
                    row.id, group.name
                )))
            })
        })
        .await
    }

    /// Grants the user a stored permission of its own (`app_label.codename`);
    /// answers the user, or `None` when unknown.
    pub async fn grant(&self, id: &str, permission: &str) -> Result<Option<User>, Error> {
        let permission = permission.to_owned();
        self.change_row(id, move |db, row| {
            // `stored_permissions` answers every key asked for, or an error.
            let found = stored_permissions(db, std::slice::from_ref(&permission))?;
            row.user_permissions()
                .add(db, &[&found[0]])
                .map_err(failed(format!("grant {permission} to user {}", row.id)))
        })
        .await
    }
}

/// Stores `new` in `auth_user` and answers it (with no groups or
/// permissions yet). Synchronous, for CLIs (`createsuperuser`) and
/// start-up code; [`DbBackend::insert`] runs it on a worker thread. A taken
/// username is [`Error::InvalidUsername`] (422).
pub fn insert_user(db: &impl Executor, new: NewUser) -> Result<User, Error> {
    validate_username(&new.username)?;
    let row = models::User {
        id: 0,
        password: new.password_hash.clone(),
        last_login: None,
        is_superuser: new.is_superuser,
        username: new.username.clone(),
        first_name: new.first_name.clone(),
        last_name: new.last_name.clone(),
        email: new.email.clone(),
        is_staff: new.is_staff,
        is_active: new.is_active,
        date_joined: DateTime::<Utc>::from(new.date_joined),
        groups: Default::default(),
        user_permissions: Default::default(),
    };
    match models::User::objects().create(db, row) {
        Ok(row) => Ok(to_user(row, Vec::new(), PermissionSet::new())),
        Err(tack_orm::Error::UniqueViolation { .. }) => Err(Error::InvalidUsername {
            username: new.username,
            reason: "a user with that username already exists",
        }),
        Err(error) => Err(Error::backend(
            format!("store user {:?}", new.username),
            error,
        )),
    }
}

/// Sets the password of the user `username`, for CLIs (`changepassword`):
/// validates it with `validators` (against the user's username and e-mail),
/// hashes it with `hasher`, and in one transaction stores the hash and
/// revokes every API token of the user. Their sessions are signed out by
/// the new hash. An unknown username is [`Error::InvalidCredentials`].
pub fn change_password(
    db: &Database,
    username: &str,
    password: &Password,
    validators: &Validators,
    hasher: &PasswordHasher,
) -> Result<(), Error> {
    let action = format!("change the password of {username:?}");
    let row = models::User::objects()
        .filter(models::User::USERNAME.eq(username))
        .first(db)
        .map_err(failed(action.clone()))?
        .ok_or(Error::InvalidCredentials)?;
    validators.validate(
        password.expose(),
        &UserAttributes::new(&row.username, &row.email),
    )?;
    let hash = hasher.hash(password.expose())?;
    db.atomic(|tx| {
        models::User::objects()
            .filter(models::User::ID.eq(row.id))
            .update(tx, &[models::User::PASSWORD.set(hash)])?;
        models::Token::objects()
            .filter(models::Token::USER.eq(row.id))
            .delete(tx)
            .map(drop)
    })
    .map_err(failed(action))
}

/// The stored permissions with these keys, or [`Error::UnknownPermission`]
/// naming the first missing one.
fn stored_permissions(
    db: &impl Executor,
    keys: &[String],
) -> Result<Vec<models::Permission>, Error> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let found = models::Permission::objects()
        .filter(models::Permission::KEY.is_in(keys.iter().cloned()))
        .all(db)
        .map_err(failed("load permissions"))?;
    if let Some(missing) = keys
        .iter()
        .find(|key| !found.iter().any(|p| &p.key == *key))
    {
        return Err(Error::UnknownPermission {
            permission: missing.clone(),
            reason: "it is not stored: create it with ensure_permissions or create_permissions",
        });
    }
    Ok(found)
}

/// The group with this name, created if missing.
fn group_named(db: &Connection, name: &str) -> Result<models::Group, Error> {
    models::Group::objects()
        .get_or_create(db, models::Group::NAME.eq(name.to_owned()), || {
            models::Group {
                id: 0,
                name: name.to_owned(),
                permissions: Default::default(),
            }
        })
        .map(|(group, _)| group)
        .map_err(failed(format!("create group {name}")))
}

fn to_user(row: models::User, groups: Vec<String>, permissions: PermissionSet) -> User {
    User {
        id: row.id.to_string(),
        username: row.username,
        email: row.email,
        password: row.password,
        first_name: row.first_name,
        last_name: row.last_name,
        is_active: row.is_active,
        is_staff: row.is_staff,
        is_superuser: row.is_superuser,
        last_login: row.last_login.map(SystemTime::from),
        date_joined: SystemTime::from(row.date_joined),
        groups,
        permissions,
    }
}

/// How a user is looked up.
#[derive(Clone, Copy, Debug)]
enum UserKey {
    Id = 0,
    Username = 1,
}

/// One query for a user: its row (tag `u`, the model's columns from
/// column 2), its group names (`g`), and its own and its groups'
/// permissions (`p`), as `UNION ALL` branches. Built once per dialect and
/// key.
fn user_sql(dialect: Dialect, key: UserKey) -> Cow<'static, str> {
    static CACHE: [OnceLock<String>; 4] = [const { OnceLock::new() }; 4];
    let first = match dialect {
        Dialect::Sqlite => 0,
        Dialect::Postgres => 2,
        _ => return Cow::Owned(build_user_sql(dialect, key)),
    };
    let slot = first + key as usize;
    Cow::Borrowed(CACHE[slot].get_or_init(|| build_user_sql(dialect, key)))
}

fn build_user_sql(dialect: Dialect, key: UserKey) -> String {
    let q = |ident: &str| dialect.quote(ident);
    let user = models::User::meta();
    let group = models::Group::meta();
    let permission = models::Permission::meta();
    let (Some(user_groups), Some(user_permissions), Some(group_permissions)) = (
        user.many_to_many("groups"),
        user.many_to_many("user_permissions"),
        group.many_to_many("permissions"),
    ) else {
        unreachable!("the auth models declare these many-to-many fields")
    };
    let columns: Vec<String> = user
        .fields
        .iter()
        .map(|field| format!("u.{}", q(field.column)))
        .collect();
    let columns = columns.join(", ");
    let nulls = vec!["NULL"; user.fields.len()].join(", ");
    let mut param = String::new();
    dialect.placeholder_into(&mut param, 1);
    let (id, username, user_table) = (q("id"), q("username"), q(user.table));
    let (user_filter, user_id) = match key {
        UserKey::Id => (format!("u.{id} = {param}"), param.clone()),
        UserKey::Username => (
            format!("u.{username} = {param}"),
            format!("(SELECT {id} FROM {user_table} WHERE {username} = {param})"),
        ),
    };
    format!(
        "SELECT 'u', NULL, {columns} FROM {user_table} AS u WHERE {user_filter} \
         UNION ALL SELECT 'g', g.{name}, {nulls} FROM {group} AS g \
         JOIN {ug} AS ug ON ug.{ug_group} = g.{id} WHERE ug.{ug_user} = {user_id} \
         UNION ALL SELECT 'p', p.{key}, {nulls} FROM {permission} AS p \
         JOIN {up} AS up ON up.{up_permission} = p.{id} WHERE up.{up_user} = {user_id} \
         UNION ALL SELECT 'p', p.{key}, {nulls} FROM {permission} AS p \
         JOIN {gp} AS gp ON gp.{gp_permission} = p.{id} \
         JOIN {ug} AS ug ON ug.{ug_group} = gp.{gp_group} WHERE ug.{ug_user} = {user_id}",
        name = q("name"),
        key = q("key"),
        group = q(group.table),
        permission = q(permission.table),
        ug = q(user_groups.join_table),
        ug_user = q(user_groups.source_column),
        ug_group = q(user_groups.target_column),
        up = q(user_permissions.join_table),
        up_user = q(user_permissions.source_column),
        up_permission = q(user_permissions.target_column),
        gp = q(group_permissions.join_table),
        gp_group = q(group_permissions.source_column),
        gp_permission = q(group_permissions.target_column),
    )
}

/// A user row with its group names and permissions.
struct Loaded {
    row: models::User,
    groups: Vec<String>,
    permissions: PermissionSet,
}

impl Loaded {
    fn into_user(self) -> User {
        to_user(self.row, self.groups, self.permissions)
    }
}

/// The user with this id or username, its groups and its permissions, in
/// one query.
fn load_user(db: &impl Executor, key: UserKey, value: Value) -> Result<Option<Loaded>, Error> {
    let sql = user_sql(db.dialect(), key);
    let mut row = None;
    let mut groups = Vec::new();
    let mut permissions = PermissionSet::new();
    db.with_connection(|conn| {
        conn.query(&sql, std::slice::from_ref(&value), |found| {
            match found.get::<String>(0)?.as_str() {
                "u" => row = Some(models::User::from_row(found, 2)?),
                "g" => groups.push(found.get::<String>(1)?),
                _ => permissions.insert(found.get::<String>(1)?),
            }
            Ok(())
        })
    })
    .map_err(failed(format!("load user {value}")))?;
    groups.sort();
    groups.dedup();
    Ok(row.map(|row| Loaded {
        row,
        groups,
        permissions,
    }))
}

/// The user with this id, resolved.
fn user_by_id(db: &impl Executor, id: i64) -> Result<Option<User>, Error> {
    Ok(load_user(db, UserKey::Id, Value::I64(id))?.map(Loaded::into_user))
}

impl AuthBackend for DbBackend {
    type User = User;

    fn authenticate<'a>(&'a self, credentials: &'a Credentials) -> BackendFuture<'a, Option<User>> {
        let hasher = self.hasher.clone();
        let credentials = credentials.clone();
        Box::pin(self.on_worker(move |db| {
            let Credentials::Password { username, password } = &credentials;
            let found = load_user(db, UserKey::Username, Value::Text(username.clone()))?;
            let Some(mut found) = found else {
                hasher.verify_dummy(password.expose());
                return Ok(None);
            };
            // Checked after the hash so that an inactive account costs the same.
            let verification = hasher.verify(password.expose(), &found.row.password);
            if !verification.is_verified() || !found.row.is_active {
                return Ok(None);
            }
            if verification == Verification::NeedsRehash
                && let Ok(rehashed) = hasher.hash(password.expose())
            {
                let id = found.row.id;
                models::User::objects()
                    .filter(models::User::ID.eq(id))
                    .update(db, &[models::User::PASSWORD.set(rehashed.clone())])
                    .map_err(failed(format!("store the upgraded hash of user {id}")))?;
                found.row.password = rehashed;
            }
            Ok(Some(found.into_user()))
        }))
    }

    fn get_user<'a>(&'a self, id: &'a str) -> BackendFuture<'a, Option<User>> {
        Box::pin(self.user(id))
    }

    fn record_login<'a>(&'a self, user: &'a User, at: SystemTime) -> BackendFuture<'a, ()> {
        Box::pin(async move {
            let Ok(key) = user.id.parse::<i64>() else {
                return Ok(());
            };
            let at = DateTime::<Utc>::from(at);
            self.on_worker(move |db| {
                models::User::objects()
                    .filter(models::User::ID.eq(key))
                    .update(db, &[models::User::LAST_LOGIN.set(at)])
                    .map(drop)
                    .map_err(failed(format!("record the sign-in of user {key}")))
            })
            .await
        })
    }

    fn hash_password<'a>(
        &'a self,
        hasher: &'a PasswordHasher,
        password: &'a Password,
    ) -> BackendFuture<'a, String> {
        let hasher = hasher.clone();
        let password = password.clone();
        Box::pin(self.on_worker(move |_| hasher.hash(password.expose())))
    }

    fn set_password<'a>(&'a self, id: &'a str, password_hash: String) -> BackendFuture<'a, ()> {
        Box::pin(async move {
            let no_user =
                || Error::backend(format!("set the password of user {id}"), "no such user");
            let key = id.parse::<i64>().map_err(|_| no_user())?;
            let changed = self
                .on_worker(move |db| {
                    models::User::objects()
                        .filter(models::User::ID.eq(key))
                        .update(db, &[models::User::PASSWORD.set(password_hash)])
                        .map_err(failed(format!("set the password of user {key}")))
                })
                .await?;
            if changed == 0 {
                return Err(no_user());
            }
            Ok(())
        })
    }
}
