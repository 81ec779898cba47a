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
            Converter::Uuid => is_uuid(value.as_bytes()),
            Converter::Path => true,
        }
    }
}

fn is_uuid(bytes: &[u8]) -> bool {
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

    /// What the matching hot path checks for this pattern.
    pub(crate) fn checks(&self) -> Checks {
        let mut found = Vec::new();
        let mut segment = 0u64;
        for (at, part) in self.parts.iter().enumerate() {
            match part {
                Part::Static(text) => segment += text.matches('/').count() as u64,
                Part::Param(index) => {
                    let code = match self.params[*index].converter {
                        Converter::Str | Converter::Path => continue,
                        Converter::Int => 1,
                        Converter::Slug => 2,
                        Converter::Uuid => 3,
                    };
                    let after_slash = matches!(
                        at.checked_sub(1).map(|i| &self.parts[i]),
                        Some(Part::Static(t)) if t.ends_with('/')
                    );
                    let before_slash = match self.parts.get(at + 1) {
                        None => true,
                        Some(Part::Static(t)) => t.starts_with('/'),
                        Some(Part::Param(_)) => false,
                    };
                    if !after_slash || !before_slash {
                        return Checks::SLOW;
                    }
                    found.push((segment, code));
                }
            }
        }
        let last = segment;
        let catch_all = self
            .params
            .last()
            .is_some_and(|p| p.converter == Converter::Path);
        let nearer_end = found.first().is_some_and(|&(s, _)| last - s < s);
        let from_end = nearer_end && !catch_all;
        if from_end {
            found = found
                .into_iter()
                .rev()
                .map(|(s, code)| (last - s, code))
                .collect();
        }
        if found.len() > 8 || found.iter().any(|&(s, _)| s > 31) {
            return Checks::SLOW;
        }
        let packed = found.iter().enumerate().fold(0, |packed, (i, &(s, code))| {
            packed | ((s << 3) | code) << (8 * i)
        });
        Checks { packed, from_end }
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

/// The converter checks of a pattern packed for the matching hot path, kept
/// inline in matchit's value so that checking follows no pointer.
///
/// Each checked parameter (`int`, `slug`, `uuid`: `str` and `path` need no
/// check on a path without `%`, matchit already enforced them) fills a
/// byte: its path segment's index (5 bits) and its converter (3 bits); a
/// zero byte ends the list. A parameter that shares its segment with text
/// (`/{id:int}.json`), or more than eight of them, makes the pattern `SLOW`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Checks {
    packed: u64,
    /// Segments count from the path's end (the pattern has no catch-all and
    /// its checked segments are nearer to the end).
    from_end: bool,
}

/// Whether a raw segment converts, by converter code (1 int, 2 slug, 3 uuid).
#[inline]
fn accepts_code(code: u64, value: &[u8]) -> bool {
    !value.is_empty()
        && match code {
            1 => value.iter().all(u8::is_ascii_digit),
            2 => value
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            _ => is_uuid(value),
        }
}

impl Checks {
    /// Checks the hot path cannot do: take the full check.
    pub(crate) const SLOW: Checks = Checks {
        packed: u64::MAX,
        from_end: false,
    };

    /// Checks the segments of a path without any `%` (so nothing to
    /// decode): one scan of the path's bytes (from the end when the checked
    /// segments are nearer to it), no allocation, no UTF-8 validation.
    #[inline]
    pub(crate) fn accept_plain(self, path: &str) -> bool {
        let mut packed = self.packed;
        if packed == 0 {
            return true;
        }
        let bytes = path.as_bytes();
        // Checks one segment: `Some(verdict)` when done, `None` to go on.
        let mut step = |segment: u64, value: &[u8]| {
            if segment != (packed & 0xff) >> 3 {
                return None;
            }
            if !accepts_code(packed & 7, value) {
                return Some(false);
            }
            packed >>= 8;
            (packed == 0).then_some(true)
        };
        // matchit matched the shape, so every checked segment exists; the
        // `false` after each loop is only a guard.
        let mut segment = 0u64;
        if self.from_end {
            let mut end = bytes.len();
            loop {
                let start = bytes[..end]
                    .iter()
                    .rposition(|&b| b == b'/')
                    .map_or(0, |i| i + 1);
                if let Some(verdict) = step(segment, &bytes[start..end]) {
                    return verdict;
                }
                if start == 0 {
                    return false;
                }
                end = start - 1;
                segment += 1;
            }
        }
        let mut start = 0;
        loop {
            let end = bytes[start..]
                .iter()
                .position(|&b| b == b'/')
                .map_or(bytes.len(), |i| start + i);
            if let Some(verdict) = step(segment, &bytes[start..end]) {
                return verdict;
            }
            if end == bytes.len() {
                return false;
            }
            start = end + 1;
            segment += 1;
        }
    }

    /// Whether the hot path cannot decide.
    pub(crate) fn is_slow(self) -> bool {
        self == Checks::SLOW
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
    fn packed_checks_find_their_segments() {
        // (pattern, path, accepted)
        let cases = [
            ("/a/{x}", "/a/anything", true),
            ("/u/{id:int}/", "/u/42/", true),
            ("/u/{id:int}/", "/u/4x/", false),
            ("/r/{o}/{n:int}/x/{s:slug}", "/r/me/7/x/a-b", true),
            ("/r/{o}/{n:int}/x/{s:slug}", "/r/me/7/x/a.b", false),
            ("/r/{o}/{n:int}/x/{s:slug}", "/r/me/y/x/a-b", false),
            (
                "/t/{t:uuid}",
                "/t/67e55044-10b1-426f-9247-bb680e5fe0c8",
                true,
            ),
            ("/t/{t:uuid}", "/t/67e55044", false),
        ];
        for (source, path, accepted) in cases {
            let checks = Pattern::parse(source).unwrap().checks();
            assert!(!checks.is_slow(), "{source}");
            assert_eq!(checks.accept_plain(path), accepted, "{source} {path}");
        }
        let cases = [
            ("/a/{n:int}/b/c/d/e", "/a/1/b/c/d/e", true),
            ("/a/b/c/d/{n:int}/e", "/a/b/c/d/1/e", true),
            ("/a/b/c/d/{n:int}/e", "/a/b/c/d/x/e", false),
            ("/a/b/{m:int}/d/{n:int}", "/a/b/2/d/1", true),
            ("/a/b/{m:int}/d/{n:int}", "/a/b/x/d/1", false),
            ("/a/b/{m:int}/d/{n:int}/", "/a/b/2/d/1/", true),
            ("/a/b/{m:int}/d/{n:int}/", "/a/b/2/d/y/", false),
        ];
        for (source, path, accepted) in cases {
            let checks = Pattern::parse(source).unwrap().checks();
            assert_eq!(checks.accept_plain(path), accepted, "{source} {path}");
        }
        for source in ["/img/{id:int}.png", "/a/x{id:int}"] {
            assert!(
                Pattern::parse(source).unwrap().checks().is_slow(),
                "{source}"
            );
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
