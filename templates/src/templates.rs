//! The environment: loaders with precedence, reloading, rendering.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use http::StatusCode;
use minijinja::value::Value;
use minijinja::{AutoEscape, Environment, ErrorKind, TemplateSource};
use tack_http::{Html, IntoResponse, Response};

use crate::error::SERVER_ERROR_PAGE;
use crate::globals::{self, ReverseUrl, StaticFiles};
use crate::request::{self, Processor, RequestView};
use crate::{Error, filters};

type Configure = Box<dyn FnOnce(&mut Environment<'static>) + Send>;
type RequestReverser = Arc<dyn Fn(&RequestView<'_>) -> Option<Arc<dyn ReverseUrl>> + Send + Sync>;
type AutoEscapeFn = Arc<dyn Fn(&str) -> AutoEscape + Send + Sync>;

/// A configured template environment, cheap to clone and share between
/// threads.
///
/// Built with [`Templates::builder`]. In production (the default) each
/// template is read and compiled once, then served from memory; in debug mode
/// a template is reloaded when its file changes, and errors keep the template
/// source for [`Error::debug_page`].
#[derive(Clone)]
pub struct Templates {
    inner: Arc<Inner>,
}

struct Inner {
    env: Environment<'static>,
    request_reverser: Option<RequestReverser>,
    processors: Vec<(String, Processor)>,
    searched: String,
    debug: bool,
    trust_forwarded_proto: bool,
}

impl fmt::Debug for Templates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Templates")
            .field("searched", &self.inner.searched)
            .field("debug", &self.inner.debug)
            .field(
                "context_processors",
                &self
                    .inner
                    .processors
                    .iter()
                    .map(|(name, _)| name)
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// Builds [`Templates`]: directories, embedded templates, globals, context
/// processors and the debug switch.
pub struct TemplatesBuilder {
    dirs: Vec<PathBuf>,
    embedded: Vec<(String, String)>,
    debug: bool,
    static_files: StaticFiles,
    reverser: Option<Arc<dyn ReverseUrl>>,
    request_reverser: Option<RequestReverser>,
    processors: Vec<(String, Processor)>,
    trust_forwarded_proto: bool,
    autoescape: AutoEscapeFn,
    configure: Vec<Configure>,
}

impl fmt::Debug for TemplatesBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TemplatesBuilder")
            .field("dirs", &self.dirs)
            .field(
                "embedded",
                &self.embedded.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field("debug", &self.debug)
            .finish_non_exhaustive()
    }
}

/// Django's rule, by file name: HTML and XML templates are escaped, others
/// (`.txt`, `.md`, `.css`…) are not, and `.json` is escaped as JSON.
///
/// Every extension of the file name counts, so `mail.html.txt` and
/// `page.html.j2` are escaped as HTML.
pub fn default_autoescape(name: &str) -> AutoEscape {
    let file = name.rsplit('/').next().unwrap_or(name);
    let mut extensions = file.split('.').skip(1);
    if extensions.any(|ext| {
        matches!(
            ext.to_ascii_lowercase().as_str(),
            "html" | "htm" | "xhtml" | "xml" | "svg"
        )
    }) {
        return AutoEscape::Html;
    }
    match file
        .rsplit('.')
        .next()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("json") if file.contains('.') => AutoEscape::Json,
        _ => AutoEscape::None,
    }
}

impl TemplatesBuilder {
    /// Adds a template directory. Directories are searched in the order they
    /// are added, before every embedded template, so the project's directory
    /// goes first and overrides a battery's `admin/base.html` with a file of
    /// that name.
    pub fn dir(mut self, path: impl Into<PathBuf>) -> Self {
        self.dirs.push(path.into());
        self
    }

    /// Adds templates shipped inside a binary (a battery's own, with
    /// `include_str!`). They come after every directory; among embedded sets,
    /// the first added wins.
    pub fn add_embedded(mut self, templates: &[(&str, &str)]) -> Self {
        self.embedded.extend(
            templates
                .iter()
                .map(|(name, source)| ((*name).to_owned(), (*source).to_owned())),
        );
        self
    }

    /// Debug mode: reload templates when their files change (a `stat` per
    /// template lookup) and keep sources for the debug error page. Off by
    /// default: production compiles each template once.
    pub fn debug(mut self, debug: bool) -> Self {
        self.debug = debug;
        self
    }

    /// The URL prefix of static files, `/static/` by default.
    pub fn static_url(mut self, prefix: impl Into<String>) -> Self {
        self.static_files.prefix = prefix.into();
        self
    }

    /// A manifest of hashed static file names, as JSON text: either
    /// `{"css/site.css": "css/site.3f2a9c.css"}` or Django's
    /// `{"paths": {...}}` shape. `static("css/site.css")` then answers the
    /// hashed name.
    pub fn static_manifest_json(mut self, json: &str) -> Result<Self, Error> {
        self.static_files.manifest = globals::parse_manifest(json)?;
        Ok(self)
    }

    /// A manifest of hashed static file names, from pairs.
    pub fn static_manifest<I, K, V>(mut self, entries: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        self.static_files.manifest = entries
            .into_iter()
            .map(|(name, hashed)| (name.into(), hashed.into()))
            .collect::<HashMap<_, _>>();
        self
    }

    /// What `url("name", param=value)` calls: usually a closure over the
    /// application's router.
    pub fn reverse_urls(mut self, reverser: impl ReverseUrl) -> Self {
        self.reverser = Some(Arc::new(reverser));
        self
    }

    /// Where `url()` finds a reverser when a page is rendered for a request:
    /// usually the router's URL table from the request's extensions. It wins
    /// over [`reverse_urls`](Self::reverse_urls), which stays the fallback
    /// (and the only one for pages rendered without a request).
    pub fn reverse_urls_from_request<F, R>(mut self, from_request: F) -> Self
    where
        F: Fn(&RequestView<'_>) -> Option<R> + Send + Sync + 'static,
        R: ReverseUrl,
    {
        self.request_reverser = Some(Arc::new(move |request| {
            from_request(request).map(|r| Arc::new(r) as Arc<dyn ReverseUrl>)
        }));
        self
    }

    /// Registers a context processor: every page rendered for a request gets
    /// the variable `name` set to what `processor` returns for that request.
    /// A processor returning `None` (or `Value::UNDEFINED`) leaves the
    /// variable unset, so `{{ csrf_token }}` renders nothing and
    /// `{% if user %}` is false when the layer is absent. Values passed to
    /// the render call win over processors.
    pub fn context_processor<F, R>(mut self, name: impl Into<String>, processor: F) -> Self
    where
        F: Fn(&RequestView<'_>) -> R + Send + Sync + 'static,
        R: Into<Value>,
    {
        let name = name.into();
        let processor: Processor = Arc::new(move |request| processor(request).into());
        self.processors.retain(|(existing, _)| *existing != name);
        self.processors.push((name, processor));
        self
    }

    /// Believe `X-Forwarded-Proto: https` for `request.is_secure`. Only turn
    /// this on behind a proxy that sets the header itself.
    pub fn trust_forwarded_proto(mut self, trust: bool) -> Self {
        self.trust_forwarded_proto = trust;
        self
    }

    /// Replaces the rule deciding, from a template's name, how its output is
    /// escaped (by default [`default_autoescape`]).
    pub fn autoescape(mut self, rule: impl Fn(&str) -> AutoEscape + Send + Sync + 'static) -> Self {
        self.autoescape = Arc::new(rule);
        self
    }

    /// Direct access to the minijinja environment before it is shared: add
    /// your own filters, tests, functions and globals.
    pub fn configure(mut self, f: impl FnOnce(&mut Environment<'static>) + Send + 'static) -> Self {
        self.configure.push(Box::new(f));
        self
    }

    /// Checks the directories and the embedded templates, and builds the
    /// environment.
    pub fn build(self) -> Result<Templates, Error> {
        for dir in &self.dirs {
            match std::fs::metadata(dir) {
                Ok(meta) if meta.is_dir() => {}
                Ok(_) => {
                    return Err(Error::Directory {
                        path: dir.clone(),
                        source: std::io::Error::other("it is not a directory"),
                    });
                }
                Err(source) => {
                    return Err(Error::Directory {
                        path: dir.clone(),
                        source,
                    });
                }
            }
        }
        let mut embedded: HashMap<String, Arc<str>> = HashMap::new();
        for (name, source) in self.embedded {
            embedded.entry(name).or_insert_with(|| source.into());
        }
        let mut env = Environment::new();
        for (name, source) in &embedded {
            if let Err(error) = env.template_from_named_str(name, source) {
                return Err(Error::Embedded {
                    name: name.clone(),
                    line: error.line().unwrap_or(0),
                    detail: error.detail().unwrap_or("syntax error").to_owned(),
                });
            }
        }
        let mut searched: Vec<String> = self.dirs.iter().map(|d| d.display().to_string()).collect();
        if !embedded.is_empty() {
            searched.push("the embedded templates".to_owned());
        }
        let searched = if searched.is_empty() {
            "nothing: no directory or embedded template was added".to_owned()
        } else {
            searched.join(", ")
        };

        let sources = Arc::new(Sources {
            dirs: self.dirs,
            embedded,
            debug: self.debug,
        });
        env.set_loader(move |name| sources.load(name));
        env.set_auto_reload(self.debug);
        env.set_debug(self.debug);
        let autoescape = self.autoescape;
        env.set_auto_escape_callback(move |name| autoescape(name));
        filters::register(&mut env);
        env.add_function("url", globals::url_function(self.reverser));
        env.add_function(
            "static",
            globals::static_function(Arc::new(self.static_files)),
        );
        for configure in self.configure {
            configure(&mut env);
        }
        Ok(Templates {
            inner: Arc::new(Inner {
                env,
                request_reverser: self.request_reverser,
                processors: self.processors,
                searched,
                debug: self.debug,
                trust_forwarded_proto: self.trust_forwarded_proto,
            }),
        })
    }
}

impl Templates {
    /// A builder with no directory, production mode and `/static/` as the
    /// static prefix.
    pub fn builder() -> TemplatesBuilder {
        TemplatesBuilder {
            dirs: Vec::new(),
            embedded: Vec::new(),
            debug: false,
            static_files: StaticFiles {
                prefix: "/static/".to_owned(),
                manifest: HashMap::new(),
            },
            reverser: None,
            request_reverser: None,
            processors: Vec::new(),
            trust_forwarded_proto: false,
            autoescape: Arc::new(default_autoescape),
            configure: Vec::new(),
        }
    }

    /// Whether this environment runs in debug mode.
    pub fn is_debug(&self) -> bool {
        self.inner.debug
    }

    /// The underlying minijinja environment.
    pub fn environment(&self) -> &Environment<'static> {
        &self.inner.env
    }

    /// Renders template `name` with `context` (`context!{...}`, a map, or
    /// `Value::from(Serde(&data))` for any serde value).
    pub fn render(&self, name: &str, context: impl Into<Value>) -> Result<String, Error> {
        self.render_value(name, context.into())
    }

    fn render_value(&self, name: &str, context: Value) -> Result<String, Error> {
        let template = self
            .inner
            .env
            .get_template(name)
            .map_err(|e| self.lookup_error(name, e))?;
        template
            .render(context)
            .map_err(|e| Error::from_engine(e, name))
    }

    fn lookup_error(&self, name: &str, error: minijinja::Error) -> Error {
        if error.kind() == ErrorKind::TemplateNotFound {
            Error::NotFound {
                name: name.to_owned(),
                searched: self.inner.searched.clone(),
            }
        } else {
            Error::from_engine(error, name)
        }
    }

    /// The context for a request: `request`, then every context processor,
    /// then `context` (which wins on a clash).
    pub fn context_for<'r>(
        &self,
        request: impl Into<RequestView<'r>>,
        context: impl Into<Value>,
    ) -> Value {
        let request = request.into();
        let mut values: Vec<(&str, Value)> = Vec::with_capacity(self.inner.processors.len() + 2);
        values.push((
            "request",
            request::request_value(&request, self.inner.trust_forwarded_proto),
        ));
        if let Some(reverser) = self
            .inner
            .request_reverser
            .as_ref()
            .and_then(|f| f(&request))
        {
            values.push((
                globals::REQUEST_REVERSER,
                Value::from_object(globals::ReverserValue(reverser)),
            ));
        }
        for (name, processor) in &self.inner.processors {
            let value = processor(&request);
            if !value.is_undefined() && !value.is_none() {
                values.push((name.as_str(), value));
            }
        }
        let base = Value::from_pairs(values);
        minijinja::value::merge_maps([base, context.into()])
    }

    /// Renders template `name` for a request, with the context processors'
    /// variables.
    pub fn render_request<'r>(
        &self,
        request: impl Into<RequestView<'r>>,
        name: &str,
        context: impl Into<Value>,
    ) -> Result<String, Error> {
        self.render_value(name, self.context_for(request, context))
    }

    /// Renders template `name` for a request into a `200 OK` HTML response
    /// (`text/html; charset=utf-8`).
    pub fn render_for<'r>(
        &self,
        request: impl Into<RequestView<'r>>,
        name: &str,
        context: impl Into<Value>,
    ) -> Result<Response, Error> {
        self.render_status_for(request, StatusCode::OK, name, context)
    }

    /// Like [`render_for`](Self::render_for) with another status (a 404
    /// page, a form re-rendered with 422…).
    pub fn render_status_for<'r>(
        &self,
        request: impl Into<RequestView<'r>>,
        status: StatusCode,
        name: &str,
        context: impl Into<Value>,
    ) -> Result<Response, Error> {
        let html = self.render_request(request, name, context)?;
        Ok((status, Html(html)).into_response())
    }

    /// The response for a failed render: in debug mode the debug page with
    /// the template source around the failing line; otherwise the project's
    /// `500.html` (rendered with no context) or a plain built-in page.
    pub fn error_response(&self, error: &Error) -> Response {
        let status = error.status();
        tracing::error!(target: "tack::templates", %error, "a template could not be rendered");
        if self.inner.debug {
            return (status, Html(error.debug_page())).into_response();
        }
        match self.render("500.html", ()) {
            Ok(page) => (status, Html(page)).into_response(),
            Err(_) => (status, Html(SERVER_ERROR_PAGE)).into_response(),
        }
    }
}

/// Where templates come from, in order of precedence.
struct Sources {
    dirs: Vec<PathBuf>,
    embedded: HashMap<String, Arc<str>>,
    debug: bool,
}

/// A file's modification time and length: what reloading compares.
type Stamp = Option<(SystemTime, u64)>;

fn stamp(path: &Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// `dir/name`, or `None` when the name tries to leave the directory.
fn join_safely(dir: &Path, name: &str) -> Option<PathBuf> {
    let mut path = dir.to_path_buf();
    for segment in name.split('/') {
        if segment.is_empty()
            || segment.starts_with('.')
            || segment.contains('\\')
            || segment.contains(':')
        {
            return None;
        }
        path.push(segment);
    }
    Some(path)
}

impl Sources {
    fn load(&self, name: &str) -> Result<Option<TemplateSource>, minijinja::Error> {
        let Some(paths) = self
            .dirs
            .iter()
            .map(|dir| join_safely(dir, name))
            .collect::<Option<Vec<PathBuf>>>()
        else {
            return Ok(None);
        };
        for (at, path) in paths.iter().enumerate() {
            // Stat before reading, so a change racing the read is seen by the
            // up-to-date check.
            let before = stamp(path);
            match std::fs::read_to_string(path) {
                Ok(text) => {
                    let source = TemplateSource::new(text);
                    if !self.debug {
                        return Ok(Some(source));
                    }
                    // Current while the file is unchanged and no directory
                    // searched before it has gained a file of that name.
                    let path = path.clone();
                    let shadows = paths[..at].to_vec();
                    return Ok(Some(source.with_uptodate_check(move || {
                        stamp(&path) == before && !shadows.iter().any(|p| p.is_file())
                    })));
                }
                Err(error) if error.kind() == std::io::ErrorKind::NotFound || path.is_dir() => {
                    continue;
                }
                Err(error) => {
                    return Err(minijinja::Error::new(
                        ErrorKind::InvalidOperation,
                        format!("template file {} cannot be read", path.display()),
                    )
                    .with_source(error));
                }
            }
        }
        let Some(text) = self.embedded.get(name) else {
            return Ok(None);
        };
        let source = TemplateSource::new(text.to_string());
        if !self.debug {
            return Ok(Some(source));
        }
        // An embedded template stays current until a file of its name appears
        // in a directory.
        Ok(Some(source.with_uptodate_check(move || {
            !paths.iter().any(|p| p.is_file())
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn autoescape_follows_extensions() {
        for (name, expected) in [
            ("page.html", AutoEscape::Html),
            ("admin/list.htm", AutoEscape::Html),
            ("feed.xml", AutoEscape::Html),
            ("mail.html.txt", AutoEscape::Html),
            ("page.html.j2", AutoEscape::Html),
            ("icon.svg", AutoEscape::Html),
            ("robots.txt", AutoEscape::None),
            ("site.css", AutoEscape::None),
            ("data.json", AutoEscape::Json),
            ("html", AutoEscape::None),
            ("dir.html/readme", AutoEscape::None),
        ] {
            assert_eq!(
                format!("{:?}", default_autoescape(name)),
                format!("{expected:?}"),
                "{name}"
            );
        }
    }

    #[test]
    fn names_cannot_leave_the_directory() {
        let dir = Path::new("/t");
        for name in [
            "../x",
            "a/../../x",
            "/etc/passwd",
            ".hidden",
            "a//b",
            "c:\\x",
            "a\\b",
        ] {
            assert_eq!(join_safely(dir, name), None, "{name}");
        }
        assert_eq!(
            join_safely(dir, "a/b.html"),
            Some(PathBuf::from("/t/a/b.html"))
        );
    }
}
