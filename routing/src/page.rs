//! Error pages: what the router answers when something fails, negotiated
//! between problem+json and HTML.

use http::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use http::{HeaderMap, StatusCode};
use tack_http::{Html, IntoResponse, Problem, Response};

use crate::error::ErrorInfo;

/// Everything an error page may show, given to the router's error-page hook
/// ([`Router::error_page`](crate::Router::error_page)).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ErrorPage {
    /// The status answered.
    pub status: StatusCode,
    /// The status's reason phrase ("Not Found").
    pub title: String,
    /// What went wrong, safe to show to anyone.
    pub detail: String,
    /// The request path.
    pub path: String,
    /// In debug mode only: the panic message or the error and its causes.
    pub debug: Option<String>,
}

impl ErrorPage {
    /// The built-in HTML page: the status, the detail, and in debug mode the
    /// debug text.
    pub fn default_html(&self) -> Response {
        let debug = self.debug.as_deref().map_or_else(String::new, |text| {
            format!("<h2>Debug</h2>\n<pre>{}</pre>\n", escape(text))
        });
        let html = format!(
            "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">\
             <title>{status} {title}</title></head>\n<body>\n<h1>{status} {title}</h1>\n\
             <p>{detail}</p>\n{debug}</body>\n</html>\n",
            status = self.status.as_u16(),
            title = escape(&self.title),
            detail = escape(&self.detail),
        );
        (self.status, Html(html)).into_response()
    }

    /// The problem+json document for this error (the debug text as a
    /// `debug` member when present).
    pub fn problem(&self) -> Problem {
        let mut problem = Problem::new(self.status)
            .with_title(self.title.clone())
            .with_detail(self.detail.clone())
            .with_instance(self.path.clone());
        if let Some(debug) = &self.debug {
            problem = problem.with_extension("debug", debug.clone().into());
        }
        problem
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Whether the `Accept` header prefers JSON (`application/json`,
/// `application/problem+json`, any `+json`) over HTML. Equal weights go to
/// the type listed first; no header, or `*/*`, means HTML.
pub fn prefers_json(headers: &HeaderMap) -> bool {
    accept_prefers_json(headers.get(ACCEPT))
}

pub(crate) fn accept_prefers_json(accept: Option<&HeaderValue>) -> bool {
    let Some(text) = accept.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    // (weight, position): higher weight wins, then the earlier position.
    let mut json: Option<(f32, usize)> = None;
    let mut html: Option<(f32, usize)> = None;
    for (position, item) in text.split(',').enumerate() {
        let mut parts = item.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let weight = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let slot = if media == "application/json" || media.ends_with("+json") {
            &mut json
        } else if media == "text/html" || media == "application/xhtml+xml" || media == "*/*" {
            &mut html
        } else {
            continue;
        };
        if slot.is_none_or(|(w, _)| weight > w) {
            *slot = Some((weight, position));
        }
    }
    match (json, html) {
        (Some((w, _)), _) if w <= 0.0 => false,
        (Some(_), None) => true,
        (Some((jw, jp)), Some((hw, hp))) => jw > hw || (jw == hw && jp < hp),
        (None, _) => false,
    }
}

/// A hook that renders the HTML error page.
pub(crate) type ErrorPageFn = dyn Fn(&ErrorPage) -> Response + Send + Sync;

/// Renders an error response carrying [`ErrorInfo`]; other responses pass.
pub(crate) fn render(
    mut response: Response,
    path: &str,
    accept: Option<&HeaderValue>,
    debug: bool,
    hook: Option<&ErrorPageFn>,
) -> Response {
    let Some(info) = response.extensions_mut().remove::<ErrorInfo>() else {
        return response;
    };
    let page = ErrorPage {
        status: info.status,
        title: info.status.canonical_reason().unwrap_or("Error").to_owned(),
        detail: info.detail,
        path: path.to_owned(),
        debug: if debug { info.debug } else { None },
    };
    let mut rendered = if accept_prefers_json(accept) {
        page.problem().into_response()
    } else {
        match hook {
            Some(hook) => hook(&page),
            None => page.default_html(),
        }
    };
    *rendered.status_mut() = page.status;
    // Keep the error's own headers (Allow, Set-Cookie from layers, ...)
    // unless the page sets them.
    let mut headers = std::mem::take(response.headers_mut());
    headers.remove(CONTENT_TYPE);
    headers.remove(CONTENT_LENGTH);
    for name in rendered.headers().keys() {
        headers.remove(name);
    }
    for (name, value) in headers.iter() {
        rendered.headers_mut().append(name, value.clone());
    }
    rendered.extensions_mut().insert(page);
    rendered
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation() {
        let cases = [
            (None, false),
            (Some("*/*"), false),
            (Some("application/json"), true),
            (Some("application/problem+json"), true),
            (Some("text/html,application/xhtml+xml,*/*;q=0.8"), false),
            (Some("application/json, text/html"), true),
            (Some("text/html, application/json"), false),
            (Some("text/html;q=0.5, application/json"), true),
            (Some("application/json;q=0"), false),
            (Some("application/json, */*;q=0.1"), true),
        ];
        for (accept, json) in cases {
            let value = accept.map(HeaderValue::from_static);
            assert_eq!(accept_prefers_json(value.as_ref()), json, "{accept:?}");
        }
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
