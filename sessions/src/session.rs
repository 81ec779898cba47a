//! The session handle handlers use.

use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::Error;
use crate::store::{Record, SessionId};

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
}

impl Session {
    /// An empty session attached to no store: for unit-testing handlers.
    pub fn new() -> Self {
        Session::default()
    }

    pub(crate) fn from_record(record: Option<Record>) -> Self {
        let state = match record {
            Some(record) => State {
                loaded_id: Some(record.id.clone()),
                id: Some(record.id),
                data: record.data,
                expires_at: record.expires_at,
                ..State::default()
            },
            None => State::default(),
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
    fn reading_does_not_modify() {
        let session = Session::from_record(Some(Record {
            id: SessionId::generate(),
            data: Map::new(),
            expires_at: u64::MAX,
        }));
        let _ = session.get::<u8>("x");
        session.remove::<u8>("absent").unwrap();
        session.clear();
        assert!(!session.is_modified());
    }

    #[test]
    fn cycle_keeps_data_and_flush_drops_it() {
        let id = SessionId::generate();
        let session = Session::from_record(Some(Record {
            id: id.clone(),
            data: Map::from_iter([("k".to_owned(), Value::from(1))]),
            expires_at: u64::MAX,
        }));
        session.cycle_id();
        assert!(session.lock().id.is_none());
        assert_eq!(session.get::<i32>("k").unwrap(), Some(1));
        session.flush();
        assert!(session.is_empty());
        assert_eq!(session.lock().loaded_id, Some(id));
    }
}
