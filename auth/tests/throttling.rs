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
    lock_after: Some(5),
    lock_for: Duration::from_secs(600),
    window: Duration::from_secs(900),
};

/// Limits that never get in the way, to watch one kind of key alone.
const LOOSE: Limits = Limits {
    free_failures: 1_000,
    lock_after: None,
    ..LIMITS
};

fn addr(last: u8) -> Option<IpAddr> {
    Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, last)))
}

#[tokio::test]
async fn failures_from_one_address_slow_down_then_lock_then_unlock() {
    let clock = ManualClock::new();
    let throttle = MemoryThrottle::new()
        .with_pair_limits(LIMITS)
        .with_username_limits(LOOSE)
        .with_clock(clock.reader());
    let backend = backend();
    backend.add_user("ada", PASSWORD).unwrap();
    let auth = auth(backend).with_throttle(throttle.clone());
    let wrong = Credentials::password("ada", "wrong");
    let right = Credentials::password("ada", PASSWORD);

    // Two free failures, then each failure needs a growing wait.
    for _ in 0..3 {
        assert!(matches!(
            auth.authenticate(&wrong, addr(1)).await,
            Err(Error::InvalidCredentials)
        ));
    }
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
    // Fifth failure locks this address out of the account for 10 minutes.
    assert!(matches!(
        auth.authenticate(&wrong, addr(1)).await,
        Err(Error::InvalidCredentials)
    ));
    let key = ThrottleKey::Pair("ada".into(), addr(1).unwrap());
    assert_eq!(throttle.failures(&key), 5);
    clock.advance(Duration::from_secs(60));
    let locked = auth.authenticate(&right, addr(1)).await;
    assert!(
        matches!(
            locked,
            Err(Error::Throttled {
                retry_after_secs: 540
            })
        ),
        "{locked:?}"
    );
    // From anywhere else the right password works: nobody can lock an
    // account for everyone.
    assert_eq!(
        auth.authenticate(&right, addr(3)).await.unwrap().username,
        "ada"
    );
    // The lock ends; the right password works and clears the count.
    clock.advance(Duration::from_secs(540));
    assert_eq!(
        auth.authenticate(&right, addr(1)).await.unwrap().username,
        "ada"
    );
    assert_eq!(throttle.failures(&key), 0);
}

#[tokio::test]
async fn a_burst_of_bad_passwords_slows_the_account_down_but_never_locks_it() {
    let clock = ManualClock::new();
    let throttle = MemoryThrottle::new().with_clock(clock.reader());
    let backend = backend();
    backend.add_user("ada", PASSWORD).unwrap();
    let auth = auth(backend).with_throttle(throttle.clone());
    let wrong = Credentials::password("ada", "wrong");
    // An attacker spreads 200 attempts over many addresses and an hour.
    for n in 0..200u32 {
        let _ = auth.authenticate(&wrong, addr((n % 50) as u8 + 10)).await;
        clock.advance(Duration::from_secs(18));
    }
    // The owner waits out the per-username delay (at most 15 s) and signs in.
    clock.advance(Limits::USERNAME.max_delay);
    let right = Credentials::password("ada", PASSWORD);
    assert_eq!(
        auth.authenticate(&right, addr(1)).await.unwrap().username,
        "ada"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_attempts_are_counted_before_any_password_is_checked() {
    let throttle = MemoryThrottle::new();
    let backend = backend();
    backend.add_user("ada", PASSWORD).unwrap();
    let auth = auth(backend).with_throttle(throttle.clone());
    let attempts: Vec<_> = (0..40)
        .map(|_| {
            let auth = auth.clone();
            tokio::spawn(async move {
                auth.authenticate(&Credentials::password("ada", "wrong"), addr(1))
                    .await
            })
        })
        .collect();
    let mut results = Vec::new();
    for attempt in attempts {
        results.push(attempt.await.unwrap());
    }
    let checked = results
        .iter()
        .filter(|r| matches!(r, Err(Error::InvalidCredentials)))
        .count();
    // Three free failures and one after no delay, from one address.
    assert_eq!(checked, 4, "{results:?}");
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
            lock_after: Some(3),
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
    // A success does not clear the address's failures, nor count as one.
    assert_eq!(
        throttle.failures(&ThrottleKey::Address(addr(9).unwrap())),
        3
    );
    assert_eq!(
        throttle.failures(&ThrottleKey::Address(addr(10).unwrap())),
        0
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
