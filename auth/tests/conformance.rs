//! The trait conformance suites against the in-memory implementations.

mod common;

use std::time::Duration;

use common::conformance::{BackendFixture, backend_suite, throttle_suite, token_store_suite};
use common::{ManualClock, backend};
use tack_auth::throttle::Limits;
use tack_auth::{MemoryBackend, MemoryThrottle, MemoryTokenStore};

struct Memory(MemoryBackend);

impl BackendFixture for Memory {
    type Backend = MemoryBackend;
    fn backend(&self) -> &MemoryBackend {
        &self.0
    }
    fn add_user(&self, username: &str, password: &str) -> String {
        self.0.add_user(username, password).unwrap().id
    }
    fn deactivate(&self, id: &str) {
        self.0.update(id, |user| user.is_active = false).unwrap();
    }
}

#[tokio::test]
async fn memory_backend() {
    backend_suite(&Memory(backend())).await;
}

#[tokio::test]
async fn memory_token_store() {
    token_store_suite(&MemoryTokenStore::new(), ["u1", "u2", "u3"]).await;
}

#[tokio::test]
async fn memory_throttle() {
    let clock = ManualClock::new();
    let throttle = MemoryThrottle::new()
        .with_pair_limits(Limits {
            free_failures: 2,
            lock_after: Some(4),
            ..Limits::PAIR
        })
        .with_clock(clock.reader());
    throttle_suite(&throttle, |by: Duration| clock.advance(by)).await;
}
