//! The developers' error page.

use std::fmt::Write as _;

use minijinja::HtmlEscape;

use crate::Error;

/// How many lines to show on each side of the failing one.
const CONTEXT_LINES: usize = 5;

const STYLE: &str = "body{font:15px/1.4 system-ui,sans-serif;margin:2rem;color:#222}\
h1{color:#a40000;font-size:1.4rem}pre{background:#f6f6f6;padding:.5rem;overflow:auto}\
.line{display:block}.at{background:#ffd7d7;font-weight:bold}.no{color:#888;user-select:none}";

/// Renders the debug page for `error`.
pub(crate) fn render(error: &Error) -> String {
    let mut page = String::with_capacity(2048);
    let title = match error.template_name() {
        Some(name) => format!("Template error in {name}"),
        None => "Template error".to_owned(),
    };
    let _ = write!(
        page,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{title}</title><style>{STYLE}</style></head><body>\n\
         <h1>{title}</h1>\n<p class=\"message\">{message}</p>\n",
        title = HtmlEscape(&title),
        message = HtmlEscape(&error.to_string()),
    );
    let sources = error.sources();
    if sources.is_empty() {
        page.push_str(
            "<p>No template source is available (sources are kept in debug mode only).</p>\n",
        );
    }
    for (name, line, text) in &sources {
        let _ = write!(page, "<h2>{}", HtmlEscape(name));
        if let Some(line) = line {
            let _ = write!(page, ", line {line}");
        }
        page.push_str("</h2>\n<pre>");
        write_excerpt(&mut page, text, *line);
        page.push_str("</pre>\n");
    }
    page.push_str("</body></html>\n");
    page
}

/// Writes the lines around `line` (1-based), escaped and numbered.
fn write_excerpt(page: &mut String, text: &str, line: Option<usize>) {
    let at = line.unwrap_or(1).max(1);
    let first = at.saturating_sub(CONTEXT_LINES).max(1);
    let last = at + CONTEXT_LINES;
    for (number, content) in text.lines().enumerate().map(|(i, l)| (i + 1, l)) {
        if number < first || number > last {
            continue;
        }
        let class = if Some(number) == line {
            "line at"
        } else {
            "line"
        };
        let _ = write!(
            page,
            "<span class=\"{class}\"><span class=\"no\">{number:>4} </span>{}</span>",
            HtmlEscape(content)
        );
    }
}
