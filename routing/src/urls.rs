//! Reverse URLs: Django's `reverse`.

use std::collections::HashMap;
use std::sync::Arc;

use crate::Error;
use crate::pattern::Pattern;

/// The named routes of a router, to build URLs from names
/// (Django's `reverse`).
///
/// Cheap to clone (one `Arc`). The router puts one in every request's
/// extensions, so a handler (or a template global) can reverse URLs:
///
/// ```
/// # use tack_routing::Urls;
/// # fn handler(request: &http::Request<tack_http::Body>) -> Result<(), tack_routing::Error> {
/// let urls = request.extensions().get::<Urls>().expect("served by a Router");
/// let url = urls.reverse("article-detail", &[("slug", "hello")])?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default)]
pub struct Urls(pub(crate) Arc<HashMap<Arc<str>, Arc<Pattern>>>);

impl Urls {
    /// The path of the route named `name` with these parameter values,
    /// each checked against its converter and percent-encoded (a `path`
    /// value keeps its slashes).
    ///
    /// Errors name what to fix: an unknown route name, a missing or unknown
    /// parameter, or a value its converter rejects.
    pub fn reverse(&self, name: &str, params: &[(&str, &str)]) -> Result<String, Error> {
        let pattern = self.0.get(name).ok_or_else(|| Error::UnknownRoute {
            name: name.to_owned(),
        })?;
        pattern.reverse(name, params)
    }

    /// The pattern of the route named `name`, as written.
    pub fn pattern(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|p| &**p.source())
    }

    /// Every route name, in no particular order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(|name| &**name)
    }

    pub(crate) fn insert(&mut self, name: Arc<str>, pattern: Arc<Pattern>) -> Result<(), Error> {
        if let Some(existing) = self.0.get(&name) {
            return Err(Error::DuplicateName {
                name: name.to_string(),
                pattern: existing.source().to_string(),
            });
        }
        Arc::make_mut(&mut self.0).insert(name, pattern);
        Ok(())
    }
}
