//! Users, groups, permissions and API tokens in database tables, through
//! tack-orm (feature `orm`; `postgres` for PostgreSQL).

mod backend;
pub mod models;
mod permissions;
mod throttle;
mod tokens;

pub use backend::{DbBackend, change_password, insert_user};
pub use permissions::{create_permissions, ensure_permissions};
pub use throttle::DbThrottle;
pub use tokens::DbTokenStore;

/// The migrations that make the auth tables, under the app label `auth`:
/// add them to a project's set with
/// `Migrations::from_embedded(..)?.labelled("app")?.with(tack_auth::MIGRATIONS)?`,
/// and name `["auth", "0001_initial"]` in the dependencies of a migration
/// whose foreign keys point at `auth_user`.
pub const MIGRATIONS: tack_orm::migrations::AppMigrations = tack_orm::migrations::AppMigrations {
    app: "auth",
    files: tack_orm::migrations::embed_migrations!("migrations"),
};

impl From<tack_orm::Error> for crate::Error {
    fn from(error: tack_orm::Error) -> Self {
        crate::Error::backend("use the auth tables", error)
    }
}
