//! The session handle handlers use.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Error;
use crate::store::{Record, SessionId};

/// The session key a per-session expiry is kept under (as Django does).
pub(crate) const EXPIRY_KEY: &str = "_session_expiry";

/// How long one session lasts, overriding the layer's setting: set it with
/// [`Session::set_expiry`] (a login form's "remember me", say).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    /// The cookie lasts until the browser closes; the stored session still
    /// expires after the layer's max age.
    OnBrowserClose,
    /// The session lasts this long after its last save.
    MaxAge(Duration),
}

/// How an [`Expiry`] is kept in the session's data.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum StoredExpiry {
    BrowserClose,
    MaxAgeSecs(u64),
}

impl Expiry {
    pub(crate) fn from_data(data: &Map<String, Value>) -> Option<Expiry> {
        let stored = StoredExpiry::deserialize(data.get(EXPIRY_KEY)?).ok()?;
        Some(match stored {
            StoredExpiry::BrowserClose => Expiry::OnBrowserClose,
            StoredExpiry::MaxAgeSecs(secs) => Expiry::MaxAge(Duration::from_secs(secs)),
        })
    }
}

/// The current request's session, from the request's extensions.
///
/// Cheap to clone: clones share one session. Values are stored as JSON, so
/// any serde type goes in and comes back out. The layer saves the session
/// after the response only if it was modified (or cycled, or is due for a
/// sliding renewal).
///
/// Two requests on the same session run on two copies: each saves the
/// whole session, and the one that finishes last wins.
///
/// ```
/// use tack_sessions::Session;
///
/// let session = Session::new();
/// session.insert("cart", vec![3, 5]).unwrap();
/// let cart: Option<Vec<u32>> = session.get("cart").unwrap();
/// assert_eq!(cart, Some(vec![3, 5]));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Session {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    /// The id the session was loaded with, if any.
    pub(crate) loaded_id: Option<SessionId>,
    /// The id to save under: `None` means "generate one when saving".
    pub(crate) id: Option<SessionId>,
    pub(crate) data: Map<String, Value>,
    /// The loaded record's expiry (0 for a new session).
    pub(crate) expires_at: u64,
    pub(crate) modified: bool,
    pub(crate) accessed: bool,
    /// The cookie value the request sent (even one naming no live
    /// session), so saving can delete it or clear the cookie.
    pub(crate) cookie: Option<String>,
}

impl Session {
    /// An empty session attached to no store: for unit-testing handlers.
    pub fn new() -> Self {
        Session::default()
    }

    pub(crate) fn from_record(record: Option<Record>, cookie: Option<String>) -> Self {
        let state = match record {
            Some(record) => State {
                loaded_id: Some(record.id.clone()),
                id: Some(record.id),
                data: record.data,
                expires_at: record.expires_at,
                cookie,
                ..State::default()
            },
            None => State {
                cookie,
                ..State::default()
            },
        };
        Session {
            state: Arc::new(Mutex::new(state)),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // Each method leaves the state consistent before it can panic,
        // so a poisoned lock is safe to keep using.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn access(&self) -> MutexGuard<'_, State> {
        let mut state = self.lock();
        state.accessed = true;
        state
    }

    /// The value under `key`, converted to `T`; `Ok(None)` when absent,
    /// an error when the stored value is not a `T`.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        let state = self.access();
        state
            .data
            .get(key)
            .map(|value| T::deserialize(value).map_err(|source| json_error(key, source)))
            .transpose()
    }

    /// Stores `value` under `key`, replacing what was there.
    pub fn insert<T: Serialize>(&self, key: &str, value: T) -> Result<(), Error> {
        let value = serde_json::to_value(value).map_err(|source| json_error(key, source))?;
        let mut state = self.access();
        state.data.insert(key.to_owned(), value);
        state.modified = true;
        Ok(())
    }

    /// Removes the value under `key` and answers it converted to `T`. The
    /// value is removed even when the conversion fails.
    pub fn remove<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        let mut state = self.access();
        let removed = state.data.remove(key);
        if removed.is_some() {
            state.modified = true;
        }
        drop(state);
        removed
            .map(|value| serde_json::from_value(value).map_err(|source| json_error(key, source)))
            .transpose()
    }

    /// Whether a value is stored under `key`.
    pub fn contains_key(&self, key: &str) -> bool {
        self.access().data.contains_key(key)
    }

    /// The keys, in order.
    pub fn keys(&self) -> Vec<String> {
        self.access().data.keys().cloned().collect()
    }

    /// Whether the session holds no value.
    pub fn is_empty(&self) -> bool {
        self.access().data.is_empty()
    }

    /// Removes every value, keeping the id.
    pub fn clear(&self) {
        let mut state = self.access();
        if !state.data.is_empty() {
            state.data.clear();
            state.modified = true;
        }
    }

    /// Removes every value and the stored session, and gives the session a
    /// new id: what logout does. An empty session removes its cookie.
    pub fn flush(&self) {
        let mut state = self.access();
        state.data.clear();
        state.id = None;
        state.modified = true;
    }

    /// Gives the session a new id, keeping its values, and deletes the
    /// record under the old id: call it when privileges change (at login)
    /// so an id planted by an attacker before login is worthless after.
    pub fn cycle_id(&self) {
        let mut state = self.access();
        state.id = None;
        state.modified = true;
    }

    /// Overrides how long this session lasts (`None`: the layer's setting).
    /// Kept in the session's data, so it applies until changed.
    pub fn set_expiry(&self, expiry: Option<Expiry>) {
        let stored = match expiry {
            None => {
                self.access().data.remove(EXPIRY_KEY);
                self.lock().modified = true;
                return;
            }
            Some(Expiry::OnBrowserClose) => StoredExpiry::BrowserClose,
            Some(Expiry::MaxAge(age)) => StoredExpiry::MaxAgeSecs(age.as_secs()),
        };
        // A two-variant enum of a unit and a number always serializes.
        let value = serde_json::to_value(stored).unwrap_or(Value::Null);
        let mut state = self.access();
        state.data.insert(EXPIRY_KEY.to_owned(), value);
        state.modified = true;
    }

    /// This session's own expiry, if [`Session::set_expiry`] set one.
    pub fn expiry(&self) -> Option<Expiry> {
        Expiry::from_data(&self.access().data)
    }

    /// Whether the session was changed during this request.
    pub fn is_modified(&self) -> bool {
        self.lock().modified
    }
}

fn json_error(key: &str, source: serde_json::Error) -> Error {
    Error::Json {
        key: key.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_values_round_trip() {
        let session = Session::new();
        assert!(session.is_empty());
        session.insert("n", 7u8).unwrap();
        session.insert("name", "ada").unwrap();
        assert_eq!(session.get::<u8>("n").unwrap(), Some(7));
        assert_eq!(session.get::<String>("missing").unwrap(), None);
        assert!(matches!(session.get::<u8>("name"), Err(Error::Json { key, .. }) if key == "name"));
        assert_eq!(session.keys(), ["n", "name"]);
        assert_eq!(
            session.remove::<String>("name").unwrap().as_deref(),
            Some("ada")
        );
        assert!(!session.contains_key("name"));
        assert!(session.is_modified());
    }

    #[test]
    fn expiry_round_trips_through_the_data() {
        let session = Session::new();
        assert_eq!(session.expiry(), None);
        for expiry in [
            Expiry::OnBrowserClose,
            Expiry::MaxAge(Duration::from_secs(60)),
        ] {
            session.set_expiry(Some(expiry));
            assert_eq!(session.expiry(), Some(expiry));
        }
        session.set_expiry(None);
        assert_eq!(session.expiry(), None);
        assert!(session.is_empty());
    }

    #[test]
    fn reading_does_not_modify() {
        let session = Session::from_record(
            Some(Record {
                id: SessionId::generate(),
                data: Map::new(),
                expires_at: u64::MAX,
            }),
            None,
        );
        let _ = session.get::<u8>("x");
        session.remove::<u8>("absent").unwrap();
        session.clear();
        assert!(!session.is_modified());
    }

    #[test]
    fn cycle_keeps_data_and_flush_drops_it() {
        let id = SessionId::generate();
        let session = Session::from_record(
            Some(Record {
                id: id.clone(),
                data: Map::from_iter([("k".to_owned(), Value::from(1))]),
                expires_at: u64::MAX,
            }),
            None,
        );
        session.cycle_id();
        assert!(session.lock().id.is_none());
        assert_eq!(session.get::<i32>("k").unwrap(), Some(1));
        session.flush();
        assert!(session.is_empty());
        assert_eq!(session.lock().loaded_id, Some(id));
    }
}
