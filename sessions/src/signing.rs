//! Signing values with the secret key, like Django's `django.core.signing`.
//!
//! A [`Signer`] appends an HMAC-SHA256 signature to a string; a
//! [`TimestampSigner`] also signs the time, so a value can be refused once
//! it is older than a maximum age. Both take a salt (one per use: sessions,
//! CSRF, password reset...) so a value signed for one use is refused by
//! another, and fallback keys so the secret key can be rotated without
//! invalidating what was signed with the old one. Signatures are compared in
//! constant time.
//!
//! ```
//! use std::time::Duration;
//! use tack_sessions::signing::{SecretKey, Signer, TimestampSigner};
//!
//! let signer = Signer::new(SecretKey::from("a long random secret")).with_salt("newsletter");
//! let signed = signer.sign("alice@example.com");
//! assert_eq!(signer.unsign(&signed).unwrap(), "alice@example.com");
//! assert!(signer.unsign(&signed.replace("alice", "mallory")).is_err());
//!
//! let timed = TimestampSigner::new(SecretKey::from("a long random secret")).with_salt("reset");
//! let token = timed.sign("user:42");
//! assert_eq!(timed.unsign(&token, Some(Duration::from_secs(3600))).unwrap(), "user:42");
//! ```

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::Sha256;

use crate::Error;

type HmacSha256 = Hmac<Sha256>;

/// The separator between a value, its timestamp and its signature.
const SEP: char = ':';

/// A secret key: bytes that sign everything. Its `Debug` prints `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(Vec<u8>);

impl SecretKey {
    /// A key from bytes (or text).
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        SecretKey(bytes.into())
    }

    /// A fresh random key of 64 bytes from the operating system's CSPRNG,
    /// for tests and for generating a key to put in configuration.
    pub fn generate() -> Self {
        let mut bytes = vec![0u8; 64];
        rand::fill(&mut bytes[..]);
        SecretKey(bytes)
    }

    /// A fixed key for development only, starting with
    /// [`SecretKey::INSECURE_PREFIX`] so deployment checks recognise it.
    /// Anyone can read it here: never serve production with it.
    pub fn insecure_development() -> Self {
        SecretKey::from(format!(
            "{}development-only-key-anyone-can-read-replace-it-before-deploying",
            SecretKey::INSECURE_PREFIX
        ))
    }

    /// The prefix of keys that must never reach production.
    pub const INSECURE_PREFIX: &'static str = "tack-insecure-";

    /// Whether this key starts with [`SecretKey::INSECURE_PREFIX`].
    pub fn is_insecure(&self) -> bool {
        self.0.starts_with(SecretKey::INSECURE_PREFIX.as_bytes())
    }

    /// What makes this key unfit for production, with the fix, or `None`
    /// when it looks fine (Django's `security.W009` check): an insecure
    /// development key, fewer than 50 bytes, or fewer than 5 distinct bytes.
    pub fn weakness(&self) -> Option<String> {
        let fix = "generate one with `SecretKey::generate()` (or 50+ random characters) \
                   and load it from the environment";
        if self.is_insecure() {
            return Some(format!(
                "the secret key is the insecure development key; {fix}"
            ));
        }
        if self.0.len() < 50 {
            return Some(format!(
                "the secret key has only {} bytes, fewer than 50; {fix}",
                self.0.len()
            ));
        }
        let distinct = self
            .0
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        if distinct < 5 {
            return Some(format!(
                "the secret key has only {distinct} distinct bytes; {fix}"
            ));
        }
        None
    }

    /// The key's length in bytes (Django warns under 50).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the key is empty (and so useless).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The key's bytes. Never log them.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

impl From<&str> for SecretKey {
    fn from(text: &str) -> Self {
        SecretKey::new(text.as_bytes())
    }
}

impl From<String> for SecretKey {
    fn from(text: String) -> Self {
        SecretKey::new(text.into_bytes())
    }
}

impl From<Vec<u8>> for SecretKey {
    fn from(bytes: Vec<u8>) -> Self {
        SecretKey::new(bytes)
    }
}

/// Signs strings with HMAC-SHA256: `value:signature`.
#[derive(Clone)]
pub struct Signer {
    secret: SecretKey,
    fallbacks: Vec<SecretKey>,
    salt: String,
    /// One keyed MAC per key (the current first), derived from key and salt.
    macs: Vec<HmacSha256>,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("salt", &self.salt)
            .field("keys", &self.macs.len())
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// A signer with this key and the default salt `tack.signing`.
    pub fn new(secret: SecretKey) -> Self {
        let mut signer = Signer {
            secret,
            fallbacks: Vec::new(),
            salt: "tack.signing".to_owned(),
            macs: Vec::new(),
        };
        signer.derive();
        signer
    }

    /// Sets the salt: values signed with one salt are refused under another.
    pub fn with_salt(mut self, salt: impl Into<String>) -> Self {
        self.salt = salt.into();
        self.derive();
        self
    }

    /// Older keys still accepted when unsigning (never used to sign), for
    /// rotating the secret key.
    pub fn with_fallback_keys(mut self, keys: impl IntoIterator<Item = SecretKey>) -> Self {
        self.fallbacks = keys.into_iter().collect();
        self.derive();
        self
    }

    fn derive(&mut self) {
        self.macs = std::iter::once(&self.secret)
            .chain(&self.fallbacks)
            .map(|key| {
                // HMAC takes keys of any length: `new_from_slice` cannot fail.
                let mut kdf = HmacSha256::new_from_slice(key.as_bytes())
                    .expect("HMAC accepts keys of any length");
                kdf.update(b"tack.signing.key:");
                kdf.update(self.salt.as_bytes());
                let derived = kdf.finalize().into_bytes();
                HmacSha256::new_from_slice(&derived).expect("HMAC accepts keys of any length")
            })
            .collect();
    }

    /// The signature of `value` (URL-safe base64, 43 characters).
    pub fn signature(&self, value: &str) -> String {
        // `derive` always puts the current key first.
        let mac = self.macs[0].clone().chain_update(value.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// `value:signature`.
    pub fn sign(&self, value: &str) -> String {
        let mut signed = String::with_capacity(value.len() + 44);
        signed.push_str(value);
        signed.push(SEP);
        signed.push_str(&self.signature(value));
        signed
    }

    /// The value, if the signature matches the current key or a fallback key.
    pub fn unsign<'a>(&self, signed: &'a str) -> Result<&'a str, Error> {
        let (value, signature) = signed.rsplit_once(SEP).ok_or(Error::BadSignature)?;
        let tag = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| Error::BadSignature)?;
        // `verify_slice` compares in constant time.
        let valid = self.macs.iter().any(|mac| {
            mac.clone()
                .chain_update(value.as_bytes())
                .verify_slice(&tag)
                .is_ok()
        });
        if valid {
            Ok(value)
        } else {
            Err(Error::BadSignature)
        }
    }
}

/// Signs strings with the time they were signed: `value:timestamp:signature`.
#[derive(Clone, Debug)]
pub struct TimestampSigner {
    signer: Signer,
}

impl TimestampSigner {
    /// A timestamp signer with this key and the default salt.
    pub fn new(secret: SecretKey) -> Self {
        TimestampSigner {
            signer: Signer::new(secret),
        }
    }

    /// Sets the salt.
    pub fn with_salt(self, salt: impl Into<String>) -> Self {
        TimestampSigner {
            signer: self.signer.with_salt(salt),
        }
    }

    /// Older keys still accepted when unsigning.
    pub fn with_fallback_keys(self, keys: impl IntoIterator<Item = SecretKey>) -> Self {
        TimestampSigner {
            signer: self.signer.with_fallback_keys(keys),
        }
    }

    /// `value:timestamp:signature`, stamped with the current time.
    pub fn sign(&self, value: &str) -> String {
        self.sign_at(value, SystemTime::now())
    }

    /// `value:timestamp:signature`, stamped with `at` (for tests).
    pub fn sign_at(&self, value: &str, at: SystemTime) -> String {
        let secs = at.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        self.signer.sign(&format!("{value}{SEP}{secs}"))
    }

    /// The value, if the signature is valid and (with `max_age`) not older
    /// than `max_age`.
    pub fn unsign<'a>(&self, signed: &'a str, max_age: Option<Duration>) -> Result<&'a str, Error> {
        self.unsign_at(signed, max_age, SystemTime::now())
    }

    /// [`TimestampSigner::unsign`] as if the time were `now` (for tests).
    pub fn unsign_at<'a>(
        &self,
        signed: &'a str,
        max_age: Option<Duration>,
        now: SystemTime,
    ) -> Result<&'a str, Error> {
        let stamped = self.signer.unsign(signed)?;
        let (value, stamp) = stamped.rsplit_once(SEP).ok_or(Error::BadSignature)?;
        let signed_at: u64 = stamp.parse().map_err(|_| Error::BadSignature)?;
        if let Some(max_age) = max_age {
            let now = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
            let age_secs = now.saturating_sub(signed_at);
            if age_secs > max_age.as_secs() {
                return Err(Error::SignatureExpired {
                    age_secs,
                    max_age_secs: max_age.as_secs(),
                });
            }
        }
        Ok(value)
    }

    /// Serializes `value` to JSON, encodes it as URL-safe base64 and signs
    /// it (Django's `signing.dumps`). The result is cookie- and URL-safe.
    pub fn sign_json<T: Serialize + ?Sized>(&self, value: &T) -> Result<String, Error> {
        let json = serde_json::to_vec(value).map_err(|source| Error::Json {
            key: "signed value".to_owned(),
            source,
        })?;
        Ok(self.sign(&URL_SAFE_NO_PAD.encode(json)))
    }

    /// Checks the signature and age, then decodes what
    /// [`TimestampSigner::sign_json`] made (Django's `signing.loads`).
    pub fn unsign_json<T: DeserializeOwned>(
        &self,
        signed: &str,
        max_age: Option<Duration>,
    ) -> Result<T, Error> {
        let encoded = self.unsign(signed, max_age)?;
        let json = URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| Error::BadSignature)?;
        serde_json::from_slice(&json).map_err(|source| Error::Json {
            key: "signed value".to_owned(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> SecretKey {
        SecretKey::from(text)
    }

    #[test]
    fn sign_and_unsign_round_trip() {
        let signer = Signer::new(key("k"));
        for value in ["", "plain", "with:colons:inside", "ünïcode"] {
            assert_eq!(signer.unsign(&signer.sign(value)).unwrap(), value);
        }
    }

    #[test]
    fn tampering_is_refused() {
        let signer = Signer::new(key("k"));
        let signed = signer.sign("amount=10");
        let cases = [
            signed.replace("10", "99"),
            format!("{signed}x"),
            signed[..signed.len() - 1].to_owned(),
            "amount=10".to_owned(),
            "amount=10:".to_owned(),
            "amount=10:!!notbase64".to_owned(),
        ];
        for case in cases {
            assert!(
                matches!(signer.unsign(&case), Err(Error::BadSignature)),
                "{case}"
            );
        }
    }

    #[test]
    fn salt_and_key_separate_signatures() {
        let signed = Signer::new(key("k")).with_salt("a").sign("v");
        assert!(
            Signer::new(key("k"))
                .with_salt("b")
                .unsign(&signed)
                .is_err()
        );
        assert!(
            Signer::new(key("other"))
                .with_salt("a")
                .unsign(&signed)
                .is_err()
        );
    }

    #[test]
    fn fallback_keys_verify_but_never_sign() {
        let old = Signer::new(key("old")).sign("v");
        let rotated = Signer::new(key("new")).with_fallback_keys([key("old")]);
        assert_eq!(rotated.unsign(&old).unwrap(), "v");
        let fresh = rotated.sign("v");
        assert!(Signer::new(key("old")).unsign(&fresh).is_err());
        assert_eq!(Signer::new(key("new")).unsign(&fresh).unwrap(), "v");
    }

    #[test]
    fn timestamps_expire() {
        let signer = TimestampSigner::new(key("k"));
        let then = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let signed = signer.sign_at("v", then);
        let hour = Some(Duration::from_secs(3600));
        assert_eq!(
            signer
                .unsign_at(&signed, hour, then + Duration::from_secs(3600))
                .unwrap(),
            "v"
        );
        let late = signer.unsign_at(&signed, hour, then + Duration::from_secs(3601));
        assert!(matches!(
            late,
            Err(Error::SignatureExpired {
                age_secs: 3601,
                max_age_secs: 3600
            })
        ));
        assert_eq!(
            signer
                .unsign_at(&signed, None, then + Duration::from_secs(99_999))
                .unwrap(),
            "v"
        );
        // A plain signature is not a timestamped one.
        assert!(
            signer
                .unsign(&Signer::new(key("k")).sign("v"), None)
                .is_err()
        );
    }

    #[test]
    fn json_round_trip() {
        let signer = TimestampSigner::new(key("k")).with_salt("json");
        let signed = signer.sign_json(&serde_json::json!({"a": [1, 2]})).unwrap();
        assert!(!signed.contains(['"', ';', ',', ' ']));
        let back: serde_json::Value = signer.unsign_json(&signed, None).unwrap();
        assert_eq!(back, serde_json::json!({"a": [1, 2]}));
    }

    #[test]
    fn debug_hides_the_key() {
        assert_eq!(format!("{:?}", key("hunter2")), "SecretKey(***)");
        assert!(!format!("{:?}", Signer::new(key("hunter2"))).contains("hunter2"));
        assert_eq!(SecretKey::generate().len(), 64);
    }

    #[test]
    fn weak_keys_are_named() {
        assert!(
            SecretKey::insecure_development()
                .weakness()
                .unwrap()
                .contains("development")
        );
        assert!(key("short").weakness().unwrap().contains("fewer than 50"));
        assert!(
            key(&"ab".repeat(40))
                .weakness()
                .unwrap()
                .contains("2 distinct")
        );
        assert_eq!(SecretKey::generate().weakness(), None);
    }
}
