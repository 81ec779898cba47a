//! Password hashing with Argon2id and PHC strings.
//!
//! [`PasswordHasher`] hashes with Argon2id at OWASP's current first
//! recommendation (19 MiB of memory, 2 iterations, 1 lane) and a fresh
//! 128-bit salt, and writes the result as a PHC string
//! (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) that carries its own
//! parameters, so old hashes keep verifying after the parameters change and
//! [`Verification::NeedsRehash`] says when to store a new one.
//!
//! Hashing is deliberately slow (tens of milliseconds) and synchronous:
//! async callers should run it off the executor (`spawn_blocking`, a worker
//! thread, or the ORM's worker threads together with the query).
//!
//! ```
//! use tack_auth::password::{PasswordHasher, Verification};
//!
//! let hasher = PasswordHasher::new();
//! let phc = hasher.hash("correct horse battery staple").unwrap();
//! assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
//! assert_eq!(hasher.verify("correct horse battery staple", &phc), Verification::Verified);
//! assert_eq!(hasher.verify("wrong", &phc), Verification::Wrong);
//! ```

use std::fmt;
use std::sync::{Arc, OnceLock};

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::Error;

/// The prefix of a hash that can never verify (Django's `!`): for users who
/// sign in another way, or whose password was disabled.
pub const UNUSABLE_PASSWORD_PREFIX: &str = "!";

/// A password (or any secret) in memory. Its `Debug` prints `***`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Password(String);

impl Password {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Password(secret.into())
    }

    /// The secret itself. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<&str> for Password {
    fn from(secret: &str) -> Self {
        Password::new(secret)
    }
}

impl From<String> for Password {
    fn from(secret: String) -> Self {
        Password(secret)
    }
}

/// Argon2id cost parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Argon2Params {
    /// Memory in KiB (`m`).
    pub memory_kib: u32,
    /// Iterations (`t`).
    pub iterations: u32,
    /// Lanes (`p`).
    pub parallelism: u32,
}

impl Argon2Params {
    /// OWASP's Password Storage Cheat Sheet, first Argon2id configuration:
    /// m=19456 (19 MiB), t=2, p=1.
    pub const OWASP: Argon2Params = Argon2Params {
        memory_kib: 19 * 1024,
        iterations: 2,
        parallelism: 1,
    };

    fn to_argon2(self) -> Result<Params, Error> {
        Params::new(self.memory_kib, self.iterations, self.parallelism, None).map_err(|error| {
            Error::Hashing(format!(
                "invalid Argon2 parameters m={}, t={}, p={}: {error}",
                self.memory_kib, self.iterations, self.parallelism
            ))
        })
    }
}

impl Default for Argon2Params {
    fn default() -> Self {
        Argon2Params::OWASP
    }
}

/// What checking a password against a stored hash found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "a verification says whether to let the user in"]
pub enum Verification {
    /// The password matches and the hash uses the current parameters.
    Verified,
    /// The password matches but the hash was made with other parameters
    /// (or another algorithm): hash the password again and store it.
    NeedsRehash,
    /// The password does not match (or the stored hash is unusable).
    Wrong,
}

impl Verification {
    /// Whether the password matched (whatever the hash's parameters).
    pub fn is_verified(self) -> bool {
        !matches!(self, Verification::Wrong)
    }
}

/// What a [`PasswordHasher`] just did, for its observer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HasherEvent {
    /// A password was hashed for storage.
    Hash,
    /// A password was checked against a stored hash.
    Verify,
    /// A password was checked against the dummy hash (unknown user).
    VerifyDummy,
}

type Observer = Arc<dyn Fn(HasherEvent) + Send + Sync>;

/// Hashes and verifies passwords with Argon2id. Cheap to clone.
#[derive(Clone)]
pub struct PasswordHasher {
    params: Argon2Params,
    dummy: Arc<OnceLock<String>>,
    observer: Option<Observer>,
}

impl fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl Default for PasswordHasher {
    fn default() -> Self {
        PasswordHasher::new()
    }
}

impl PasswordHasher {
    /// A hasher with OWASP's parameters ([`Argon2Params::OWASP`]).
    pub fn new() -> Self {
        PasswordHasher {
            params: Argon2Params::OWASP,
            dummy: Arc::new(OnceLock::new()),
            observer: None,
        }
    }

    /// Hashes with other parameters. Hashes made with different ones still
    /// verify, and are reported as [`Verification::NeedsRehash`]. Cheap
    /// parameters are for tests only.
    pub fn with_params(mut self, params: Argon2Params) -> Self {
        self.params = params;
        self.dummy = Arc::new(OnceLock::new());
        self
    }

    /// Calls `observer` after every hash and verification: for metrics, and
    /// for tests that prove the hasher ran (for an unknown user, say)
    /// without measuring time.
    pub fn with_observer(mut self, observer: impl Fn(HasherEvent) + Send + Sync + 'static) -> Self {
        self.observer = Some(Arc::new(observer));
        self
    }

    /// The parameters new hashes get.
    pub fn params(&self) -> Argon2Params {
        self.params
    }

    fn argon2(&self) -> Result<Argon2<'static>, Error> {
        Ok(Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            self.params.to_argon2()?,
        ))
    }

    fn notify(&self, event: HasherEvent) {
        if let Some(observer) = &self.observer {
            observer(event);
        }
    }

    /// Hashes `password` with a fresh random salt into a PHC string.
    /// Slow and synchronous: run it off the executor.
    pub fn hash(&self, password: &str) -> Result<String, Error> {
        let hash = self
            .argon2()?
            .hash_password(password.as_bytes())
            .map_err(|error| Error::Hashing(format!("hashing the password failed: {error}")))?;
        self.notify(HasherEvent::Hash);
        Ok(hash.to_string())
    }

    /// Checks `password` against a stored PHC string. The comparison of the
    /// outputs is constant-time; a malformed or unusable hash answers
    /// [`Verification::Wrong`] (after running the dummy verification, so it
    /// costs the same time). Slow and synchronous: run it off the executor.
    pub fn verify(&self, password: &str, stored: &str) -> Verification {
        let parsed = match PasswordHash::new(stored) {
            Ok(parsed) if !stored.starts_with(UNUSABLE_PASSWORD_PREFIX) => parsed,
            _ => {
                self.verify_dummy(password);
                return Verification::Wrong;
            }
        };
        // The hash's own algorithm, version and parameters are used, so
        // hashes made with older parameters still verify.
        let matched = match self.argon2() {
            Ok(argon2) => argon2.verify_password(password.as_bytes(), &parsed).is_ok(),
            Err(error) => {
                tracing::error!(%error, "password hasher misconfigured");
                false
            }
        };
        self.notify(HasherEvent::Verify);
        if !matched {
            Verification::Wrong
        } else if self.is_current(&parsed) {
            Verification::Verified
        } else {
            Verification::NeedsRehash
        }
    }

    /// Runs a verification against a fixed hash made with the current
    /// parameters and throws the answer away: call it when the username is
    /// unknown so that the response takes as long as for a wrong password.
    pub fn verify_dummy(&self, password: &str) {
        let dummy = self.dummy.get_or_init(|| {
            // The parameters were checked by the first hash or verification
            // that used them; if they are invalid the dummy is empty and the
            // check below fails fast, as every real one does.
            self.argon2()
                .and_then(|argon2| {
                    argon2
                        .hash_password(b"tack dummy password")
                        .map(|hash| hash.to_string())
                        .map_err(|error| Error::Hashing(error.to_string()))
                })
                .unwrap_or_default()
        });
        if let (Ok(argon2), Ok(parsed)) = (self.argon2(), PasswordHash::new(dummy)) {
            let _ = argon2.verify_password(password.as_bytes(), &parsed);
        }
        self.notify(HasherEvent::VerifyDummy);
    }

    /// Whether a stored hash was made with this hasher's algorithm, version
    /// and parameters (false for anything unparseable).
    pub fn is_current_hash(&self, stored: &str) -> bool {
        PasswordHash::new(stored).is_ok_and(|parsed| self.is_current(&parsed))
    }

    fn is_current(&self, parsed: &PasswordHash) -> bool {
        let Ok(params) = Params::try_from(parsed) else {
            return false;
        };
        parsed.algorithm.as_str() == Algorithm::Argon2id.as_str()
            && parsed.version == Some(u32::from(Version::V0x13))
            && params.m_cost() == self.params.memory_kib
            && params.t_cost() == self.params.iterations
            && params.p_cost() == self.params.parallelism
            && params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)
                == Params::DEFAULT_OUTPUT_LEN
    }
}

/// Hashes with OWASP's parameters: [`PasswordHasher::hash`] on a default hasher.
pub fn hash_password(password: &str) -> Result<String, Error> {
    PasswordHasher::new().hash(password)
}

/// Verifies against OWASP's parameters: [`PasswordHasher::verify`] on a
/// default hasher.
pub fn verify_password(password: &str, stored: &str) -> Verification {
    PasswordHasher::new().verify(password, stored)
}

/// A hash that no password matches (Django's `set_unusable_password`).
pub fn unusable_password() -> String {
    let mut bytes = [0u8; 20];
    rand::fill(&mut bytes[..]);
    let random: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{UNUSABLE_PASSWORD_PREFIX}{random}")
}

/// Whether a stored hash can ever verify.
pub fn is_usable(stored: &str) -> bool {
    !stored.is_empty() && !stored.starts_with(UNUSABLE_PASSWORD_PREFIX)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    const CHEAP: Argon2Params = Argon2Params {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    #[test]
    fn owasp_parameters_by_default() {
        let phc = hash_password("s3cret!").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert_eq!(verify_password("s3cret!", &phc), Verification::Verified);
        assert_eq!(verify_password("s3cret?", &phc), Verification::Wrong);
    }

    #[test]
    fn salts_differ() {
        let hasher = PasswordHasher::new().with_params(CHEAP);
        assert_ne!(hasher.hash("same").unwrap(), hasher.hash("same").unwrap());
    }

    #[test]
    fn changed_parameters_ask_for_a_rehash() {
        let old = PasswordHasher::new().with_params(CHEAP);
        let new = PasswordHasher::new().with_params(Argon2Params {
            iterations: 2,
            ..CHEAP
        });
        let phc = old.hash("pw").unwrap();
        assert_eq!(new.verify("pw", &phc), Verification::NeedsRehash);
        assert_eq!(new.verify("nope", &phc), Verification::Wrong);
        assert!(!new.is_current_hash(&phc));
        let rehashed = new.hash("pw").unwrap();
        assert_eq!(new.verify("pw", &rehashed), Verification::Verified);
    }

    #[test]
    fn other_variants_verify_and_need_rehash() {
        let argon2i = Argon2::new(
            Algorithm::Argon2i,
            Version::V0x13,
            Params::new(64, 1, 1, None).unwrap(),
        );
        let phc = argon2i.hash_password(b"pw").unwrap().to_string();
        let hasher = PasswordHasher::new().with_params(CHEAP);
        assert_eq!(hasher.verify("pw", &phc), Verification::NeedsRehash);
    }

    #[test]
    fn junk_and_unusable_hashes_never_verify_but_cost_a_verification() {
        let count = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&count);
        let hasher = PasswordHasher::new()
            .with_params(CHEAP)
            .with_observer(move |event| {
                if event == HasherEvent::VerifyDummy {
                    seen.fetch_add(1, Ordering::SeqCst);
                }
            });
        let unusable = unusable_password();
        assert!(!is_usable(&unusable));
        for stored in ["", "plain", "$argon2id$broken", unusable.as_str(), "!"] {
            assert_eq!(hasher.verify("", stored), Verification::Wrong, "{stored}");
        }
        assert_eq!(count.load(Ordering::SeqCst), 5);
    }

    #[test]
    fn bad_parameters_are_an_error_not_a_panic() {
        let hasher = PasswordHasher::new().with_params(Argon2Params {
            memory_kib: 1,
            iterations: 0,
            parallelism: 1,
        });
        let error = hasher.hash("pw").unwrap_err();
        assert!(error.to_string().contains("m=1, t=0"), "{error}");
    }

    #[test]
    fn secrets_debug_as_stars() {
        let password = Password::new("hunter2");
        assert_eq!(format!("{password:?}"), "***");
        assert_eq!(password.expose(), "hunter2");
    }
}
