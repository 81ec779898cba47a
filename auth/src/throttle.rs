//! Login throttling: each attempt is reserved before the password is
//! checked, so parallel attempts count one after another; failures per
//! username slow sign-in down, and failures per (username, client
//! address) and per address also lock it for a while.
//!
//! "Slow down" never sleeps: after a few failures, attempts made before a
//! growing delay has passed are refused at once with the time to wait
//! (HTTP 429 with `Retry-After`), without checking the password. A
//! username is never locked for everyone: a burst of bad passwords from
//! one address locks that address out of that account only, and slows the
//! account down elsewhere.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use crate::backend::BackendFuture;

/// The figures for one kind of key (usernames, a username from one
/// address, or addresses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Failures allowed before any delay.
    pub free_failures: u32,
    /// The delay after the first failure past the free ones; it doubles
    /// with each further failure.
    pub base_delay: Duration,
    /// The longest delay.
    pub max_delay: Duration,
    /// Failures (within `window`) after which the key is locked; `None`
    /// never locks (only slows down).
    pub lock_after: Option<u32>,
    /// How long a lock lasts.
    pub lock_for: Duration,
    /// Failures are forgotten after this long without a new one.
    pub window: Duration,
}

impl Limits {
    /// Per username, from every address: 5 free failures, then 1 s
    /// doubling up to 15 s; never locked, so nobody can lock anyone out.
    pub const USERNAME: Limits = Limits {
        free_failures: 5,
        base_delay: Duration::from_secs(1),
        max_delay: Duration::from_secs(15),
        lock_after: None,
        lock_for: Duration::ZERO,
        window: Duration::from_secs(15 * 60),
    };

    /// Per username from one client address: 3 free failures, then 1 s
    /// doubling up to 30 s; locked for 15 minutes at 10 failures.
    pub const PAIR: Limits = Limits {
        free_failures: 3,
        base_delay: Duration::from_secs(1),
        max_delay: Duration::from_secs(30),
        lock_after: Some(10),
        lock_for: Duration::from_secs(15 * 60),
        window: Duration::from_secs(15 * 60),
    };

    /// Per client address (many people may share one): 20 free failures,
    /// then 1 s doubling up to 30 s; locked for 15 minutes at 100 failures.
    pub const ADDRESS: Limits = Limits {
        free_failures: 20,
        base_delay: Duration::from_secs(1),
        max_delay: Duration::from_secs(30),
        lock_after: Some(100),
        lock_for: Duration::from_secs(15 * 60),
        window: Duration::from_secs(15 * 60),
    };
}

/// What a throttle keys failures by.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ThrottleKey {
    /// A username (lowercased), from any address.
    Username(String),
    /// A username (lowercased) from one client address.
    Pair(String, IpAddr),
    /// A client address.
    Address(IpAddr),
}

/// Counts sign-in attempts and says when to refuse them. Async so a
/// database or Redis implementation (shared by every app server) can sit
/// behind it; [`MemoryThrottle`] keeps counts in this process.
///
/// [`reserve`](LoginThrottle::reserve) must check and count in one atomic
/// step: the check for the next attempt sees this one, however many run
/// in parallel.
pub trait LoginThrottle: Send + Sync + 'static {
    /// Reserves an attempt for this username from this address: `None`
    /// when it may proceed (it is counted as a failure until
    /// [`record_success`](LoginThrottle::record_success) says otherwise),
    /// else how long to wait (and nothing is counted).
    fn reserve<'a>(
        &'a self,
        username: &'a str,
        address: Option<IpAddr>,
    ) -> BackendFuture<'a, Option<Duration>>;

    /// The reserved attempt succeeded: the username's failures (from
    /// everywhere, and from this address) are forgotten, and the address
    /// is not charged for it (its earlier failures stay, so one valid
    /// account cannot reset them).
    fn record_success<'a>(
        &'a self,
        username: &'a str,
        address: Option<IpAddr>,
    ) -> BackendFuture<'a, ()>;
}

/// A throttle that never refuses.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoThrottle;

impl LoginThrottle for NoThrottle {
    fn reserve<'a>(&'a self, _: &'a str, _: Option<IpAddr>) -> BackendFuture<'a, Option<Duration>> {
        Box::pin(std::future::ready(Ok(None)))
    }
    fn record_success<'a>(&'a self, _: &'a str, _: Option<IpAddr>) -> BackendFuture<'a, ()> {
        Box::pin(std::future::ready(Ok(())))
    }
}

/// The failures counted for one key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) failures: u32,
    pub(crate) last_failure: SystemTime,
    pub(crate) locked_until: Option<SystemTime>,
}

pub(crate) type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// The three figures a throttle applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AllLimits {
    pub(crate) username: Limits,
    pub(crate) pair: Limits,
    pub(crate) address: Limits,
}

impl AllLimits {
    pub(crate) const DEFAULT: AllLimits = AllLimits {
        username: Limits::USERNAME,
        pair: Limits::PAIR,
        address: Limits::ADDRESS,
    };

    /// The keys an attempt counts on, with their figures.
    pub(crate) fn keys(
        &self,
        username: &str,
        address: Option<IpAddr>,
    ) -> Vec<(ThrottleKey, Limits)> {
        let username = username.to_lowercase();
        let mut keys = Vec::with_capacity(3);
        if let Some(address) = address {
            keys.push((ThrottleKey::Pair(username.clone(), address), self.pair));
            keys.push((ThrottleKey::Address(address), self.address));
        }
        keys.push((ThrottleKey::Username(username), self.username));
        keys
    }

    /// How long after its last failure an entry still matters.
    pub(crate) fn longest(&self) -> Duration {
        [self.username, self.pair, self.address]
            .iter()
            .map(|limits| limits.window.max(limits.lock_for))
            .max()
            .unwrap_or_default()
    }
}

/// How long an attempt on a key with `entry` must wait at `now`, and the
/// entry to keep (`None`: it is stale, forget it).
pub(crate) fn wait(
    entry: Option<Entry>,
    limits: &Limits,
    now: SystemTime,
) -> (Option<Duration>, Option<Entry>) {
    let Some(entry) = entry else {
        return (None, None);
    };
    if let Some(until) = entry.locked_until {
        return match until.duration_since(now) {
            Ok(left) if !left.is_zero() => (Some(left), Some(entry)),
            _ => (None, None),
        };
    }
    let since = now.duration_since(entry.last_failure).unwrap_or_default();
    if since >= limits.window {
        return (None, None);
    }
    let left = delay_after(entry.failures, limits)
        .and_then(|delay| delay.checked_sub(since))
        .filter(|left| !left.is_zero());
    (left, Some(entry))
}

/// `entry` with one more failure at `now` (locked when that reaches the
/// limit).
pub(crate) fn counted(entry: Option<Entry>, limits: &Limits, now: SystemTime) -> Entry {
    let mut entry = entry.unwrap_or(Entry {
        failures: 0,
        last_failure: now,
        locked_until: None,
    });
    entry.failures = entry.failures.saturating_add(1);
    entry.last_failure = now;
    if limits.lock_after.is_some_and(|at| entry.failures >= at) {
        entry.locked_until = Some(now + limits.lock_for);
    }
    entry
}

/// What a key keeps after the reserved attempt succeeded: an address is
/// not charged for it (a lock this very attempt set goes with it); the
/// username's entries are forgotten.
pub(crate) fn succeeded(key: &ThrottleKey, entry: Option<Entry>, limits: &Limits) -> Option<Entry> {
    match key {
        ThrottleKey::Address(_) => entry.map(|mut entry| {
            entry.failures = entry.failures.saturating_sub(1);
            if limits.lock_after.is_none_or(|at| entry.failures < at) {
                entry.locked_until = None;
            }
            entry
        }),
        _ => None,
    }
}

/// The builders both throttles share: the three figures and the clock
/// (each throttle has `limits: AllLimits` and `clock: Clock` fields).
macro_rules! throttle_builders {
    () => {
        /// Sets the figures per username (from every address).
        pub fn with_username_limits(mut self, limits: Limits) -> Self {
            self.limits.username = limits;
            self
        }

        /// Sets the figures per username from one address.
        pub fn with_pair_limits(mut self, limits: Limits) -> Self {
            self.limits.pair = limits;
            self
        }

        /// Sets the figures per client address.
        pub fn with_address_limits(mut self, limits: Limits) -> Self {
            self.limits.address = limits;
            self
        }

        /// Reads the time from `clock` (tests move it by hand instead of sleeping).
        pub fn with_clock(
            mut self,
            clock: impl Fn() -> SystemTime + Send + Sync + 'static,
        ) -> Self {
            self.clock = Arc::new(clock);
            self
        }
    };
}
#[cfg(feature = "orm")]
pub(crate) use throttle_builders;

/// Counts failures in memory, in this process only. Clones share counts.
#[derive(Clone)]
pub struct MemoryThrottle {
    limits: AllLimits,
    clock: Clock,
    entries: Arc<Mutex<HashMap<ThrottleKey, Entry>>>,
}

impl fmt::Debug for MemoryThrottle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryThrottle")
            .field("limits", &self.limits)
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
    /// A throttle with [`Limits::USERNAME`], [`Limits::PAIR`] and
    /// [`Limits::ADDRESS`].
    pub fn new() -> Self {
        MemoryThrottle {
            limits: AllLimits::DEFAULT,
            clock: Arc::new(SystemTime::now),
            entries: Arc::default(),
        }
    }

    throttle_builders!();

    fn entries(&self) -> MutexGuard<'_, HashMap<ThrottleKey, Entry>> {
        // Every operation leaves the map consistent: a poisoned lock is fine.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The failures counted for a key (for tests and admin pages).
    pub fn failures(&self, key: &ThrottleKey) -> u32 {
        self.entries().get(key).map_or(0, |entry| entry.failures)
    }

    /// Checks every key and, when none must wait, counts the attempt on
    /// each: under one lock, so parallel attempts are counted in turn.
    fn reserve_now(&self, username: &str, address: Option<IpAddr>) -> Option<Duration> {
        let now = (self.clock)();
        let keys = self.limits.keys(username, address);
        let mut entries = self.entries();
        if entries.len() >= SWEEP_AT {
            let longest = self.limits.longest();
            entries.retain(|_, entry| {
                now.duration_since(entry.last_failure).unwrap_or_default() < longest
            });
        }
        let mut longest_wait = None;
        for (key, limits) in &keys {
            let (left, keep) = wait(entries.get(key).copied(), limits, now);
            if keep.is_none() {
                entries.remove(key);
            }
            longest_wait = longest_wait.max(left);
        }
        if longest_wait.is_some() {
            return longest_wait;
        }
        for (key, limits) in keys {
            let entry = counted(entries.get(&key).copied(), &limits, now);
            entries.insert(key, entry);
        }
        None
    }

    fn succeed_now(&self, username: &str, address: Option<IpAddr>) {
        let mut entries = self.entries();
        for (key, limits) in self.limits.keys(username, address) {
            match succeeded(&key, entries.get(&key).copied(), &limits) {
                Some(entry) => entries.insert(key, entry),
                None => entries.remove(&key),
            };
        }
    }
}

/// The delay after `failures` failures, `None` while they are free.
pub(crate) fn delay_after(failures: u32, limits: &Limits) -> Option<Duration> {
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
    fn reserve<'a>(
        &'a self,
        username: &'a str,
        address: Option<IpAddr>,
    ) -> BackendFuture<'a, Option<Duration>> {
        Box::pin(std::future::ready(Ok(self.reserve_now(username, address))))
    }

    fn record_success<'a>(
        &'a self,
        username: &'a str,
        address: Option<IpAddr>,
    ) -> BackendFuture<'a, ()> {
        self.succeed_now(username, address);
        Box::pin(std::future::ready(Ok(())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_then_cap() {
        let limits = Limits::PAIR;
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
