//! API tokens: long random secrets a client sends as
//! `Authorization: Bearer TOKEN`, stored only as their SHA-256 digest.
//!
//! A token is 256 bits from the operating system's CSPRNG. Because it has
//! that much entropy, a fast hash is the right choice (unlike passwords,
//! which need a slow one): nobody can enumerate 2^256 candidates, so a
//! stolen table of digests gives no token back, and checking a token costs
//! one SHA-256 instead of an Argon2 run per request. Stores look tokens up
//! by digest; the found digest is then compared in constant time.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::backend::BackendFuture;

/// The prefix of every token, so secret scanners can recognise a leaked one.
pub const TOKEN_PREFIX: &str = "tack_";

/// A token in clear: shown to its owner once, never stored. Its `Debug`
/// prints `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken(String);

impl ApiToken {
    /// A fresh token: `tack_` and 256 random bits as URL-safe base64.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes[..]);
        ApiToken(format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// The token text, to show to its owner once.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The digest to store.
    pub fn digest(&self) -> TokenDigest {
        TokenDigest::of(&self.0)
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The SHA-256 digest of a token: what stores keep.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenDigest([u8; 32]);

impl TokenDigest {
    /// The digest of presented token text.
    pub fn of(token: &str) -> Self {
        TokenDigest(Sha256::digest(token.as_bytes()).into())
    }

    /// The digest as 64 lowercase hex digits (for a database column).
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A digest read back from [`TokenDigest::to_hex`].
    pub fn from_hex(hex: &str) -> Option<Self> {
        if hex.len() != 64 || !hex.is_ascii() {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(TokenDigest(bytes))
    }

    /// Compares in constant time.
    pub fn matches(&self, other: &TokenDigest) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenDigest({}…)", &self.to_hex()[..8])
    }
}

/// A stored token: who it belongs to, never the token itself.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenRecord {
    /// A public id (random, not secret) to list and revoke the token by.
    pub id: String,
    /// The owner's id ([`AuthUser::id`](crate::AuthUser::id)).
    pub user_id: String,
    /// A name the owner gave it ("deploy script").
    pub name: String,
    /// The SHA-256 digest of the token.
    pub digest: TokenDigest,
    /// When it was created (whole microseconds, as databases keep it).
    pub created_at: SystemTime,
    /// When it stops working, if ever.
    pub expires_at: Option<SystemTime>,
}

impl TokenRecord {
    /// A record for a fresh token (with a fresh public id).
    pub fn new(user_id: impl Into<String>, name: impl Into<String>, token: &ApiToken) -> Self {
        let mut id = [0u8; 12];
        rand::fill(&mut id[..]);
        TokenRecord {
            id: URL_SAFE_NO_PAD.encode(id),
            user_id: user_id.into(),
            name: name.into(),
            digest: token.digest(),
            created_at: whole_micros(SystemTime::now()),
            expires_at: None,
        }
    }

    /// Whether the token has expired at `now`.
    pub fn is_expired_at(&self, now: SystemTime) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }
}

/// `at` without its sub-microsecond part: what PostgreSQL's timestamps
/// keep, so a record reads back from a database store exactly as created.
pub(crate) fn whole_micros(at: SystemTime) -> SystemTime {
    match at.duration_since(std::time::UNIX_EPOCH) {
        Ok(since) => {
            std::time::UNIX_EPOCH + std::time::Duration::from_micros(since.as_micros() as u64)
        }
        Err(_) => at,
    }
}

/// Where token digests live. Async so a database store fits behind it.
pub trait TokenStore: Send + Sync + 'static {
    /// Stores a record.
    fn insert(&self, record: TokenRecord) -> BackendFuture<'_, ()>;

    /// The record with this digest, if any.
    fn find<'a>(&'a self, digest: &'a TokenDigest) -> BackendFuture<'a, Option<TokenRecord>>;

    /// Deletes the token with this public id; answers whether it existed.
    fn revoke<'a>(&'a self, id: &'a str) -> BackendFuture<'a, bool>;

    /// The tokens of a user, oldest first.
    fn list<'a>(&'a self, user_id: &'a str) -> BackendFuture<'a, Vec<TokenRecord>>;

    /// Deletes every token of a user; answers how many. The default lists
    /// and revokes them one by one; stores override it with one statement.
    fn revoke_all<'a>(&'a self, user_id: &'a str) -> BackendFuture<'a, usize> {
        Box::pin(async move {
            let mut revoked = 0;
            for record in self.list(user_id).await? {
                if self.revoke(&record.id).await? {
                    revoked += 1;
                }
            }
            Ok(revoked)
        })
    }
}

/// Checks presented token text: the record, if the token is known, its
/// digest matches in constant time, and it has not expired at `now`.
pub async fn verify_token<T: TokenStore + ?Sized>(
    store: &T,
    presented: &str,
    now: SystemTime,
) -> Result<Option<TokenRecord>, crate::Error> {
    let digest = TokenDigest::of(presented);
    let found = store.find(&digest).await?;
    Ok(found.filter(|record| record.digest.matches(&digest) && !record.is_expired_at(now)))
}

/// Token digests in memory. Clones share the records.
#[derive(Clone, Debug, Default)]
pub struct MemoryTokenStore {
    records: Arc<Mutex<HashMap<TokenDigest, TokenRecord>>>,
}

impl MemoryTokenStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryTokenStore::default()
    }

    fn records(&self) -> MutexGuard<'_, HashMap<TokenDigest, TokenRecord>> {
        // Single-step operations keep the map consistent: a poisoned lock is fine.
        self.records.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl TokenStore for MemoryTokenStore {
    fn insert(&self, record: TokenRecord) -> BackendFuture<'_, ()> {
        self.records().insert(record.digest, record);
        Box::pin(std::future::ready(Ok(())))
    }

    fn find<'a>(&'a self, digest: &'a TokenDigest) -> BackendFuture<'a, Option<TokenRecord>> {
        let found = self.records().get(digest).cloned();
        Box::pin(std::future::ready(Ok(found)))
    }

    fn revoke<'a>(&'a self, id: &'a str) -> BackendFuture<'a, bool> {
        let mut records = self.records();
        let before = records.len();
        records.retain(|_, record| record.id != id);
        let revoked = records.len() < before;
        Box::pin(std::future::ready(Ok(revoked)))
    }

    fn list<'a>(&'a self, user_id: &'a str) -> BackendFuture<'a, Vec<TokenRecord>> {
        let mut found: Vec<TokenRecord> = self
            .records()
            .values()
            .filter(|record| record.user_id == user_id)
            .cloned()
            .collect();
        found.sort_by_key(|record| record.created_at);
        Box::pin(std::future::ready(Ok(found)))
    }

    fn revoke_all<'a>(&'a self, user_id: &'a str) -> BackendFuture<'a, usize> {
        let mut records = self.records();
        let before = records.len();
        records.retain(|_, record| record.user_id != user_id);
        let revoked = before - records.len();
        Box::pin(std::future::ready(Ok(revoked)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hidden() {
        let a = ApiToken::generate();
        let b = ApiToken::generate();
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), TOKEN_PREFIX.len() + 43);
        assert_eq!(format!("{a:?}"), "***");
        assert_eq!(
            TokenDigest::from_hex(&a.digest().to_hex()),
            Some(a.digest())
        );
        assert!(a.digest().matches(&a.digest()));
        assert!(!a.digest().matches(&b.digest()));
    }

    #[test]
    fn store_verify_and_revoke() {
        futures_executor::block_on(async {
            let store = MemoryTokenStore::new();
            let token = ApiToken::generate();
            let record = TokenRecord::new("7", "cli", &token);
            store.insert(record.clone()).await.unwrap();
            let now = SystemTime::now();
            let found = verify_token(&store, token.expose(), now).await.unwrap();
            assert_eq!(found.map(|r| r.user_id), Some("7".to_owned()));
            assert!(
                verify_token(&store, "tack_nope", now)
                    .await
                    .unwrap()
                    .is_none()
            );
            assert_eq!(store.list("7").await.unwrap().len(), 1);
            assert!(store.revoke(&record.id).await.unwrap());
            assert!(!store.revoke(&record.id).await.unwrap());
            assert!(
                verify_token(&store, token.expose(), now)
                    .await
                    .unwrap()
                    .is_none()
            );
        });
    }

    #[test]
    fn expired_tokens_fail() {
        futures_executor::block_on(async {
            let store = MemoryTokenStore::new();
            let token = ApiToken::generate();
            let mut record = TokenRecord::new("7", "cli", &token);
            let now = SystemTime::now();
            record.expires_at = Some(now);
            store.insert(record).await.unwrap();
            assert!(
                verify_token(&store, token.expose(), now)
                    .await
                    .unwrap()
                    .is_none()
            );
        });
    }
}
