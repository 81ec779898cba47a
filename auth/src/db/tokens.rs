//! [`DbTokenStore`]: API token digests in `auth_token`.

use std::time::SystemTime;

use chrono::{DateTime, Utc};
use tack_orm::{AsyncDatabase, ForeignKey};

use super::models;
use crate::Error;
use crate::backend::BackendFuture;
use crate::token::{TokenDigest, TokenRecord, TokenStore};

/// API tokens in the `auth_token` table: only each token's SHA-256 digest,
/// its owner, name and times (never the token). Deleting a user deletes
/// its tokens. Queries run on the database's worker threads. Owners are
/// users of [`DbBackend`](crate::DbBackend) (integer ids).
#[derive(Clone, Debug)]
pub struct DbTokenStore {
    db: AsyncDatabase,
}

impl DbTokenStore {
    /// A store on `db` (create the tables of [`models::all`] first).
    pub fn new(db: AsyncDatabase) -> Self {
        DbTokenStore { db }
    }

    async fn run<R: Send + 'static>(
        &self,
        action: String,
        f: impl FnOnce(&tack_orm::Database) -> tack_orm::Result<R> + Send + 'static,
    ) -> Result<R, Error> {
        self.db
            .run(f)
            .await
            .map_err(|error| Error::backend(action, error))
    }
}

fn to_record(row: models::Token) -> Option<TokenRecord> {
    Some(TokenRecord {
        digest: TokenDigest::from_hex(&row.digest)?,
        id: row.id,
        user_id: row.user.id().to_string(),
        name: row.name,
        created_at: SystemTime::from(row.created_at),
        expires_at: row.expires_at.map(SystemTime::from),
    })
}

impl TokenStore for DbTokenStore {
    fn insert(&self, record: TokenRecord) -> BackendFuture<'_, ()> {
        Box::pin(async move {
            let action = format!("store token {:?} of user {}", record.name, record.user_id);
            let Ok(user) = record.user_id.parse::<i64>() else {
                return Err(Error::backend(
                    action,
                    "the database keeps tokens of DbBackend users, whose ids are integers",
                ));
            };
            let row = models::Token {
                id: record.id,
                user: ForeignKey::new(user),
                name: record.name,
                digest: record.digest.to_hex(),
                created_at: DateTime::<Utc>::from(record.created_at),
                expires_at: record.expires_at.map(DateTime::<Utc>::from),
            };
            self.run(action, move |db| {
                models::Token::objects()
                    .bulk_create(db, vec![row])
                    .map(drop)
            })
            .await
        })
    }

    fn find<'a>(&'a self, digest: &'a TokenDigest) -> BackendFuture<'a, Option<TokenRecord>> {
        let hex = digest.to_hex();
        Box::pin(async move {
            let row = self
                .run("look up an API token".to_owned(), move |db| {
                    models::Token::objects()
                        .filter(models::Token::DIGEST.eq(hex))
                        .first(db)
                })
                .await?;
            Ok(row.and_then(to_record))
        })
    }

    fn revoke<'a>(&'a self, id: &'a str) -> BackendFuture<'a, bool> {
        let id = id.to_owned();
        Box::pin(async move {
            let action = format!("revoke API token {id}");
            let deleted = self
                .run(action, move |db| {
                    models::Token::objects()
                        .filter(models::Token::ID.eq(id))
                        .delete(db)
                })
                .await?;
            Ok(deleted > 0)
        })
    }

    fn list<'a>(&'a self, user_id: &'a str) -> BackendFuture<'a, Vec<TokenRecord>> {
        Box::pin(async move {
            let Ok(user) = user_id.parse::<i64>() else {
                return Ok(Vec::new());
            };
            let rows = self
                .run(format!("list the API tokens of user {user}"), move |db| {
                    models::Token::objects()
                        .filter(models::Token::USER.eq(user))
                        .order_by(models::Token::CREATED_AT.asc())
                        .all(db)
                })
                .await?;
            Ok(rows.into_iter().filter_map(to_record).collect())
        })
    }

    fn revoke_all<'a>(&'a self, user_id: &'a str) -> BackendFuture<'a, usize> {
        Box::pin(async move {
            let Ok(user) = user_id.parse::<i64>() else {
                return Ok(0);
            };
            let deleted = self
                .run(format!("revoke the API tokens of user {user}"), move |db| {
                    models::Token::objects()
                        .filter(models::Token::USER.eq(user))
                        .delete(db)
                })
                .await?;
            Ok(deleted as usize)
        })
    }
}
