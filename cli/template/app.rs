//! The {{name}} app: its models. List them in `models::all()` (as a Django
//! app joins `INSTALLED_APPS`), register them in the admin in `lib.rs`,
//! then `cargo run -- makemigrations` writes their migration.

use tack_orm::prelude::*;

/// The app's first model: rename it and give it the fields it needs.
#[derive(Model, Clone, Debug)]
#[tack(app = "{{app}}", table = "{{app}}_{{name}}", display = "{name}")]
pub struct {{model}} {
    /// Primary key.
    pub id: i64,
    /// Its name.
    #[tack(max_length = 100)]
    pub name: String,
}

/// The app's models, for `models::all()`.
pub fn models() -> Vec<&'static tack_orm::ModelMeta> {
    vec![{{model}}::meta()]
}
