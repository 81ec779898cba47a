//! The `url()` and `static()` template functions.

use std::collections::HashMap;
use std::sync::Arc;

use minijinja::value::{Kwargs, Object, Value};
use minijinja::{ErrorKind, State};

use crate::Error;

/// Turns a route name and parameters into a path: what `url("name", slug=…)`
/// calls.
///
/// Any closure `Fn(&str, &[(String, String)]) -> Result<String, String>`
/// implements it, so an application bridges its router with one closure; the
/// error string says why the route cannot be reversed and ends up in the
/// template error.
pub trait ReverseUrl: Send + Sync + 'static {
    /// The path of route `name` with `params` (name, value) filled in.
    fn reverse(&self, name: &str, params: &[(String, String)]) -> Result<String, String>;
}

impl<F> ReverseUrl for F
where
    F: Fn(&str, &[(String, String)]) -> Result<String, String> + Send + Sync + 'static,
{
    fn reverse(&self, name: &str, params: &[(String, String)]) -> Result<String, String> {
        self(name, params)
    }
}

/// The context variable under which a request's own reverser travels.
pub(crate) const REQUEST_REVERSER: &str = "__tack_reverse_url";

/// A reverser carried in a render's context (see
/// `TemplatesBuilder::reverse_urls_from_request`).
pub(crate) struct ReverserValue(pub(crate) Arc<dyn ReverseUrl>);

impl std::fmt::Debug for ReverserValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<url reverser>")
    }
}

impl Object for ReverserValue {}

/// The `url` function: `url("article-detail", slug=article.slug)`.
pub(crate) fn url_function(
    reverser: Option<Arc<dyn ReverseUrl>>,
) -> impl Fn(&State<'_, '_>, &str, Kwargs) -> Result<Value, minijinja::Error> + Send + Sync + 'static
{
    move |state: &State<'_, '_>, name: &str, kwargs: Kwargs| {
        let from_request = state.lookup(REQUEST_REVERSER);
        let reverser = match from_request
            .as_ref()
            .and_then(|value| value.downcast_object_ref::<ReverserValue>())
        {
            Some(ReverserValue(reverser)) => reverser,
            None => match &reverser {
                Some(reverser) => reverser,
                None => {
                    return Err(minijinja::Error::new(
                        ErrorKind::InvalidOperation,
                        format!(
                            "url({name:?}): no URL reverser is configured; call \
                             TemplatesBuilder::reverse_urls (or reverse_urls_from_request and \
                             render for a request)"
                        ),
                    ));
                }
            },
        };
        let mut params = Vec::new();
        for key in kwargs.args() {
            let value: Value = kwargs.get(key)?;
            params.push((key.to_owned(), value.to_string()));
        }
        let url = reverser.reverse(name, &params).map_err(|why| {
            minijinja::Error::new(
                ErrorKind::InvalidOperation,
                format!("url({name:?}) cannot be reversed: {why}"),
            )
        })?;
        Ok(escaped_url(url))
    }
}

/// Where static files are served, and their hashed names.
#[derive(Debug, Clone, Default)]
pub(crate) struct StaticFiles {
    pub(crate) prefix: String,
    pub(crate) manifest: HashMap<String, String>,
}

impl StaticFiles {
    /// The public URL of `path`.
    pub(crate) fn url(&self, path: &str) -> String {
        let path = path.trim_start_matches('/');
        let name = self.manifest.get(path).map(String::as_str).unwrap_or(path);
        let mut url = String::with_capacity(self.prefix.len() + name.len() + 1);
        url.push_str(&self.prefix);
        if !url.ends_with('/') {
            url.push('/');
        }
        url.push_str(name);
        url
    }
}

/// Reads a manifest: either `{"css/site.css": "css/site.3f2a.css", ...}` or
/// Django's `{"paths": {...}, "version": "1.1"}` shape.
pub(crate) fn parse_manifest(json: &str) -> Result<HashMap<String, String>, Error> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(|e| Error::Manifest {
        detail: format!("not JSON: {e}"),
    })?;
    let map = match value.get("paths") {
        Some(paths) => paths,
        None => &value,
    };
    let serde_json::Value::Object(map) = map else {
        return Err(Error::Manifest {
            detail: "expected an object of file names to hashed file names".to_owned(),
        });
    };
    map.iter()
        .map(|(name, hashed)| match hashed {
            serde_json::Value::String(hashed) => {
                Ok((name.trim_start_matches('/').to_owned(), hashed.clone()))
            }
            other => Err(Error::Manifest {
                detail: format!("the entry for {name:?} is {other}, expected a string"),
            }),
        })
        .collect()
}

/// The `static` function: `static("css/site.css")`.
pub(crate) fn static_function(
    files: Arc<StaticFiles>,
) -> impl Fn(&str) -> Value + Send + Sync + 'static {
    move |path: &str| escaped_url(files.url(path))
}

/// A URL escaped for HTML text and attributes (but with its slashes kept
/// readable), marked safe.
fn escaped_url(url: String) -> Value {
    if !url.contains(['&', '<', '>', '"', '\'']) {
        return Value::from_safe_string(url);
    }
    let mut out = String::with_capacity(url.len() + 8);
    crate::filters::escape_into(&mut out, &url);
    Value::from_safe_string(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_urls_use_prefix_and_manifest() {
        let files = StaticFiles {
            prefix: "/static".to_owned(),
            manifest: parse_manifest(r#"{"paths": {"css/site.css": "css/site.abc.css"}}"#).unwrap(),
        };
        assert_eq!(files.url("css/site.css"), "/static/css/site.abc.css");
        assert_eq!(files.url("/js/app.js"), "/static/js/app.js");
    }

    #[test]
    fn bad_manifests_say_why() {
        for (json, expected) in [
            ("nope", "not JSON"),
            ("[1]", "expected an object"),
            (r#"{"a.css": 3}"#, "\"a.css\" is 3"),
        ] {
            let error = parse_manifest(json).unwrap_err().to_string();
            assert!(error.contains(expected), "{json}: {error}");
        }
    }
}
