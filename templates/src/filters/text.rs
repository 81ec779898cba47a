//! Django's text filters: pluralize, truncation, line breaks, yesno,
//! default_if_none, slugify, urlize.

use minijinja::value::{Value, ValueKind};
use minijinja::{AutoEscape, State};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use unicode_normalization::UnicodeNormalization;

/// Appends `text` with `& < > " '` escaped for HTML text and attributes.
pub(crate) fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    escape_into(&mut out, text);
    out
}

/// Whether the template escapes HTML (the filters that build markup then
/// escape their input and mark their output safe).
fn html_mode(state: &State<'_, '_>) -> bool {
    matches!(state.auto_escape(), AutoEscape::Html)
}

/// A string result that keeps the input's safety.
fn same_safety(input: &Value, text: String) -> Value {
    if input.is_safe() {
        Value::from_safe_string(text)
    } else {
        Value::from(text)
    }
}

/// `{{ count|pluralize }}`, `pluralize("es")`, `pluralize("y,ies")`: the
/// suffix for a number (or a sequence's length); empty for anything else.
pub(crate) fn pluralize(value: Value, suffix: Option<&str>) -> String {
    let suffix = suffix.unwrap_or("s");
    let (singular, plural) = match suffix.split(',').collect::<Vec<_>>().as_slice() {
        [plural] => ("", *plural),
        [singular, plural] => (*singular, *plural),
        _ => return String::new(),
    };
    let is_one = match value.kind() {
        ValueKind::Bool => Some(value.is_true()),
        ValueKind::Number => f64::try_from(value.clone()).ok().map(|n| n == 1.0),
        ValueKind::String => value
            .as_str()
            .and_then(|text| text.trim().parse::<f64>().ok())
            .map(|n| n == 1.0),
        ValueKind::Seq | ValueKind::Map => value.len().map(|n| n == 1),
        _ => None,
    };
    match is_one {
        Some(true) => singular.to_owned(),
        Some(false) => plural.to_owned(),
        None => String::new(),
    }
}

/// `{{ body|truncatewords(30) }}`: the first words, then ` …`.
pub(crate) fn truncatewords(value: Value, count: i64) -> Value {
    let text = value.to_string();
    let Ok(count) = usize::try_from(count) else {
        return same_safety(&value, String::new());
    };
    if count == 0 {
        return same_safety(&value, String::new());
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut out = words[..words.len().min(count)].join(" ");
    if words.len() > count {
        out.push_str(" …");
    }
    same_safety(&value, out)
}

/// `{{ title|truncatechars(20) }}`: at most that many characters, the last
/// one `…` when the text was cut.
pub(crate) fn truncatechars(value: Value, count: i64) -> Value {
    let text = value.to_string();
    let Ok(count) = usize::try_from(count) else {
        return same_safety(&value, String::new());
    };
    if text.chars().count() <= count {
        return same_safety(&value, text);
    }
    if count == 0 {
        return same_safety(&value, String::new());
    }
    let mut out: String = text.chars().take(count - 1).collect();
    out.push('…');
    same_safety(&value, out)
}

fn normalize_newlines(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// The text of `value`, escaped when the template escapes HTML and the
/// value is not already safe.
fn escaped_text(state: &State<'_, '_>, value: &Value) -> String {
    let text = normalize_newlines(&value.to_string());
    if html_mode(state) && !value.is_safe() {
        escape(&text)
    } else {
        text
    }
}

/// `{{ comment.body|linebreaks }}`: paragraphs (`<p>`) at blank lines,
/// `<br>` at single line breaks; the text is escaped first.
pub(crate) fn linebreaks(state: &State<'_, '_>, value: Value) -> Value {
    let text = escaped_text(state, &value);
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text.as_str();
    let mut first = true;
    loop {
        // Paragraphs are separated by two or more newlines.
        let (paragraph, next) = match rest.find("\n\n") {
            Some(at) => {
                let after = rest[at..].trim_start_matches('\n');
                (&rest[..at], Some(after))
            }
            None => (rest, None),
        };
        if !first {
            out.push_str("\n\n");
        }
        first = false;
        out.push_str("<p>");
        out.push_str(&paragraph.replace('\n', "<br>"));
        out.push_str("</p>");
        match next {
            Some(next) => rest = next,
            None => break,
        }
    }
    Value::from_safe_string(out)
}

/// `{{ address|linebreaksbr }}`: every line break becomes `<br>`; the text
/// is escaped first.
pub(crate) fn linebreaksbr(state: &State<'_, '_>, value: Value) -> Value {
    Value::from_safe_string(escaped_text(state, &value).replace('\n', "<br>"))
}

/// `{{ flag|yesno("on,off,unknown") }}`: one word for true, false and none
/// (`yes,no,maybe` by default; with two words, none counts as false).
pub(crate) fn yesno(value: Value, choices: Option<&str>) -> Value {
    let choices = choices.unwrap_or("yes,no,maybe");
    let bits: Vec<&str> = choices.split(',').collect();
    let (yes, no, maybe) = match bits.as_slice() {
        [yes, no] => (*yes, *no, *no),
        [yes, no, maybe, ..] => (*yes, *no, *maybe),
        _ => return value,
    };
    let word = if value.is_none() || value.is_undefined() {
        maybe
    } else if value.is_true() {
        yes
    } else {
        no
    };
    Value::from(word)
}

/// `{{ author.bio|default_if_none("–") }}`: the default only when the
/// value is none (an empty string stays empty).
pub(crate) fn default_if_none(value: Value, default: Value) -> Value {
    if value.is_none() { default } else { value }
}

/// `{{ title|slugify }}`: ASCII, lowercase, words joined by hyphens.
pub(crate) fn slugify(value: Value) -> String {
    let ascii: String = value.to_string().nfkd().filter(char::is_ascii).collect();
    let mut out = String::with_capacity(ascii.len());
    let mut pending_dash = false;
    for c in ascii.to_ascii_lowercase().chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            if pending_dash && !out.is_empty() {
                out.push('-');
            }
            pending_dash = false;
            out.push(c);
        } else if c == '-' || c.is_ascii_whitespace() {
            pending_dash = true;
        }
    }
    out.trim_matches(|c| c == '-' || c == '_').to_owned()
}

/// What may stay as it is in a link target; the rest is percent-encoded.
const HREF_ESCAPES: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'\'')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'\\')
    .add(b'^')
    .add(b'{')
    .add(b'|')
    .add(b'}');

fn unescape_entities(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn is_email(word: &str) -> bool {
    let Some((local, domain)) = word.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !word.contains(':')
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&*+-/=?^_{|}~.".contains(c))
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

fn looks_like_bare_domain(word: &str) -> bool {
    let lower = word.to_ascii_lowercase();
    if lower.starts_with("www.") && word.len() > 4 {
        return true;
    }
    if lower.starts_with("http") || word.contains('@') {
        return false;
    }
    let host = lower.split('/').next().unwrap_or("");
    let first = host.chars().next();
    first.is_some_and(|c| c.is_alphanumeric())
        && [".com", ".edu", ".gov", ".int", ".mil", ".net", ".org"]
            .iter()
            .any(|tld| host.ends_with(tld) && host.len() > tld.len())
}

/// The link for a word (already stripped of punctuation), if it is one:
/// `(href, is_email)`.
fn link_target(word: &str) -> Option<(String, bool)> {
    let lower = word.to_ascii_lowercase();
    let href = if (lower.starts_with("http://") && word.len() > 7)
        || (lower.starts_with("https://") && word.len() > 8)
    {
        word.to_owned()
    } else if looks_like_bare_domain(word) {
        format!("http://{word}")
    } else if is_email(word) {
        return Some((format!("mailto:{word}"), true));
    } else {
        return None;
    };
    Some((utf8_percent_encode(&href, HREF_ESCAPES).to_string(), false))
}

/// Splits a word into (leading punctuation, middle, trailing punctuation).
fn trim_punctuation(word: &str) -> (&str, &str, &str) {
    let mut start = 0;
    let mut end = word.len();
    loop {
        let middle = &word[start..end];
        if let Some(c) = middle.chars().next().filter(|c| matches!(c, '(' | '[')) {
            start += c.len_utf8();
            continue;
        }
        if let Some(c) = middle.chars().last() {
            let unmatched = |open: char| middle.matches(open).count() < middle.matches(c).count();
            let trailing = match c {
                '.' | ',' | ':' | ';' | '!' | '?' => true,
                ')' => unmatched('('),
                ']' => unmatched('['),
                _ => false,
            };
            if trailing {
                end -= c.len_utf8();
                continue;
            }
        }
        break;
    }
    (&word[..start], &word[start..end], &word[end..])
}

/// `{{ comment.body|urlize }}`: links for URLs (`https://…`, `www.…`,
/// `example.com`) and e-mail addresses, with `rel="nofollow"`; every other
/// character is escaped.
pub(crate) fn urlize(state: &State<'_, '_>, value: Value) -> Value {
    let text = value.to_string();
    let escape_text = html_mode(state) && !value.is_safe();
    let input_is_html = value.is_safe();
    let mut out = String::with_capacity(text.len() + 32);
    let push_text = |out: &mut String, s: &str| {
        if escape_text {
            escape_into(out, s)
        } else {
            out.push_str(s)
        }
    };
    let is_separator = |c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\'');
    let mut rest = text.as_str();
    while !rest.is_empty() {
        let separators = rest.len() - rest.trim_start_matches(is_separator).len();
        push_text(&mut out, &rest[..separators]);
        rest = &rest[separators..];
        let word_len = rest.find(is_separator).unwrap_or(rest.len());
        let word = &rest[..word_len];
        rest = &rest[word_len..];
        let (lead, middle, trail) = trim_punctuation(word);
        let plain_middle = if input_is_html {
            unescape_entities(middle)
        } else {
            middle.to_owned()
        };
        match link_target(&plain_middle) {
            Some((href, is_mail)) => {
                push_text(&mut out, lead);
                out.push_str("<a href=\"");
                escape_into(&mut out, &href);
                out.push('"');
                if !is_mail {
                    out.push_str(" rel=\"nofollow\"");
                }
                out.push('>');
                if input_is_html {
                    out.push_str(middle);
                } else {
                    escape_into(&mut out, middle);
                }
                out.push_str("</a>");
                push_text(&mut out, trail);
            }
            None => push_text(&mut out, word),
        }
    }
    Value::from_safe_string(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn punctuation_around_links_is_kept_outside() {
        for (word, expected) in [
            ("(https://a.com/x).", ("(", "https://a.com/x", ").")),
            (
                "https://en.wikipedia.org/wiki/Rust_(language)",
                ("", "https://en.wikipedia.org/wiki/Rust_(language)", ""),
            ),
            ("www.a.com,", ("", "www.a.com", ",")),
            ("[x]", ("[", "x", "]")),
        ] {
            assert_eq!(trim_punctuation(word), expected, "{word}");
        }
    }

    #[test]
    fn recognises_links() {
        for (word, expected) in [
            ("https://a.com", Some("https://a.com")),
            ("www.a.com", Some("http://www.a.com")),
            ("example.org/path", Some("http://example.org/path")),
            ("me@example.com", Some("mailto:me@example.com")),
            ("https://a.com/\"><x", Some("https://a.com/%22%3E%3Cx")),
            ("javascript:alert(1)", None),
            ("http://", None),
            ("a@b", None),
            ("plain", None),
        ] {
            assert_eq!(
                link_target(word).map(|(href, _)| href),
                expected.map(str::to_owned),
                "{word}"
            );
        }
    }
}
