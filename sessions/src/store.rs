//! The store trait and the record a store keeps.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::Error;

/// The future a [`SessionStore`] method returns: boxed, `Send`, and tied to
/// no runtime.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>;

/// A session id: 256 bits from a CSPRNG, as 43 characters of URL-safe base64.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionId(String);

impl SessionId {
    /// A fresh random id (the thread-local ChaCha CSPRNG, seeded by the OS).
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes[..]);
        SessionId(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The id as text: what id-keyed stores use as the key and the cookie value.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `text` has the shape of an id this crate generates, so a
    /// store can refuse junk keys without asking its backend.
    pub fn is_well_formed(text: &str) -> bool {
        text.len() == 43
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }

    /// Wraps a stored id (for store implementations reading their rows).
    pub fn from_stored(text: impl Into<String>) -> Self {
        SessionId(text.into())
    }
}

impl std::fmt::Debug for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // An id is a bearer credential: show only a prefix.
        let shown: String = self.0.chars().take(6).collect();
        write!(f, "SessionId({shown}…)")
    }
}

/// One session as a store keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The session's id.
    pub id: SessionId,
    /// The session's values, as JSON.
    pub data: serde_json::Map<String, serde_json::Value>,
    /// When the session expires, in seconds since the Unix epoch.
    pub expires_at: u64,
}

impl Record {
    /// Whether the session has expired at `now`.
    pub fn is_expired_at(&self, now: SystemTime) -> bool {
        unix_secs(now) >= self.expires_at
    }

    /// Whether the session has expired.
    pub fn is_expired(&self) -> bool {
        self.is_expired_at(SystemTime::now())
    }
}

/// Seconds since the Unix epoch (0 for times before it).
pub(crate) fn unix_secs(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

/// Where sessions live: memory, a database, or the cookie itself.
///
/// Every method names a session by its *cookie value*: the string
/// [`SessionStore::save`] answered. Stores keyed by id answer the id; the
/// signed-cookie store answers the whole signed record. The methods return
/// boxed futures so that a store backed by a synchronous driver can run the
/// work on its own threads (the ORM's async adapter) and a store in memory
/// can answer at once, with no runtime either way.
///
/// A store must answer `Ok(None)` from `load` for a value it does not know,
/// one that was tampered with, and an expired session: the layer then
/// starts a fresh session. `Err` is for the backend failing.
pub trait SessionStore: Send + Sync + 'static {
    /// The session named by a cookie value, if it exists and has not expired.
    fn load<'a>(&'a self, cookie_value: &'a str) -> StoreFuture<'a, Option<Record>>;

    /// Saves the record (inserting or replacing the one with its id) and
    /// answers the value to put in the cookie.
    fn save<'a>(&'a self, record: &'a Record) -> StoreFuture<'a, String>;

    /// Saves a record that was loaded, only if its session still exists,
    /// and answers the cookie value; `None` when it is gone (a logout in
    /// a concurrent request deleted it): the layer then answers 400 rather
    /// than bring the session back (Django's `SessionInterrupted`).
    ///
    /// The default calls [`save`](SessionStore::save): right for stores
    /// that keep nothing on the server (the signed cookie). Stores whose
    /// sessions can be deleted override it.
    fn update<'a>(&'a self, record: &'a Record) -> StoreFuture<'a, Option<String>> {
        Box::pin(async move { self.save(record).await.map(Some) })
    }

    /// Deletes the session named by a cookie value (nothing if unknown).
    fn delete<'a>(&'a self, cookie_value: &'a str) -> StoreFuture<'a, ()>;

    /// Deletes every expired session and answers how many went. Call it
    /// from a periodic job (Django's `clearsessions`).
    fn clear_expired(&self) -> StoreFuture<'_, usize>;
}

impl<T: SessionStore + ?Sized> SessionStore for Arc<T> {
    fn load<'a>(&'a self, cookie_value: &'a str) -> StoreFuture<'a, Option<Record>> {
        (**self).load(cookie_value)
    }

    fn save<'a>(&'a self, record: &'a Record) -> StoreFuture<'a, String> {
        (**self).save(record)
    }
    fn update<'a>(&'a self, record: &'a Record) -> StoreFuture<'a, Option<String>> {
        (**self).update(record)
    }

    fn delete<'a>(&'a self, cookie_value: &'a str) -> StoreFuture<'a, ()> {
        (**self).delete(cookie_value)
    }

    fn clear_expired(&self) -> StoreFuture<'_, usize> {
        (**self).clear_expired()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_random_and_well_formed() {
        let a = SessionId::generate();
        let b = SessionId::generate();
        assert_ne!(a, b);
        assert!(SessionId::is_well_formed(a.as_str()));
        assert!(!SessionId::is_well_formed("short"));
        assert!(!SessionId::is_well_formed(
            &"a".repeat(42).replace('a', "!")
        ));
        assert!(!format!("{a:?}").contains(a.as_str()));
    }
}
