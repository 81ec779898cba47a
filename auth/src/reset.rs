//! Password reset tokens: signed, time-limited, single use.
//!
//! A token names the user and the time it was made, and is signed (HMAC-SHA256
//! with the secret key, salted for this use) over those and the user's
//! current password hash, last sign-in and email address, which the token
//! does not contain. Resetting the password, or signing in, changes that
//! state and so invalidates every token made before: a token works once.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tack_sessions::signing::{SecretKey, Signer};

use crate::{AuthUser, Error};

/// Three days, Django's `PASSWORD_RESET_TIMEOUT`.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(3 * 24 * 60 * 60);

/// Makes and checks password reset tokens.
#[derive(Clone, Debug)]
pub struct PasswordResetTokens {
    signer: Signer,
    max_age: Duration,
}

fn secs(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

impl PasswordResetTokens {
    /// Tokens signed with `key`, valid for three days.
    pub fn new(key: SecretKey) -> Self {
        PasswordResetTokens {
            signer: Signer::new(key).with_salt("tack.auth.password-reset"),
            max_age: DEFAULT_MAX_AGE,
        }
    }

    /// Older keys still accepted, for rotating the secret key.
    pub fn with_fallback_keys(mut self, keys: impl IntoIterator<Item = SecretKey>) -> Self {
        self.signer = self.signer.with_fallback_keys(keys);
        self
    }

    /// How long a token stays valid.
    pub fn with_max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    fn state<U: AuthUser>(user: &U, stamp: u64) -> String {
        format!(
            "{}\n{stamp}\n{}\n{}\n{}",
            user.id(),
            user.password_hash(),
            user.last_login()
                .map(secs)
                .map_or_else(String::new, |s| s.to_string()),
            user.email()
        )
    }

    /// A token for `user`, made now: put it in the reset link.
    pub fn make_token<U: AuthUser>(&self, user: &U) -> String {
        self.make_token_at(user, SystemTime::now())
    }

    /// [`PasswordResetTokens::make_token`] as if made at `at` (for tests).
    pub fn make_token_at<U: AuthUser>(&self, user: &U, at: SystemTime) -> String {
        let stamp = secs(at);
        let uid = URL_SAFE_NO_PAD.encode(user.id());
        let signature = self.signer.signature(&Self::state(user, stamp));
        format!("{uid}.{stamp}.{signature}")
    }

    /// The id of the user a token names (to load the user before checking
    /// the token), or `None` for a malformed token.
    pub fn user_id(token: &str) -> Option<String> {
        let uid = token.split('.').next()?;
        String::from_utf8(URL_SAFE_NO_PAD.decode(uid).ok()?).ok()
    }

    /// `Ok` if `token` was made for `user` as it is now and has not expired.
    pub fn check_token<U: AuthUser>(&self, user: &U, token: &str) -> Result<(), Error> {
        self.check_token_at(user, token, SystemTime::now())
    }

    /// [`PasswordResetTokens::check_token`] as if the time were `now`.
    pub fn check_token_at<U: AuthUser>(
        &self,
        user: &U,
        token: &str,
        now: SystemTime,
    ) -> Result<(), Error> {
        let malformed = Error::InvalidResetToken {
            reason: "malformed",
        };
        let mut parts = token.split('.');
        let (Some(_), Some(stamp), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed);
        };
        if Self::user_id(token).as_deref() != Some(user.id().as_str()) {
            return Err(Error::InvalidResetToken {
                reason: "made for another user",
            });
        }
        let stamp: u64 = stamp.parse().map_err(|_| malformed)?;
        // `unsign` compares in constant time, against fallback keys too.
        let signed = format!("{}:{signature}", Self::state(user, stamp));
        if self.signer.unsign(&signed).is_err() {
            return Err(Error::InvalidResetToken {
                reason: "already used, or the password or sign-in changed since",
            });
        }
        if secs(now).saturating_sub(stamp) > self.max_age.as_secs() {
            return Err(Error::InvalidResetToken { reason: "expired" });
        }
        Ok(())
    }
}
