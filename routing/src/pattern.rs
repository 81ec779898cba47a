//! Route patterns: our Django-like syntax, its translation to matchit, and
//! the converters that check and reverse parameter values.

use std::borrow::Cow;
use std::sync::Arc;

use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};

use crate::Error;

/// What a path parameter accepts, as in Django's path converters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Converter {
    /// Any non-empty text without `/` (the default).
    Str,
    /// One or more ASCII digits.
    Int,
    /// ASCII letters, digits, `-` and `_`.
    Slug,
    /// A lowercase hyphenated UUID.
    Uuid,
    /// Any non-empty text, `/` included; only at the end of a pattern.
    Path,
}

impl Converter {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "str" => Converter::Str,
            "int" => Converter::Int,
            "slug" => Converter::Slug,
            "uuid" => Converter::Uuid,
            "path" => Converter::Path,
            _ => return None,
        })
    }

    /// The converter's name as written in patterns.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Converter::Str => "str",
            Converter::Int => "int",
            Converter::Slug => "slug",
            Converter::Uuid => "uuid",
            Converter::Path => "path",
        }
    }

    /// Whether a decoded value converts.
    pub(crate) fn accepts(self, value: &str) -> bool {
        if value.is_empty() {
            return false;
        }
        match self {
            Converter::Str => !value.contains('/'),
            Converter::Int => value.bytes().all(|b| b.is_ascii_digit()),
            Converter::Slug => value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            Converter::Uuid => is_uuid(value),
            Converter::Path => true,
        }
    }
}

fn is_uuid(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, &b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

/// Characters escaped in one path segment when reversing.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// Characters escaped in a `path` value, which keeps its slashes.
const PATH: &AsciiSet = &SEGMENT.remove(b'/');

#[derive(Debug, Clone)]
enum Part {
    Static(String),
    Param(usize),
}

/// One parameter of a pattern.
#[derive(Debug, Clone)]
pub(crate) struct Param {
    pub(crate) name: Arc<str>,
    pub(crate) converter: Converter,
}

/// A parsed route pattern.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    source: Arc<str>,
    parts: Vec<Part>,
    pub(crate) params: Vec<Param>,
    /// The pattern in matchit's syntax, parameters renamed by position so
    /// that patterns differing only in names or converters share one entry.
    pub(crate) shape: String,
}

impl Pattern {
    /// Parses `/articles/{slug:slug}/`, `/files/{*path}`; `{{` and `}}` are
    /// literal braces.
    pub(crate) fn parse(source: &str) -> Result<Pattern, Error> {
        let invalid = |reason: String| Error::InvalidPattern {
            pattern: source.to_owned(),
            reason,
        };
        if !source.starts_with('/') {
            return Err(invalid("a pattern must start with '/'".to_owned()));
        }
        let mut parts = Vec::new();
        let mut params: Vec<Param> = Vec::new();
        let mut shape = String::with_capacity(source.len());
        let mut text = String::new();
        let mut chars = source.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|&(_, c)| c) == Some('{') => {
                    chars.next();
                    text.push('{');
                    shape.push_str("{{");
                }
                '}' if chars.peek().map(|&(_, c)| c) == Some('}') => {
                    chars.next();
                    text.push('}');
                    shape.push_str("}}");
                }
                '}' => return Err(invalid(format!("unmatched '}}' at byte {at}"))),
                '{' => {
                    let rest = &source[at + 1..];
                    let Some(end) = rest.find('}') else {
                        return Err(invalid(format!("unclosed '{{' at byte {at}")));
                    };
                    let inner = &rest[..end];
                    for _ in 0..inner.chars().count() + 1 {
                        chars.next();
                    }
                    let (name, converter) = match inner.strip_prefix('*') {
                        Some(name) => (name, Converter::Path),
                        None => match inner.split_once(':') {
                            Some((name, conv)) => {
                                let converter = Converter::parse(conv).ok_or_else(|| {
                                    invalid(format!(
                                        "unknown converter '{conv}' for parameter '{name}' \
                                         (use str, int, slug, uuid or path)"
                                    ))
                                })?;
                                (name, converter)
                            }
                            None => (inner, Converter::Str),
                        },
                    };
                    if name.is_empty()
                        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    {
                        return Err(invalid(format!(
                            "parameter name '{name}' must be letters, digits and '_'"
                        )));
                    }
                    if params.iter().any(|p| &*p.name == name) {
                        return Err(invalid(format!("parameter '{name}' appears twice")));
                    }
                    if converter == Converter::Path && at + 1 + end + 1 != source.len() {
                        return Err(invalid(format!(
                            "the path parameter '{name}' matches slashes, so it must end the pattern"
                        )));
                    }
                    if converter == Converter::Path && !source[..at].ends_with('/') {
                        return Err(invalid(format!(
                            "the path parameter '{name}' must follow a '/'"
                        )));
                    }
                    if !text.is_empty() {
                        parts.push(Part::Static(std::mem::take(&mut text)));
                    }
                    let index = params.len();
                    parts.push(Part::Param(index));
                    let star = if converter == Converter::Path {
                        "*"
                    } else {
                        ""
                    };
                    shape.push_str(&format!("{{{star}p{index}}}"));
                    params.push(Param {
                        name: name.into(),
                        converter,
                    });
                }
                c => {
                    text.push(c);
                    shape.push(c);
                }
            }
        }
        if !text.is_empty() {
            parts.push(Part::Static(text));
        }
        Ok(Pattern {
            source: source.into(),
            parts,
            params,
            shape,
        })
    }

    /// The pattern as written.
    pub(crate) fn source(&self) -> &Arc<str> {
        &self.source
    }

    /// Checks the raw (percent-encoded) values matchit captured, in order,
    /// without allocating unless a value holds a `%`.
    pub(crate) fn accepts<'v>(&self, mut values: impl Iterator<Item = &'v str>) -> bool {
        self.params.iter().all(|param| {
            let Some(raw) = values.next() else {
                return false;
            };
            match param.converter {
                // matchit already ensures a non-empty value (without `/` for str).
                Converter::Str | Converter::Path if !raw.contains('%') => true,
                converter => decode(raw).is_some_and(|value| converter.accepts(&value)),
            }
        })
    }

    /// Builds a URL path from parameter values, checking each against its
    /// converter and percent-encoding it.
    pub(crate) fn reverse(&self, route: &str, values: &[(&str, &str)]) -> Result<String, Error> {
        for (name, _) in values {
            if !self.params.iter().any(|p| &*p.name == *name) {
                return Err(Error::UnexpectedReverseParam {
                    route: route.to_owned(),
                    param: (*name).to_owned(),
                    pattern: self.source.to_string(),
                });
            }
        }
        let mut url = String::with_capacity(self.source.len() + 16);
        for part in &self.parts {
            match part {
                Part::Static(text) => url.push_str(text),
                Part::Param(index) => {
                    let param = &self.params[*index];
                    let Some((_, value)) = values.iter().find(|(name, _)| *name == &*param.name)
                    else {
                        return Err(Error::MissingReverseParam {
                            route: route.to_owned(),
                            param: param.name.to_string(),
                            pattern: self.source.to_string(),
                        });
                    };
                    let converter = param.converter;
                    let bad_path = converter == Converter::Path
                        && value
                            .split('/')
                            .any(|segment| segment == "." || segment == "..");
                    if !converter.accepts(value) || bad_path {
                        return Err(Error::InvalidReverseParam {
                            route: route.to_owned(),
                            param: param.name.to_string(),
                            value: (*value).to_owned(),
                            converter: converter.name(),
                        });
                    }
                    let set = if converter == Converter::Path {
                        PATH
                    } else {
                        SEGMENT
                    };
                    url.extend(utf8_percent_encode(value, set));
                }
            }
        }
        Ok(url)
    }
}

/// Percent-decodes a captured value; `None` if it is not UTF-8.
pub(crate) fn decode(raw: &str) -> Option<Cow<'_, str>> {
    if !raw.contains('%') {
        return Some(Cow::Borrowed(raw));
    }
    percent_decode_str(raw).decode_utf8().ok()
}

/// Joins a mount prefix and a pattern: `/admin` + `/` is `/admin/`.
pub(crate) fn join(prefix: &str, path: &str) -> String {
    let prefix = prefix.trim_end_matches('/');
    format!("{prefix}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_rename_parameters() {
        let cases = [
            ("/articles/{slug:slug}/", "/articles/{p0}/"),
            ("/u/{id:int}/{name}", "/u/{p0}/{p1}"),
            ("/files/{*path}", "/files/{*p0}"),
            ("/files/{rest:path}", "/files/{*p0}"),
            ("/lit/{{x}}", "/lit/{{x}}"),
        ];
        for (source, shape) in cases {
            assert_eq!(Pattern::parse(source).unwrap().shape, shape, "{source}");
        }
    }

    #[test]
    fn bad_patterns_say_why() {
        let cases = [
            ("x", "start with '/'"),
            ("/{id:number}", "unknown converter 'number'"),
            ("/{a}/{a}", "appears twice"),
            ("/{*rest}/x", "must end the pattern"),
            ("/{", "unclosed"),
            ("/}", "unmatched"),
            ("/{a-b}", "letters, digits"),
            ("/x{*p}", "must follow a '/'"),
        ];
        for (source, message) in cases {
            let error = Pattern::parse(source).unwrap_err().to_string();
            assert!(error.contains(message), "{source}: {error}");
        }
    }

    #[test]
    fn converters() {
        let cases = [
            (Converter::Int, "42", true),
            (Converter::Int, "-1", false),
            (Converter::Int, "", false),
            (Converter::Slug, "hello-world_2", true),
            (Converter::Slug, "héllo", false),
            (
                Converter::Uuid,
                "67e55044-10b1-426f-9247-bb680e5fe0c8",
                true,
            ),
            (
                Converter::Uuid,
                "67E55044-10B1-426F-9247-BB680E5FE0C8",
                false,
            ),
            (Converter::Str, "a b", true),
            (Converter::Str, "a/b", false),
            (Converter::Path, "a/b", true),
        ];
        for (converter, value, ok) in cases {
            assert_eq!(converter.accepts(value), ok, "{converter:?} {value}");
        }
    }
}
