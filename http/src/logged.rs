//! Who a request was for, as the access log records it.

use std::sync::{Arc, OnceLock};

/// A slot for the id of the user a request was made by, which the access
/// log (tack-routing's `AccessLogLayer`) reads once the response is ready.
///
/// The log layer sits outside the authentication layer (it must see
/// answers the layers before authentication give), so it cannot read the
/// user from the request it passed on: it inserts this slot, and
/// tack-auth's layer fills it in. Clones share the slot.
///
/// ```
/// use tack_http::LoggedUser;
///
/// let slot = LoggedUser::default();
/// let mut request = http::Request::new(());
/// request.extensions_mut().insert(slot.clone());
/// // ... the authentication layer, further in:
/// if let Some(seen) = request.extensions().get::<LoggedUser>() {
///     seen.set("42");
/// }
/// assert_eq!(slot.get(), Some("42"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct LoggedUser(Arc<OnceLock<String>>);

impl LoggedUser {
    /// Records the user's id; only the first call counts.
    pub fn set(&self, id: impl Into<String>) {
        let _ = self.0.set(id.into());
    }

    /// The user's id, if one was recorded.
    pub fn get(&self) -> Option<&str> {
        self.0.get().map(String::as_str)
    }
}
