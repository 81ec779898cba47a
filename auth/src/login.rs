//! Signing in and out on a [`tack_sessions::Session`], and the [`Auth`]
//! handle that ties a backend, the secret key, throttling and tokens.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use subtle::ConstantTimeEq;
use tack_sessions::Session;
use tack_sessions::signing::SecretKey;

use crate::backend::{AuthBackend, Credentials};
use crate::password::{Password, PasswordHasher};
use crate::reset::PasswordResetTokens;
use crate::throttle::{LoginThrottle, NoThrottle};
use crate::token::{ApiToken, TokenRecord, TokenStore, verify_token};
use crate::user::session_hash_matches;
use crate::validation::{UserAttributes, Validators};
use crate::{AuthUser, Error};

/// The session key holding the signed-in user's id.
pub const SESSION_USER_ID: &str = "_auth_user_id";
/// The session key holding the user's session-auth hash.
pub const SESSION_AUTH_HASH: &str = "_auth_user_hash";

/// Signs `user` in on `session`: gives the session a new id (so an id
/// planted before sign-in is worthless), and stores the user's id and
/// [`AuthUser::session_auth_hash`]. A session that belonged to another
/// user (or to this user before a password change) is emptied first;
/// otherwise its values are kept.
pub fn login<U: AuthUser>(session: &Session, user: &U, key: &SecretKey) -> Result<(), Error> {
    let id = user.id();
    let hash = user.session_auth_hash(key);
    let previous: Option<String> = session.get(SESSION_USER_ID).ok().flatten();
    let previous_hash: Option<String> = session.get(SESSION_AUTH_HASH).ok().flatten();
    // Another user's session, or this user's from before a password
    // change, keeps nothing.
    let same_user = previous.as_deref() == Some(id.as_str())
        && previous_hash.is_some_and(|stored| bool::from(stored.as_bytes().ct_eq(hash.as_bytes())));
    if previous.is_some() && !same_user {
        session.flush();
    } else {
        session.cycle_id();
    }
    session.insert(SESSION_USER_ID, &id)?;
    session.insert(SESSION_AUTH_HASH, hash)?;
    Ok(())
}

/// Signs out: removes everything from the session and the stored session.
pub fn logout(session: &Session) {
    session.flush();
}

/// After a user changed their own password: keeps this session signed in
/// (other sessions are signed out by the new hash) and cycles its id.
pub fn update_session_auth_hash<U: AuthUser>(
    session: &Session,
    user: &U,
    key: &SecretKey,
) -> Result<(), Error> {
    session.cycle_id();
    session.insert(SESSION_AUTH_HASH, user.session_auth_hash(key))?;
    Ok(())
}

type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// How long a new API token works unless configured otherwise: 30 days.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// How many live API tokens a user keeps unless configured otherwise; a
/// new one past it revokes the oldest.
pub const DEFAULT_MAX_TOKENS: usize = 10;

struct Inner<B> {
    backend: B,
    key: SecretKey,
    fallback_keys: Vec<SecretKey>,
    throttle: Arc<dyn LoginThrottle>,
    tokens: Option<Arc<dyn TokenStore>>,
    token_lifetime: Option<Duration>,
    max_tokens: usize,
    hasher: PasswordHasher,
    validators: Arc<Validators>,
    clock: Clock,
}

/// Authentication for one site: a backend, the secret key, a login
/// throttle and (optionally) an API token store. Cheap to clone; give a
/// clone to [`AuthLayer`](crate::AuthLayer) and keep one for login views.
///
/// ```
/// use tack_auth::{Auth, Credentials, MemoryBackend};
/// use tack_sessions::{SecretKey, Session};
///
/// # futures_executor::block_on(async {
/// let backend = MemoryBackend::new();
/// backend.add_user("ada", "mill-pond-lantern").unwrap();
/// let auth = Auth::new(backend, SecretKey::generate());
///
/// let session = Session::new();
/// let user = auth.authenticate(&Credentials::password("ada", "mill-pond-lantern"), None).await.unwrap();
/// auth.login(&session, &user).await.unwrap();
/// assert_eq!(auth.user_from_session(&session).await.unwrap().map(|u| u.username), Some("ada".into()));
/// # });
/// ```
pub struct Auth<B> {
    inner: Arc<Inner<B>>,
}

impl<B> Clone for Auth<B> {
    fn clone(&self) -> Self {
        Auth {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<B> fmt::Debug for Auth<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth")
            .field("tokens", &self.inner.tokens.is_some())
            .finish_non_exhaustive()
    }
}

impl<B: AuthBackend> Auth<B> {
    /// Authentication on `backend`, signing with `key`, with no throttle
    /// and no API tokens until configured.
    pub fn new(backend: B, key: SecretKey) -> Self {
        Auth {
            inner: Arc::new(Inner {
                backend,
                key,
                fallback_keys: Vec::new(),
                throttle: Arc::new(NoThrottle),
                tokens: None,
                token_lifetime: Some(DEFAULT_TOKEN_LIFETIME),
                max_tokens: DEFAULT_MAX_TOKENS,
                hasher: PasswordHasher::new(),
                validators: Arc::new(Validators::default()),
                clock: Arc::new(SystemTime::now),
            }),
        }
    }

    fn map(mut self, change: impl FnOnce(&mut Inner<B>)) -> Self {
        let inner = Arc::get_mut(&mut self.inner)
            .expect("configure Auth before cloning it (builders run first)");
        change(inner);
        self
    }

    /// Older secret keys still accepted for sessions and reset tokens.
    pub fn with_fallback_keys(self, keys: impl IntoIterator<Item = SecretKey>) -> Self {
        let keys: Vec<_> = keys.into_iter().collect();
        self.map(|inner| inner.fallback_keys = keys)
    }

    /// Throttles sign-in failures (a [`MemoryThrottle`](crate::MemoryThrottle), say).
    pub fn with_throttle(self, throttle: impl LoginThrottle) -> Self {
        self.map(|inner| inner.throttle = Arc::new(throttle))
    }

    /// Accepts `Authorization: Bearer` tokens kept in `store`.
    pub fn with_tokens(self, store: impl TokenStore) -> Self {
        self.map(|inner| inner.tokens = Some(Arc::new(store)))
    }

    /// How long new API tokens work ([`DEFAULT_TOKEN_LIFETIME`] unless
    /// set); `None` makes tokens that never expire.
    pub fn with_token_lifetime(self, lifetime: Option<Duration>) -> Self {
        self.map(|inner| inner.token_lifetime = lifetime)
    }

    /// How many live API tokens a user keeps ([`DEFAULT_MAX_TOKENS`]
    /// unless set, at least 1): creating one more revokes the oldest, so a
    /// script that asks for a token on every run does not pile them up.
    pub fn with_max_tokens_per_user(self, max: usize) -> Self {
        self.map(|inner| inner.max_tokens = max.max(1))
    }

    /// Hashes new passwords (resets, changes) with this hasher.
    pub fn with_hasher(self, hasher: PasswordHasher) -> Self {
        self.map(|inner| inner.hasher = hasher)
    }

    /// Validates new passwords with these rules (default: Django's four).
    pub fn with_validators(self, validators: Validators) -> Self {
        self.map(|inner| inner.validators = Arc::new(validators))
    }

    /// Reads the time from `clock` (for tests).
    pub fn with_clock(self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.map(|inner| inner.clock = Arc::new(clock))
    }

    /// The rules new passwords must pass (for a form's help texts).
    pub fn validators(&self) -> &Validators {
        &self.inner.validators
    }

    /// Whether a token store is configured (so the layer reads
    /// `Authorization: Bearer`).
    pub fn accepts_tokens(&self) -> bool {
        self.inner.tokens.is_some()
    }

    /// The backend.
    pub fn backend(&self) -> &B {
        &self.inner.backend
    }

    /// The secret key.
    pub fn key(&self) -> &SecretKey {
        &self.inner.key
    }

    /// Password reset tokens signed with this site's keys.
    pub fn reset_tokens(&self) -> PasswordResetTokens {
        PasswordResetTokens::new(self.inner.key.clone())
            .with_fallback_keys(self.inner.fallback_keys.iter().cloned())
    }

    /// Checks credentials through the throttle and the backend. Every
    /// failure (unknown user, wrong password, inactive user) is the same
    /// [`Error::InvalidCredentials`]; too many failures give
    /// [`Error::Throttled`] without checking the password.
    pub async fn authenticate(
        &self,
        credentials: &Credentials,
        client: Option<IpAddr>,
    ) -> Result<B::User, Error> {
        let inner = &*self.inner;
        let username = credentials.username();
        // Reserved (and counted) before the password is checked, so
        // parallel attempts cannot all slip through one check.
        if let Some(wait) = inner.throttle.reserve(username, client).await? {
            let retry_after_secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            return Err(Error::Throttled { retry_after_secs });
        }
        match inner.backend.authenticate(credentials).await? {
            Some(user) => {
                inner.throttle.record_success(username, client).await?;
                Ok(user)
            }
            None => Err(Error::InvalidCredentials),
        }
    }

    /// Signs `user` in on `session` ([`login`]) and records the sign-in
    /// with the backend (`last_login`).
    pub async fn login(&self, session: &Session, user: &B::User) -> Result<(), Error> {
        login(session, user, &self.inner.key)?;
        self.inner
            .backend
            .record_login(user, (self.inner.clock)())
            .await
    }

    /// Signs out ([`logout`]).
    pub fn logout(&self, session: &Session) {
        logout(session);
    }

    /// The user signed in on `session`, if any: the stored id names an
    /// active user whose session-auth hash still matches. A mismatch (the
    /// password changed elsewhere) empties the session.
    pub async fn user_from_session(&self, session: &Session) -> Result<Option<B::User>, Error> {
        let Ok(Some(id)) = session.get::<String>(SESSION_USER_ID) else {
            return Ok(None);
        };
        let hash: String = session
            .get(SESSION_AUTH_HASH)
            .ok()
            .flatten()
            .unwrap_or_default();
        let Some(user) = self.inner.backend.get_user(&id).await? else {
            return Ok(None);
        };
        if !session_hash_matches(&user, &hash, &self.inner.key, &self.inner.fallback_keys) {
            session.flush();
            return Ok(None);
        }
        Ok(Some(user).filter(AuthUser::is_active))
    }

    /// The active user an API token belongs to, or `None` (unknown,
    /// revoked, expired, or no token store configured).
    pub async fn user_from_token(&self, token: &str) -> Result<Option<B::User>, Error> {
        let Some(store) = &self.inner.tokens else {
            return Ok(None);
        };
        let Some(record) = verify_token(&**store, token, (self.inner.clock)()).await? else {
            return Ok(None);
        };
        let user = self.inner.backend.get_user(&record.user_id).await?;
        Ok(user.filter(AuthUser::is_active))
    }

    fn token_store(&self) -> Result<&Arc<dyn TokenStore>, Error> {
        self.inner.tokens.as_ref().ok_or_else(|| {
            Error::backend(
                "use API tokens",
                "no token store is configured: call `Auth::with_tokens`",
            )
        })
    }

    /// Creates an API token for `user`: answers the token (show it once)
    /// and its stored record. It expires after the
    /// [token lifetime](Self::with_token_lifetime); the user's expired
    /// tokens are deleted, and past the
    /// [maximum](Self::with_max_tokens_per_user) the oldest are revoked.
    pub async fn create_token(
        &self,
        user: &B::User,
        name: &str,
    ) -> Result<(ApiToken, TokenRecord), Error> {
        let store = self.token_store()?;
        let now = (self.inner.clock)();
        let token = ApiToken::generate();
        let mut record = TokenRecord::new(user.id(), name, &token);
        record.created_at = crate::token::whole_micros(now);
        record.expires_at = self
            .inner
            .token_lifetime
            .map(|lifetime| crate::token::whole_micros(now + lifetime));
        store.insert(record.clone()).await?;
        // Oldest first; the new one is among them, and kept.
        let others: Vec<TokenRecord> = store
            .list(&record.user_id)
            .await?
            .into_iter()
            .filter(|other| other.id != record.id)
            .collect();
        let live = others.iter().filter(|t| !t.is_expired_at(now)).count();
        let mut over = (live + 1).saturating_sub(self.inner.max_tokens);
        for other in others {
            let expired = other.is_expired_at(now);
            if expired || over > 0 {
                store.revoke(&other.id).await?;
                if !expired {
                    over -= 1;
                }
            }
        }
        Ok((token, record))
    }

    /// Revokes the token with this public id, whoever owns it; answers
    /// whether it existed. For a user revoking their own, see
    /// [`revoke_token_of`](Self::revoke_token_of).
    pub async fn revoke_token(&self, id: &str) -> Result<bool, Error> {
        self.token_store()?.revoke(id).await
    }

    /// Revokes `user`'s token with this public id; answers whether `user`
    /// had it (another user's id is left alone and answers `false`).
    pub async fn revoke_token_of(&self, user: &B::User, id: &str) -> Result<bool, Error> {
        let store = self.token_store()?;
        let owned = store.list(&user.id()).await?.iter().any(|t| t.id == id);
        Ok(owned && store.revoke(id).await?)
    }

    /// Revokes every token of `user`; answers how many there were.
    pub async fn revoke_tokens_of(&self, user: &B::User) -> Result<usize, Error> {
        self.token_store()?.revoke_all(&user.id()).await
    }

    /// The live (unexpired) tokens of `user`, oldest first.
    pub async fn tokens_of(&self, user: &B::User) -> Result<Vec<TokenRecord>, Error> {
        let now = (self.inner.clock)();
        let tokens = self.token_store()?.list(&user.id()).await?;
        Ok(tokens
            .into_iter()
            .filter(|t| !t.is_expired_at(now))
            .collect())
    }

    /// Validates and hashes `new_password` for `user`, and stores it. Every
    /// session of the user is signed out by the new hash; call
    /// [`update_session_auth_hash`] to keep the current one. Every API
    /// token of the user is revoked (when a token store is configured): a
    /// password change is what a user does when something leaked. Hashing runs
    /// where [`AuthBackend::hash_password`] puts it (a database backend:
    /// on its worker threads).
    pub async fn set_password(
        &self,
        user: &B::User,
        new_password: &Password,
        attributes: &UserAttributes<'_>,
    ) -> Result<String, Error> {
        self.inner
            .validators
            .validate(new_password.expose(), attributes)?;
        let hash = self
            .inner
            .backend
            .hash_password(&self.inner.hasher, new_password)
            .await?;
        self.inner
            .backend
            .set_password(&user.id(), hash.clone())
            .await?;
        if let Some(store) = &self.inner.tokens {
            store.revoke_all(&user.id()).await?;
        }
        Ok(hash)
    }

    /// Checks a reset token and sets the new password; the token cannot be
    /// used again (the password hash it was bound to is gone).
    pub async fn reset_password(
        &self,
        token: &str,
        new_password: &Password,
        attributes: &UserAttributes<'_>,
    ) -> Result<B::User, Error> {
        let tokens = self.reset_tokens();
        let unknown = Error::InvalidResetToken {
            reason: "unknown user",
        };
        let id = PasswordResetTokens::user_id(token).ok_or(Error::InvalidResetToken {
            reason: "malformed",
        })?;
        let user = self.inner.backend.get_user(&id).await?.ok_or(unknown)?;
        tokens.check_token_at(&user, token, (self.inner.clock)())?;
        self.set_password(&user, new_password, attributes).await?;
        self.inner
            .backend
            .get_user(&id)
            .await?
            .ok_or(Error::InvalidResetToken {
                reason: "unknown user",
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::User;
    use crate::create::NewUser;

    fn user(id: &str, hash: &str) -> User {
        NewUser::with_hash("u", "", hash.to_owned()).into_user(id.to_owned())
    }

    #[test]
    fn login_keeps_values_only_for_the_same_user_and_password() {
        let key = SecretKey::from("key");
        let session = Session::new();
        session.insert("cart", 3).unwrap();
        login(&session, &user("1", "$h1"), &key).unwrap();
        assert_eq!(
            session.get::<i32>("cart").unwrap(),
            Some(3),
            "anonymous cart kept"
        );
        login(&session, &user("1", "$h1"), &key).unwrap();
        assert_eq!(session.get::<i32>("cart").unwrap(), Some(3), "same user");
        login(&session, &user("1", "$h2"), &key).unwrap();
        assert_eq!(
            session.get::<i32>("cart").unwrap(),
            None,
            "password changed"
        );
        session.insert("cart", 4).unwrap();
        login(&session, &user("2", "$h2"), &key).unwrap();
        assert_eq!(session.get::<i32>("cart").unwrap(), None, "another user");
        assert_eq!(
            session.get::<String>(SESSION_USER_ID).unwrap().as_deref(),
            Some("2")
        );
        logout(&session);
        assert!(session.is_empty());
    }
}
