//! Login throttling: failures per username and per client address first
//! slow sign-in down, then lock it for a while.
//!
//! "Slow down" never sleeps: after a few failures, attempts made before a
//! growing delay has passed are refused at once with the time to wait
//! (HTTP 429 with `Retry-After`), without checking the password.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use crate::backend::BackendFuture;

/// The figures for one kind of key (usernames, or client addresses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Failures allowed before any delay.
    pub free_failures: u32,
    /// The delay after the first failure past the free ones; it doubles
    /// with each further failure.
    pub base_delay: Duration,
    /// The longest delay.
    pub max_delay: Duration,
    /// Failures (within `window`) after which the key is locked.
    pub lock_after: u32,
    /// How long a lock lasts.
    pub lock_for: Duration,
    /// Failures are forgotten after this long without a new one.
    pub window: Duration,
}

impl Limits {
    /// Per username: 3 free failures, then 1 s doubling up to 30 s; locked
    /// for 15 minutes at 10 failures.
    pub const USERNAME: Limits = Limits {
        free_failures: 3,
        base_delay: Duration::from_secs(1),
        max_delay: Duration::from_secs(30),
        lock_after: 10,
        lock_for: Duration::from_secs(15 * 60),
        window: Duration::from_secs(15 * 60),
    };

    /// Per client address (many people may share one): 20 free failures,
    /// then 1 s doubling up to 30 s; locked for 15 minutes at 100 failures.
    pub const ADDRESS: Limits = Limits {
        free_failures: 20,
        base_delay: Duration::from_secs(1),
        max_delay: Duration::from_secs(30),
        lock_after: 100,
        lock_for: Duration::from_secs(15 * 60),
        window: Duration::from_secs(15 * 60),
    };
}

/// What a throttle keys failures by.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ThrottleKey {
    /// A username (lowercased).
    Username(String),
    /// A client address.
    Address(IpAddr),
}

/// Counts sign-in failures and says when to refuse attempts. Async so a
/// database or Redis implementation (shared by every app server) can come
/// later; [`MemoryThrottle`] keeps counts in this process.
pub trait LoginThrottle: Send + Sync + 'static {
    /// `None` when an attempt for this username from this address may
    /// proceed, else how long to wait.
    fn check<'a>(
        &'a self,
        username: &'a str,
        address: Option<IpAddr>,
    ) -> BackendFuture<'a, Option<Duration>>;

    /// Records a failed attempt.
    fn record_failure<'a>(
        &'a self,
        username: &'a str,
        address: Option<IpAddr>,
    ) -> BackendFuture<'a, ()>;

    /// Records a successful sign-in: the username's failures are forgotten
    /// (the address's are not, so one valid account cannot reset them).
    fn record_success<'a>(&'a self, username: &'a str) -> BackendFuture<'a, ()>;
}

/// A throttle that never refuses.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoThrottle;

impl LoginThrottle for NoThrottle {
    fn check<'a>(&'a self, _: &'a str, _: Option<IpAddr>) -> BackendFuture<'a, Option<Duration>> {
        Box::pin(std::future::ready(Ok(None)))
    }
    fn record_failure<'a>(&'a self, _: &'a str, _: Option<IpAddr>) -> BackendFuture<'a, ()> {
        Box::pin(std::future::ready(Ok(())))
    }
    fn record_success<'a>(&'a self, _: &'a str) -> BackendFuture<'a, ()> {
        Box::pin(std::future::ready(Ok(())))
    }
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    failures: u32,
    last_failure: SystemTime,
    locked_until: Option<SystemTime>,
}

type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Counts failures in memory, in this process only. Clones share counts.
#[derive(Clone)]
pub struct MemoryThrottle {
    username: Limits,
    address: Limits,
    clock: Clock,
    entries: Arc<Mutex<HashMap<ThrottleKey, Entry>>>,
}

impl fmt::Debug for MemoryThrottle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryThrottle")
            .field("username", &self.username)
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl Default for MemoryThrottle {
    fn default() -> Self {
        MemoryThrottle::new()
    }
}

/// Entries kept before expired ones are swept.
const SWEEP_AT: usize = 10_000;

impl MemoryThrottle {
    /// A throttle with [`Limits::USERNAME`] and [`Limits::ADDRESS`].
    pub fn new() -> Self {
        MemoryThrottle {
            username: Limits::USERNAME,
            address: Limits::ADDRESS,
            clock: Arc::new(SystemTime::now),
            entries: Arc::default(),
        }
    }

    /// Sets the figures per username.
    pub fn with_username_limits(mut self, limits: Limits) -> Self {
        self.username = limits;
        self
    }

    /// Sets the figures per client address.
    pub fn with_address_limits(mut self, limits: Limits) -> Self {
        self.address = limits;
        self
    }

    /// Reads the time from `clock` (tests move it by hand instead of sleeping).
    pub fn with_clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    fn entries(&self) -> MutexGuard<'_, HashMap<ThrottleKey, Entry>> {
        // Every operation leaves the map consistent: a poisoned lock is fine.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn keys(&self, username: &str, address: Option<IpAddr>) -> Vec<(ThrottleKey, Limits)> {
        let mut keys = vec![(
            ThrottleKey::Username(username.to_lowercase()),
            self.username,
        )];
        if let Some(address) = address {
            keys.push((ThrottleKey::Address(address), self.address));
        }
        keys
    }

    /// How long `key` must wait at `now`, forgetting stale entries.
    fn wait(
        entries: &mut HashMap<ThrottleKey, Entry>,
        key: &ThrottleKey,
        limits: &Limits,
        now: SystemTime,
    ) -> Option<Duration> {
        let entry = *entries.get(key)?;
        if let Some(until) = entry.locked_until {
            if let Ok(left) = until.duration_since(now)
                && !left.is_zero()
            {
                return Some(left);
            }
            entries.remove(key);
            return None;
        }
        let since = now.duration_since(entry.last_failure).unwrap_or_default();
        if since >= limits.window {
            entries.remove(key);
            return None;
        }
        let delay = delay_after(entry.failures, limits)?;
        delay.checked_sub(since).filter(|left| !left.is_zero())
    }

    /// The failures counted for a key (for tests and admin pages).
    pub fn failures(&self, key: &ThrottleKey) -> u32 {
        self.entries().get(key).map_or(0, |entry| entry.failures)
    }

    fn check_now(&self, username: &str, address: Option<IpAddr>) -> Option<Duration> {
        let now = (self.clock)();
        let mut entries = self.entries();
        self.keys(username, address)
            .iter()
            .filter_map(|(key, limits)| Self::wait(&mut entries, key, limits, now))
            .max()
    }

    fn fail_now(&self, username: &str, address: Option<IpAddr>) {
        let now = (self.clock)();
        let mut entries = self.entries();
        if entries.len() >= SWEEP_AT {
            let longest = self
                .username
                .window
                .max(self.username.lock_for)
                .max(self.address.window)
                .max(self.address.lock_for);
            entries.retain(|_, entry| {
                now.duration_since(entry.last_failure).unwrap_or_default() < longest
            });
        }
        for (key, limits) in self.keys(username, address) {
            // Forget what is stale (an expired lock, an old window) first.
            Self::wait(&mut entries, &key, &limits, now);
            let entry = entries.entry(key).or_insert(Entry {
                failures: 0,
                last_failure: now,
                locked_until: None,
            });
            entry.failures = entry.failures.saturating_add(1);
            entry.last_failure = now;
            if entry.failures >= limits.lock_after {
                entry.locked_until = Some(now + limits.lock_for);
            }
        }
    }
}

/// The delay after `failures` failures, `None` while they are free.
fn delay_after(failures: u32, limits: &Limits) -> Option<Duration> {
    let extra = failures
        .checked_sub(limits.free_failures)
        .filter(|extra| *extra > 0)?;
    let doublings = (extra - 1).min(20);
    Some(
        limits
            .base_delay
            .saturating_mul(1 << doublings)
            .min(limits.max_delay),
    )
}

impl LoginThrottle for MemoryThrottle {
    fn check<'a>(
        &'a self,
        username: &'a str,
        address: Option<IpAddr>,
    ) -> BackendFuture<'a, Option<Duration>> {
        Box::pin(std::future::ready(Ok(self.check_now(username, address))))
    }

    fn record_failure<'a>(
        &'a self,
        username: &'a str,
        address: Option<IpAddr>,
    ) -> BackendFuture<'a, ()> {
        self.fail_now(username, address);
        Box::pin(std::future::ready(Ok(())))
    }

    fn record_success<'a>(&'a self, username: &'a str) -> BackendFuture<'a, ()> {
        self.entries()
            .remove(&ThrottleKey::Username(username.to_lowercase()));
        Box::pin(std::future::ready(Ok(())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_then_cap() {
        let limits = Limits::USERNAME;
        let secs: Vec<Option<u64>> = (0..10)
            .map(|n| delay_after(n, &limits).map(|d| d.as_secs()))
            .collect();
        assert_eq!(
            secs,
            [
                None,
                None,
                None,
                None,
                Some(1),
                Some(2),
                Some(4),
                Some(8),
                Some(16),
                Some(30)
            ]
        );
    }
}
