//! The models of {{project}}. Change one, then `cargo run -- makemigrations`
//! writes the migration and `cargo run` applies it.

use chrono::{DateTime, Utc};
use tack_orm::prelude::*;

/// A note: the project's first model, managed in the admin.
#[derive(Model, Clone, Debug)]
#[tack(app = "{{app}}", display = "{title}")]
pub struct Note {
    /// Primary key.
    pub id: i64,
    /// What the note is about.
    #[tack(max_length = 200)]
    pub title: String,
    /// The note itself.
    #[tack(blank)]
    pub body: String,
    /// When it was written.
    pub created_at: DateTime<Utc>,
}

/// Every model, the batteries' first (they create the tables yours refer to).
pub fn all() -> Vec<&'static tack_orm::ModelMeta> {
    let mut models = tack_auth::models::all();
    models.extend(tack_sessions::models());
    models.push(Note::meta());
    models
}
