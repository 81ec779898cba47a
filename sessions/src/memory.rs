//! Sessions in memory: for tests and single-process apps.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use crate::store::{Record, SessionStore, StoreFuture};

/// Keeps sessions in a map in this process. Clones share the map.
///
/// Sessions vanish when the process ends and are not shared between
/// processes: use the database store past one process.
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    sessions: Arc<Mutex<HashMap<String, Record>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    /// How many sessions the store holds, expired ones included.
    pub fn len(&self) -> usize {
        self.map().len()
    }

    /// Whether the store holds no session.
    pub fn is_empty(&self) -> bool {
        self.map().is_empty()
    }

    fn map(&self) -> MutexGuard<'_, HashMap<String, Record>> {
        // Every operation leaves the map consistent, so a poisoned lock
        // (a panic elsewhere while it was held) is safe to keep using.
        self.sessions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl SessionStore for MemoryStore {
    fn load<'a>(&'a self, cookie_value: &'a str) -> StoreFuture<'a, Option<Record>> {
        let mut map = self.map();
        let found = match map.get(cookie_value) {
            Some(record) if record.is_expired() => {
                map.remove(cookie_value);
                None
            }
            other => other.cloned(),
        };
        Box::pin(std::future::ready(Ok(found)))
    }

    fn save<'a>(&'a self, record: &'a Record) -> StoreFuture<'a, String> {
        let key = record.id.as_str().to_owned();
        self.map().insert(key.clone(), record.clone());
        Box::pin(std::future::ready(Ok(key)))
    }

    fn update<'a>(&'a self, record: &'a Record) -> StoreFuture<'a, Option<String>> {
        let key = record.id.as_str();
        let updated = self.map().get_mut(key).map(|stored| {
            *stored = record.clone();
            key.to_owned()
        });
        Box::pin(std::future::ready(Ok(updated)))
    }

    fn delete<'a>(&'a self, cookie_value: &'a str) -> StoreFuture<'a, ()> {
        self.map().remove(cookie_value);
        Box::pin(std::future::ready(Ok(())))
    }

    fn clear_expired(&self) -> StoreFuture<'_, usize> {
        let now = SystemTime::now();
        let mut map = self.map();
        let before = map.len();
        map.retain(|_, record| !record.is_expired_at(now));
        let cleared = before - map.len();
        Box::pin(std::future::ready(Ok(cleared)))
    }
}
