//! Users, groups, permissions and API tokens in database tables, through
//! tack-orm (feature `orm`; `postgres` for PostgreSQL).

mod backend;
pub mod models;
mod permissions;
mod tokens;

pub use backend::{DbBackend, change_password, insert_user};
pub use permissions::{create_permissions, ensure_permissions};
pub use tokens::DbTokenStore;

impl From<tack_orm::Error> for crate::Error {
    fn from(error: tack_orm::Error) -> Self {
        crate::Error::backend("use the auth tables", error)
    }
}
