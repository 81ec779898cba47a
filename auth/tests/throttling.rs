//! Login throttling with an injected clock: slow down, lock, unlock.

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use common::{ManualClock, PASSWORD, auth, backend};
use tack_auth::throttle::{Limits, ThrottleKey};
use tack_auth::{Credentials, Error, MemoryThrottle};

const LIMITS: Limits = Limits {
    free_failures: 2,
    base_delay: Duration::from_secs(1),
    max_delay: Duration::from_secs(4),
    lock_after: 5,
    lock_for: Duration::from_secs(600),
    window: Duration::from_secs(900),
};

fn addr(last: u8) -> Option<IpAddr> {
    Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, last)))
}

#[tokio::test]
async fn failures_slow_down_then_lock_then_unlock() {
    let clock = ManualClock::new();
    let throttle = MemoryThrottle::new()
        .with_username_limits(LIMITS)
        .with_clock(clock.reader());
    let backend = backend();
    backend.add_user("ada", PASSWORD).unwrap();
    let auth = auth(backend).with_throttle(throttle.clone());
    let wrong = Credentials::password("ada", "wrong");
    let right = Credentials::password("ada", PASSWORD);

    // Two free failures, then each failure needs a growing wait.
    for _ in 0..2 {
        assert!(matches!(
            auth.authenticate(&wrong, addr(1)).await,
            Err(Error::InvalidCredentials)
        ));
    }
    assert!(matches!(
        auth.authenticate(&wrong, addr(1)).await,
        Err(Error::InvalidCredentials)
    ));
    // Third failure: 1 s delay. An immediate attempt (even with the right
    // password) is refused without checking it.
    let refused = auth.authenticate(&right, addr(1)).await;
    assert!(
        matches!(
            refused,
            Err(Error::Throttled {
                retry_after_secs: 1
            })
        ),
        "{refused:?}"
    );
    clock.advance(Duration::from_secs(1));
    assert!(matches!(
        auth.authenticate(&wrong, addr(1)).await,
        Err(Error::InvalidCredentials)
    ));
    // Fourth failure: 2 s.
    assert!(matches!(
        auth.authenticate(&wrong, addr(1)).await,
        Err(Error::Throttled {
            retry_after_secs: 2
        })
    ));
    clock.advance(Duration::from_secs(2));
    // Fifth failure locks for 10 minutes, whatever the address.
    assert!(matches!(
        auth.authenticate(&wrong, addr(2)).await,
        Err(Error::InvalidCredentials)
    ));
    assert_eq!(throttle.failures(&ThrottleKey::Username("ada".into())), 5);
    clock.advance(Duration::from_secs(60));
    let locked = auth.authenticate(&right, addr(3)).await;
    assert!(
        matches!(
            locked,
            Err(Error::Throttled {
                retry_after_secs: 540
            })
        ),
        "{locked:?}"
    );
    // Other usernames are not affected.
    assert!(matches!(
        auth.authenticate(&Credentials::password("bob", "x"), addr(3))
            .await,
        Err(Error::InvalidCredentials)
    ));
    // The lock ends; the right password works and clears the count.
    clock.advance(Duration::from_secs(540));
    assert_eq!(
        auth.authenticate(&right, addr(3)).await.unwrap().username,
        "ada"
    );
    assert_eq!(throttle.failures(&ThrottleKey::Username("ada".into())), 0);
}

#[tokio::test]
async fn usernames_are_throttled_case_insensitively_and_failures_age_out() {
    let clock = ManualClock::new();
    let throttle = MemoryThrottle::new()
        .with_username_limits(LIMITS)
        .with_clock(clock.reader());
    let auth = auth(backend()).with_throttle(throttle.clone());
    for name in ["Eve", "eve", "EVE"] {
        let _ = auth
            .authenticate(&Credentials::password(name, "x"), None)
            .await;
    }
    assert_eq!(throttle.failures(&ThrottleKey::Username("eve".into())), 3);
    clock.advance(LIMITS.window);
    let _ = auth
        .authenticate(&Credentials::password("eve", "x"), None)
        .await;
    assert_eq!(throttle.failures(&ThrottleKey::Username("eve".into())), 1);
}

#[tokio::test]
async fn one_address_trying_many_usernames_is_locked() {
    let clock = ManualClock::new();
    let throttle = MemoryThrottle::new()
        .with_address_limits(Limits {
            lock_after: 3,
            ..LIMITS
        })
        .with_clock(clock.reader());
    let backend = backend();
    backend.add_user("ada", PASSWORD).unwrap();
    let auth = auth(backend).with_throttle(throttle.clone());
    for name in ["a", "b", "c"] {
        let _ = auth
            .authenticate(&Credentials::password(name, "x"), addr(9))
            .await;
    }
    let locked = auth
        .authenticate(&Credentials::password("ada", PASSWORD), addr(9))
        .await;
    assert!(matches!(locked, Err(Error::Throttled { .. })));
    let elsewhere = auth
        .authenticate(&Credentials::password("ada", PASSWORD), addr(10))
        .await;
    assert!(elsewhere.is_ok());
    // A success does not clear the address's failures.
    assert_eq!(
        throttle.failures(&ThrottleKey::Address(addr(9).unwrap())),
        3
    );
}

#[test]
fn throttled_errors_answer_429_with_retry_after() {
    use tack_http::IntoResponse;
    let response = Error::Throttled {
        retry_after_secs: 30,
    }
    .into_response();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "30");
}
