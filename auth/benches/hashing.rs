//! What a password check and an API token check cost, against the raw
//! crates underneath: `cargo bench -p tack-auth --bench hashing`.

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use tack_auth::token::{MemoryTokenStore, TokenRecord, TokenStore, verify_token};
use tack_auth::{ApiToken, PasswordHasher};
use timing::time_pair;

mod timing;

fn report(what: &str, baseline: Duration, ours: Duration) {
    println!(
        "{what}: raw {baseline:?}, tack-auth {ours:?}, ratio {:.2}",
        ours.as_secs_f64() / baseline.as_secs_f64()
    );
}

fn main() {
    // Argon2id at OWASP's parameters (m=19456, t=2, p=1): raw crate vs ours
    // (ours parses the PHC string and also checks the parameters).
    let hasher = PasswordHasher::new();
    let phc = hasher.hash("correct horse battery staple").unwrap();
    let raw = argon2::Argon2::default();
    let parsed = PasswordHash::new(&phc).unwrap();
    let runs = 30;
    let (baseline, ours) = time_pair(
        runs,
        || black_box(raw.verify_password(b"correct horse battery staple", &parsed)).unwrap(),
        || assert!(black_box(hasher.verify("correct horse battery staple", &phc)).is_verified()),
    );
    report("verify a password (OWASP Argon2id)", baseline, ours);
    let (baseline, ours) = time_pair(
        runs,
        || {
            black_box(raw.hash_password(b"pw").unwrap());
        },
        || {
            black_box(hasher.hash("pw").unwrap());
        },
    );
    report("hash a password", baseline, ours);

    // An API token: one SHA-256 plus a map lookup, against the bare digest.
    let store = MemoryTokenStore::new();
    let token = ApiToken::generate();
    futures_executor::block_on(store.insert(TokenRecord::new("1", "bench", &token))).unwrap();
    let now = SystemTime::now();
    let runs = 100_000;
    let (baseline, ours) = time_pair(
        runs,
        || {
            black_box(tack_auth::token::TokenDigest::of(black_box(token.expose())));
        },
        || {
            black_box(
                futures_executor::block_on(verify_token(&store, token.expose(), now)).unwrap(),
            )
            .unwrap();
        },
    );
    report("verify an API token (SHA-256 + lookup)", baseline, ours);
}
