#![doc = include_str!("../README.md")]

mod backend;
pub mod create;
#[cfg(feature = "orm")]
pub mod db;
mod error;
pub mod guard;
mod layer;
mod login;
pub mod password;
mod permission;
mod redirect;
pub mod reset;
pub mod throttle;
pub mod token;
mod user;
pub mod validation;

pub use backend::{AuthBackend, BackendFuture, Credentials, MemoryBackend};
pub use create::{NewUser, create_superuser, create_user};
#[cfg(feature = "orm")]
pub use db::{
    DbBackend, DbThrottle, DbTokenStore, MIGRATIONS, create_permissions, ensure_permissions, models,
};
pub use error::{BoxError, Error};
pub use guard::{GuardLayer, Requirement};
pub use layer::{AuthLayer, AuthService, ResponseFuture};
pub use login::{
    Auth, DEFAULT_MAX_TOKENS, DEFAULT_TOKEN_LIFETIME, SESSION_AUTH_HASH, SESSION_USER_ID, login,
    logout, update_session_auth_hash,
};
pub use password::{Password, PasswordHasher, Verification};
pub use permission::{DEFAULT_ACTIONS, Permission};
pub use redirect::{redirect_after_login, safe_redirect_target};
pub use reset::PasswordResetTokens;
pub use throttle::{LoginThrottle, MemoryThrottle};
pub use token::{ApiToken, MemoryTokenStore, TokenStore};
pub use user::{AuthMethod, AuthUser, CurrentUser, PermissionSet, User};
pub use validation::Validators;

#[cfg(feature = "axum")]
tack_http::impl_axum_extension!(CurrentUser<U>, "tack_auth::AuthLayer");
#[cfg(feature = "axum")]
tack_http::impl_axum_response!(Error);
