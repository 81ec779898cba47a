//! Groups of connections, and the channel layers that carry broadcasts
//! between processes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

use crate::{Connection, Error, Message};

/// Called by a channel layer for every message published to it, from any
/// process: `(group, message)`.
pub type Deliver = Arc<dyn Fn(&str, &Message) + Send + Sync>;

/// Carries group broadcasts to every process that shares the layer.
///
/// A layer only moves `(group, message)` pairs around; which connections
/// belong to a group is kept by each process's [`Groups`]. Implement it for a
/// new backend (Redis, NATS) with two methods.
pub trait ChannelLayer: Send + Sync + 'static {
    /// Publishes `message` to `group` on every subscriber of the layer,
    /// this process included.
    fn publish(&self, group: &str, message: &Message) -> Result<(), Error>;

    /// Registers `deliver`, called for every message published on the layer
    /// by any instance.
    fn subscribe(&self, deliver: Deliver) -> Result<(), Error>;

    /// Waits, for at most `timeout`, until every broadcast published so far
    /// has left this process (a server shutting down calls it last). A
    /// layer that publishes synchronously has nothing to wait for.
    fn flush(&self, timeout: Duration) -> Result<(), Error> {
        let _ = timeout;
        Ok(())
    }
}

/// The in-process channel layer: a broadcast reaches the connections of this
/// process only. Clones share their subscribers.
#[derive(Clone, Default)]
pub struct InMemoryLayer {
    subscribers: Arc<Subscribers>,
}

/// The subscribers of a layer instance.
#[derive(Default)]
pub(crate) struct Subscribers(Mutex<Vec<Deliver>>);

impl Subscribers {
    pub(crate) fn add(&self, deliver: Deliver) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(deliver);
    }

    /// Calls every subscriber (on a copy of the list, so a subscriber may
    /// subscribe again without deadlock).
    pub(crate) fn deliver(&self, group: &str, message: &Message) {
        let subscribers = self.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        for deliver in subscribers {
            deliver(group, message);
        }
    }
}

impl InMemoryLayer {
    /// A layer with no subscribers yet.
    pub fn new() -> Self {
        InMemoryLayer::default()
    }
}

impl std::fmt::Debug for InMemoryLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InMemoryLayer").finish_non_exhaustive()
    }
}

impl ChannelLayer for InMemoryLayer {
    fn publish(&self, group: &str, message: &Message) -> Result<(), Error> {
        validate_group(group)?;
        self.subscribers.deliver(group, message);
        Ok(())
    }

    fn subscribe(&self, deliver: Deliver) -> Result<(), Error> {
        self.subscribers.add(deliver);
        Ok(())
    }
}

/// Named groups of connections, Django Channels style: join a connection to
/// `"article-42"`, then broadcast to the group from any handler, task or
/// thread. Clones share the same groups.
///
/// Broadcasts go through the [`ChannelLayer`], so with
/// `PostgresLayer` (feature `postgres`) or `RedisLayer` (feature `redis`)
/// they reach the clients of every app server. Connections leave their groups by themselves when they close.
#[derive(Clone)]
pub struct Groups {
    inner: Arc<GroupsInner>,
}

struct GroupsInner {
    layer: Box<dyn ChannelLayer>,
    members: RwLock<HashMap<String, HashMap<u64, Connection>>>,
}

impl std::fmt::Debug for Groups {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let members = self.inner.members.read().unwrap_or_else(|p| p.into_inner());
        f.debug_struct("Groups")
            .field("groups", &members.len())
            .finish_non_exhaustive()
    }
}

impl Default for Groups {
    fn default() -> Self {
        Groups::in_memory()
    }
}

impl Groups {
    /// Groups whose broadcasts travel through `layer`.
    pub fn new(layer: impl ChannelLayer) -> Result<Self, Error> {
        let inner = Arc::new(GroupsInner {
            layer: Box::new(layer),
            members: RwLock::default(),
        });
        let weak: Weak<GroupsInner> = Arc::downgrade(&inner);
        inner
            .layer
            .subscribe(Arc::new(move |group: &str, message: &Message| {
                if let Some(inner) = weak.upgrade() {
                    inner.deliver_local(group, message);
                }
            }))?;
        Ok(Groups { inner })
    }

    /// Groups for a single process, on an [`InMemoryLayer`].
    pub fn in_memory() -> Self {
        // Subscribing to an in-memory layer cannot fail.
        Groups::new(InMemoryLayer::new()).unwrap_or_else(|_| unreachable!())
    }

    /// Adds `connection` to `group` (it leaves by itself when it closes).
    pub fn join(&self, group: &str, connection: &Connection) -> Result<(), Error> {
        validate_group(group)?;
        let inserted = self
            .inner
            .write()
            .entry(group.to_owned())
            .or_default()
            .insert(connection.id(), connection.clone())
            .is_none();
        if inserted {
            let weak = Arc::downgrade(&self.inner);
            let group = group.to_owned();
            connection.on_close(Box::new(move |id| {
                if let Some(inner) = weak.upgrade() {
                    inner.remove(&group, id);
                }
            }));
        }
        Ok(())
    }

    /// Removes `connection` from `group`.
    pub fn leave(&self, group: &str, connection: &Connection) {
        self.inner.remove(group, connection.id());
    }

    /// Sends `message` to every connection in `group`, on every process
    /// sharing the channel layer. Slow members are disconnected (1008)
    /// rather than slowing the others.
    pub fn broadcast(&self, group: &str, message: impl Into<Message>) -> Result<(), Error> {
        self.inner.layer.publish(group, &message.into())
    }

    /// Broadcasts `value` as a JSON text message.
    pub fn broadcast_json<T: serde::Serialize + ?Sized>(
        &self,
        group: &str,
        value: &T,
    ) -> Result<(), Error> {
        self.broadcast(group, Message::json(value)?)
    }

    /// Waits, for at most `timeout`, until the broadcasts made so far have
    /// left this process for the channel layer's server: call it when
    /// shutting down, after the last request.
    pub fn flush(&self, timeout: Duration) -> Result<(), Error> {
        self.inner.layer.flush(timeout)
    }

    /// How many connections of this process are in `group`.
    pub fn local_len(&self, group: &str) -> usize {
        self.inner
            .members
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(group)
            .map_or(0, HashMap::len)
    }
}

impl GroupsInner {
    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, HashMap<u64, Connection>>> {
        // Each map operation completes or does not happen: a poisoned lock holds a consistent map.
        self.members.write().unwrap_or_else(|p| p.into_inner())
    }

    fn remove(&self, group: &str, id: u64) {
        let mut members = self.write();
        if let Some(connections) = members.get_mut(group) {
            connections.remove(&id);
            if connections.is_empty() {
                members.remove(group);
            }
        }
    }

    fn deliver_local(&self, group: &str, message: &Message) {
        let members = self.members.read().unwrap_or_else(|p| p.into_inner());
        if let Some(connections) = members.get(group) {
            for connection in connections.values() {
                // A closed or too slow connection is dropped from the group by
                // its close callback; the others still get the message.
                let _ = connection.send(message.clone());
            }
        }
    }
}

/// Group names: non-empty, at most 200 bytes, no control characters.
pub(crate) fn validate_group(group: &str) -> Result<(), Error> {
    let reason = if group.is_empty() {
        "a group name cannot be empty"
    } else if group.len() > 200 {
        "a group name is at most 200 bytes"
    } else if group.chars().any(char::is_control) {
        "a group name cannot contain control characters"
    } else {
        return Ok(());
    };
    Err(Error::InvalidName {
        name: group.to_owned(),
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcast_reaches_members_only_and_closed_ones_leave() {
        let groups = Groups::in_memory();
        let (a, b, c) = (
            Connection::new(8, None),
            Connection::new(8, None),
            Connection::new(8, None),
        );
        groups.join("article-1", &a).unwrap();
        groups.join("article-1", &b).unwrap();
        groups.join("article-2", &c).unwrap();
        groups.broadcast("article-1", "hello").unwrap();
        let waker = std::task::Waker::noop();
        assert_eq!(a.take(waker, true).messages.len(), 1);
        assert_eq!(b.take(waker, true).messages.len(), 1);
        assert!(c.take(waker, true).messages.is_empty());

        b.finish();
        assert_eq!(groups.local_len("article-1"), 1);
        groups.leave("article-1", &a);
        assert_eq!(groups.local_len("article-1"), 0);
    }

    #[test]
    fn bad_group_names_are_refused() {
        let groups = Groups::in_memory();
        for name in ["", "a\nb", &"x".repeat(201)] {
            assert!(
                matches!(groups.broadcast(name, "x"), Err(Error::InvalidName { .. })),
                "{name:?}"
            );
        }
    }
}
