//! The tables behind [`DbBackend`](crate::DbBackend) and
//! [`DbTokenStore`](crate::DbTokenStore), with Django's names: `auth_user`,
//! `auth_group`, `auth_permission`, the join tables `auth_user_groups`,
//! `auth_user_user_permissions` and `auth_group_permissions`, and
//! `auth_token` for API tokens.
//!
//! Pass [`all`] to `Database::create_tables` (and to migrations), and point
//! your own models at [`User`] with `ForeignKey<tack_auth::models::User>`.

use chrono::{DateTime, Utc};
use tack_orm::{ForeignKey, ManyToMany, Model, ModelMeta};

/// A row of `auth_user`. The backend answers the plain
/// [`crate::User`] (id as text, permissions resolved); this is the
/// table, for foreign keys and queries.
#[derive(Model, Clone, Debug)]
#[tack(app = "auth", table = "auth_user")]
pub struct User {
    /// The primary key.
    pub id: i64,
    /// The PHC password hash (or an unusable one).
    #[tack(max_length = 255)]
    pub password: String,
    /// The last successful sign-in.
    pub last_login: Option<DateTime<Utc>>,
    /// Whether the user has every permission.
    pub is_superuser: bool,
    /// The unique, NFKC-normalized username.
    #[tack(unique, max_length = 150)]
    pub username: String,
    /// The first name.
    #[tack(blank, max_length = 150)]
    pub first_name: String,
    /// The last name.
    #[tack(blank, max_length = 150)]
    pub last_name: String,
    /// The email address.
    #[tack(blank, email, max_length = 254)]
    pub email: String,
    /// Whether the user may use the admin.
    pub is_staff: bool,
    /// Whether the user may sign in.
    pub is_active: bool,
    /// When the account was created.
    pub date_joined: DateTime<Utc>,
    /// The user's groups (`auth_user_groups`).
    pub groups: ManyToMany<Group>,
    /// The user's own permissions (`auth_user_user_permissions`).
    pub user_permissions: ManyToMany<Permission>,
}

/// A row of `auth_group`: a name and the permissions its members get.
#[derive(Model, Clone, Debug)]
#[tack(app = "auth", table = "auth_group")]
pub struct Group {
    /// The primary key.
    pub id: i64,
    /// The unique name.
    #[tack(unique, max_length = 150)]
    pub name: String,
    /// The permissions members get (`auth_group_permissions`).
    pub permissions: ManyToMany<Permission>,
}

/// A row of `auth_permission`. Django keys permissions by content type;
/// here the app label and codename are columns, and `key`
/// (`app_label.codename`) is unique, because the ORM has no
/// unique-together constraint.
#[derive(Model, Clone, Debug)]
#[tack(app = "auth", table = "auth_permission")]
pub struct Permission {
    /// The primary key.
    pub id: i64,
    /// A readable name (`Can change article`).
    #[tack(max_length = 255)]
    pub name: String,
    /// The app (`newsroom`).
    #[tack(max_length = 100)]
    pub app_label: String,
    /// The codename (`change_article`).
    #[tack(max_length = 100)]
    pub codename: String,
    /// `app_label.codename`, unique: what `has_perm` takes.
    #[tack(unique, max_length = 201)]
    pub key: String,
}

impl Permission {
    /// An unsaved row for a permission.
    pub fn from_permission(permission: &crate::Permission) -> Self {
        Permission {
            id: 0,
            name: permission.name.clone(),
            app_label: permission.app_label.clone(),
            codename: permission.codename.clone(),
            key: permission.key(),
        }
    }
}

/// A row of `auth_token`: an API token's SHA-256 digest (never the token)
/// and its owner; deleting the user deletes its tokens.
#[derive(Model, Clone, Debug)]
#[tack(app = "auth", table = "auth_token")]
pub struct Token {
    /// The public id, to list and revoke the token by (random, not secret).
    #[tack(primary_key, max_length = 32)]
    pub id: String,
    /// The owner.
    #[tack(on_delete = "cascade")]
    pub user: ForeignKey<User>,
    /// A name the owner gave it.
    #[tack(blank, max_length = 100)]
    pub name: String,
    /// The token's SHA-256 digest as 64 hex digits.
    #[tack(unique, max_length = 64)]
    pub digest: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A row of `auth_throttle`: the sign-in failures counted for one key
/// (`u:` a username, `p:` a username from one address, `a:` an address),
/// shared by every process through [`DbThrottle`](crate::db::DbThrottle).
#[derive(Model, Clone, Debug)]
#[tack(app = "auth", table = "auth_throttle")]
pub struct ThrottleEntry {
    /// The key.
    #[tack(primary_key, max_length = 300)]
    pub key: String,
    /// Failures counted in the window.
    pub failures: i64,
    /// The last failure, in microseconds since the Unix epoch.
    #[tack(index)]
    pub last_failure: i64,
    /// Until when the key is locked, in microseconds since the Unix epoch.
    pub locked_until: Option<i64>,
}

/// The metadata of every auth model, for `Database::create_tables` now and
/// migrations later.
pub fn all() -> Vec<&'static ModelMeta> {
    vec![
        Permission::meta(),
        Group::meta(),
        User::meta(),
        Token::meta(),
        ThrottleEntry::meta(),
    ]
}
