//! Sessions kept in the cookie itself, signed.

use std::time::SystemTime;

use crate::Error;
use crate::signing::{SecretKey, TimestampSigner};
use crate::store::{Record, SessionStore, StoreFuture};

/// The salt that keeps session cookies apart from other signed values.
const SALT: &str = "tack.sessions.cookie";

/// The default largest cookie value: browsers keep about 4096 bytes for a
/// cookie's name, value and attributes together.
pub const DEFAULT_MAX_COOKIE_SIZE: usize = 3900;

/// Keeps the whole session in the cookie, as signed JSON (Django's
/// `signed_cookies` backend).
///
/// Nothing is stored on the server, so any number of processes can share
/// sessions with only the secret key. The data is signed, not encrypted:
/// the user can read it (never keep secrets in it), but cannot change it.
/// A session cannot be revoked before it expires, since the cookie is the
/// session; `delete` and `clear_expired` have nothing to do. Saving more
/// than [`DEFAULT_MAX_COOKIE_SIZE`] bytes (configurable) fails with
/// [`Error::CookieTooLarge`].
#[derive(Clone, Debug)]
pub struct CookieStore {
    signer: TimestampSigner,
    max_size: usize,
}

impl CookieStore {
    /// A store signing with this key.
    pub fn new(secret: SecretKey) -> Self {
        CookieStore {
            signer: TimestampSigner::new(secret).with_salt(SALT),
            max_size: DEFAULT_MAX_COOKIE_SIZE,
        }
    }

    /// Older keys whose cookies are still accepted (key rotation).
    pub fn with_fallback_keys(mut self, keys: impl IntoIterator<Item = SecretKey>) -> Self {
        self.signer = self.signer.with_fallback_keys(keys);
        self
    }

    /// The largest cookie value saved, in bytes.
    pub fn with_max_size(mut self, bytes: usize) -> Self {
        self.max_size = bytes;
        self
    }
}

impl SessionStore for CookieStore {
    fn load<'a>(&'a self, cookie_value: &'a str) -> StoreFuture<'a, Option<Record>> {
        // A bad signature or a record that does not decode is a tampered
        // cookie: answer "no session", the layer starts a fresh one.
        let record = self
            .signer
            .unsign_json::<Record>(cookie_value, None)
            .ok()
            .filter(|record| !record.is_expired_at(SystemTime::now()));
        Box::pin(std::future::ready(Ok(record)))
    }

    fn save<'a>(&'a self, record: &'a Record) -> StoreFuture<'a, String> {
        let result = self.signer.sign_json(record).and_then(|value| {
            if value.len() > self.max_size {
                Err(Error::CookieTooLarge {
                    size: value.len(),
                    limit: self.max_size,
                })
            } else {
                Ok(value)
            }
        });
        Box::pin(std::future::ready(result))
    }

    fn delete<'a>(&'a self, _cookie_value: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(std::future::ready(Ok(())))
    }

    fn clear_expired(&self) -> StoreFuture<'_, usize> {
        Box::pin(std::future::ready(Ok(0)))
    }
}
