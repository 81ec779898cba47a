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

    /// What the matching hot path checks for this pattern (see [`Checks`]).
    pub(crate) fn checks(&self) -> Checks {
        let code = |param: &Param| match param.converter {
            Converter::Str => Checks::STR,
            Converter::Int => Checks::INT,
            Converter::Slug => Checks::SLUG,
            Converter::Uuid => Checks::UUID,
            Converter::Path => Checks::PATH,
        };
        // Each parameter: the static text's length before it, its code,
        // whether a `/` (or the path's start) comes right before it and
        // right after it (or the path's end), and the static text's length
        // after it.
        let mut params = Vec::new();
        let mut before = 0usize;
        let mut slash_before = false;
        for (at, part) in self.parts.iter().enumerate() {
            match part {
                Part::Static(text) => {
                    before += text.len();
                    slash_before = text.ends_with('/');
                }
                Part::Param(index) => {
                    let slash_after = match self.parts.get(at + 1) {
                        None => true,
                        Some(Part::Static(text)) => text.starts_with('/'),
                        Some(Part::Param(_)) => false,
                    };
                    let after = match self.parts.get(at + 1) {
                        Some(Part::Static(text)) => text.len(),
                        _ => 0,
                    };
                    let code = code(&self.params[*index]);
                    params.push((before, code, slash_before, slash_after, after));
                    before = 0;
                    slash_before = false;
                }
            }
        }
        let mut checks = Checks {
            steps: [0; Checks::STEPS],
            len: 0,
            from_end: false,
            prefix: 0,
            suffix: 0,
        };
        let (Some(first), Some(last)) = (params.first(), params.last()) else {
            return checks;
        };
        let (Ok(prefix), Ok(suffix)) = (u16::try_from(first.0), u16::try_from(last.4)) else {
            return Checks::SLOW;
        };
        checks.prefix = prefix;
        checks.suffix = suffix;
        let checked =
            |p: &&(usize, u16, bool, bool, usize)| p.1 != Checks::STR && p.1 != Checks::PATH;
        let (Some(first_checked), Some(last_checked)) = (
            params.iter().position(|p| checked(&p)),
            params.iter().rposition(|p| checked(&p)),
        ) else {
            return checks;
        };
        // Walk from the end when fewer values are on the way (never
        // through a catch-all, whose value may hold slashes).
        let catch_all = last.1 == Checks::PATH;
        checks.from_end = !catch_all && params.len() - first_checked < last_checked + 1;
        let walk: Vec<(usize, u16, bool)> = if checks.from_end {
            params[first_checked..]
                .iter()
                .rev()
                .map(|p| (p.4, p.1, p.2))
                .collect()
        } else {
            params[..=last_checked]
                .iter()
                .map(|p| (p.0, p.1, p.3))
                .collect()
        };
        if walk.len() > Checks::STEPS {
            return Checks::SLOW;
        }
        for (step, (skip, code, slash)) in checks.steps.iter_mut().zip(walk) {
            if !slash || skip >= 1 << 13 {
                return Checks::SLOW;
            }
            // `skip < 2^13`, so the shift keeps every bit.
            *step = ((skip as u16) << 3) | code;
            checks.len += 1;
        }
        checks
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

/// The checks of a pattern packed for the matching hot path, kept inline
/// in matchit's value so that checking follows no pointer.
///
/// First, the part of the path between the static prefix and suffix (whose
/// lengths are known: matchit matched them byte for byte) is scanned for
/// `%` eight bytes at a time: a value with one needs decoding, so the full
/// check decides. Without one, `str` and `path` values need nothing more
/// (matchit ensured them non-empty, `str` without `/`), and the others are
/// found by walking the path from the nearer end: each step skips the
/// static text before a value (13 bits) and reads the value up to the next
/// `/`, checking its converter (3 bits). A pattern the walk cannot do (a
/// checked value that shares its segment with text, `/{id:int}.json`, or
/// more than `STEPS` values on the way) is `SLOW`: its values are checked
/// from matchit's captures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Checks {
    steps: [u16; Checks::STEPS],
    /// How many steps are used; `u8::MAX` for `SLOW`.
    len: u8,
    /// The walk goes from the path's end, and steps skip the text after
    /// their value.
    from_end: bool,
    /// The static text's length before the first value and after the last.
    prefix: u16,
    suffix: u16,
}

/// Whether `bytes[start..end]` holds a `%`, eight bytes at a time.
#[inline(always)]
fn has_escape(bytes: &[u8], start: usize, end: usize) -> bool {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = ONES << 7;
    const PERCENTS: u64 = ONES * b'%' as u64;
    // A byte of `x` that is zero sets its high bit here, or a lower one does.
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGH != 0;
    // Eight bytes from `at`, a zero where a `%` is.
    let word = |at: usize| {
        let mut word = [0; 8];
        word.copy_from_slice(&bytes[at..at + 8]);
        u64::from_le_bytes(word) ^ PERCENTS
    };
    let Some(len) = end.checked_sub(start).filter(|_| end <= bytes.len()) else {
        return true;
    };
    if len < 8 {
        if end < 8 {
            return bytes[start..end].contains(&b'%');
        }
        // The eight bytes ending at `end`, those before `start` made
        // nonzero (1 <= outside <= 8).
        let outside = 8 - len;
        let before = ONES & (u64::MAX >> (64 - 8 * outside));
        return zero_byte(word(end - 8) | before);
    }
    let mut at = start;
    while at + 8 <= end {
        if zero_byte(word(at)) {
            return true;
        }
        at += 8;
    }
    // The last eight bytes cover what the loop left.
    at != end && zero_byte(word(end - 8))
}

/// Whether a value the walk found converts, by code: its bytes are already
/// known to fit (no `%`; digits for int, slug bytes for slug).
#[inline(always)]
fn accepts_code(code: u16, value: &[u8]) -> bool {
    !value.is_empty() && (code != Checks::UUID || is_uuid(value))
}

impl Checks {
    const STEPS: usize = 6;
    const STR: u16 = 0;
    const INT: u16 = 1;
    const SLUG: u16 = 2;
    const UUID: u16 = 3;
    const PATH: u16 = 4;

    /// Checks the hot path cannot do: take the full check.
    pub(crate) const SLOW: Checks = Checks {
        steps: [0; Checks::STEPS],
        len: u8::MAX,
        from_end: false,
        prefix: 0,
        suffix: 0,
    };

    /// Checks the values in a path matchit matched to this pattern's shape,
    /// without allocating: `Some(verdict)`, or `None` when a value may hold
    /// a `%` (it needs decoding: take the full check).
    #[inline(always)]
    pub(crate) fn check(self, path: &str) -> Option<bool> {
        if self.is_slow() {
            return None;
        }
        let bytes = path.as_bytes();
        // matchit matched the shape, so the prefix and suffix are there;
        // `get` and `checked_sub` are guards only.
        let end = bytes.len().checked_sub(usize::from(self.suffix))?;
        if has_escape(bytes, usize::from(self.prefix), end) {
            return None;
        }
        let steps = self.steps.iter().take(usize::from(self.len));
        // Each value is read once: up to the first byte its converter
        // refuses, which must be the `/` that ends it (or the path's end).
        let slug = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
        if self.from_end {
            let mut end = bytes.len();
            for &step in steps {
                end = end.checked_sub(usize::from(step >> 3))?;
                let before = bytes.get(..end)?;
                let stop = match step & 7 {
                    Checks::INT => before.iter().rposition(|b| !b.is_ascii_digit()),
                    Checks::SLUG => before.iter().rposition(|&b| !slug(b)),
                    _ => before.iter().rposition(|&b| b == b'/'),
                };
                let start = stop.map_or(0, |i| i + 1);
                if stop.is_some_and(|i| before[i] != b'/')
                    || !accepts_code(step & 7, &before[start..])
                {
                    return Some(false);
                }
                end = start;
            }
        } else {
            let mut start = 0;
            for &step in steps {
                start += usize::from(step >> 3);
                let rest = bytes.get(start..)?;
                let stop = match step & 7 {
                    Checks::INT => rest.iter().position(|b| !b.is_ascii_digit()),
                    Checks::SLUG => rest.iter().position(|&b| !slug(b)),
                    _ => rest.iter().position(|&b| b == b'/'),
                };
                let len = stop.unwrap_or(rest.len());
                if stop.is_some_and(|i| rest[i] != b'/') || !accepts_code(step & 7, &rest[..len]) {
                    return Some(false);
                }
                start += len;
            }
        }
        Some(true)
    }

    /// Whether the hot path cannot decide.
    pub(crate) fn is_slow(self) -> bool {
        self.len == u8::MAX
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
    fn packed_checks_read_only_the_values() {
        // (pattern, path, verdict: None takes the full, decoding check)
        let cases = [
            ("/a/{x}", "/a/anything", Some(true)),
            ("/a/{x}", "/a/any%20thing", None),
            ("/a%25/{x}", "/a%25/plain", Some(true)),
            ("/u/{id:int}/", "/u/42/", Some(true)),
            ("/u/{id:int}/", "/u/4x/", Some(false)),
            ("/u/{id:int}/", "/u/%34/", None),
            ("/r/{o}/{n:int}/x/{s:slug}", "/r/me/7/x/a-b", Some(true)),
            ("/r/{o}/{n:int}/x/{s:slug}", "/r/me/7/x/a.b", Some(false)),
            ("/r/{o}/{n:int}/x/{s:slug}", "/r/me/y/x/a-b", Some(false)),
            ("/r/{o}/{n:int}/x/{s:slug}", "/r/m%2Fe/7/x/a-b", None),
            ("/a/b/{m:int}/d/{n:int}/", "/a/b/2/d/1/", Some(true)),
            ("/a/b/{m:int}/d/{n:int}/", "/a/b/2/d/y/", Some(false)),
            ("/a/x{id:int}", "/a/x12", Some(true)),
            ("/a/x{id:int}", "/a/xy2", Some(false)),
            ("/f/{*rest}", "/f/a/b.css", Some(true)),
            ("/f/{*rest}", "/f/a/%2e%2e", None),
            (
                "/t/{t:uuid}",
                "/t/67e55044-10b1-426f-9247-bb680e5fe0c8",
                Some(true),
            ),
            ("/t/{t:uuid}", "/t/67e55044", Some(false)),
            ("/{a}/{b}/{c}/{d}/{e}/{f}/{g}", "/1/2/3/4/5/6/7", Some(true)),
            ("/{a}/{b}/{c}/{d}/{e}/{f}/{g}", "/1/2/3/4/5/6/%37", None),
            // Walked from the end: the int is nearer to it.
            ("/r/{o}/{r}/p/{n:int}/c", "/r/me/x/p/12/c", Some(true)),
            ("/r/{o}/{r}/p/{n:int}/c", "/r/me/x/p/1a/c", Some(false)),
            ("/r/{o}/{r}/p/{n:int}/c", "/r/me/%78/p/12/c", None),
            ("/r/{o}/{r}/{n:int}", "/r/me/x/12", Some(true)),
            ("/r/{o}/{r}/{n:int}", "/r/me/x/y", Some(false)),
            ("/r/{m:int}/{r}/{n:int}", "/r/1/x/2", Some(true)),
            ("/r/{m:int}/{r}/{n:int}", "/r/a/x/2", Some(false)),
            ("/r/{m:int}/{r}/{n:int}", "/r/1/x/b", Some(false)),
            ("/r/{m:int}/{r}/{n:int}", "/r/1/x/b2", Some(false)),
            ("/r/{m:int}/{r}/{n:int}", "/r/1x/x/2", Some(false)),
            ("/r/{m:slug}/{r}/{n:slug}/x", "/r/a-1/x/b_2/x", Some(true)),
            ("/r/{m:slug}/{r}/{n:slug}/x", "/r/a-1/x/b.2/x", Some(false)),
            ("/r/{m:slug}/{r}/{n:slug}/x", "/r/a.1/x/b_2/x", Some(false)),
            (
                "/r/{a}/{b}/{t:uuid}/x",
                "/r/a/b/67e55044-10b1-426f-9247-bb680e5fe0c8/x",
                Some(true),
            ),
            (
                "/r/{a}/{b}/{t:uuid}/x",
                "/r/a/b/67e55044-10b1-426f-9247/x",
                Some(false),
            ),
            // A `%` in the static prefix is no value's.
            ("/abcd%/{x}", "/abcd%/xy", Some(true)),
            ("/abcd%/{x}", "/abcd%/x%", None),
            (
                "/long/{a}/{n:int}/text-longer-than-a-word",
                "/long/abcdefghij/3/text-longer-than-a-word",
                Some(true),
            ),
            (
                "/long/{a}/{n:int}/text-longer-than-a-word",
                "/long/abcdefgh%6A/3/text-longer-than-a-word",
                None,
            ),
            (
                "/long/{a}/{n:int}/text-longer-than-a-word",
                "/long/abcdefghi%/3/text-longer-than-a-word",
                None,
            ),
        ];
        for (source, path, verdict) in cases {
            let checks = Pattern::parse(source).unwrap().checks();
            assert!(!checks.is_slow(), "{source}");
            assert_eq!(checks.check(path), verdict, "{source} {path}");
        }
        let many = "/{a}/{b:int}/{c}/{d}/{e}/{f}/{g}/{h:int}";
        for source in ["/img/{id:int}.png", many] {
            let checks = Pattern::parse(source).unwrap().checks();
            assert!(checks.is_slow(), "{source}");
            assert_eq!(checks.check("/img/1.png"), None, "{source}");
        }
    }

    proptest::proptest! {
        /// Whatever the hot path decides, the full check (decoding
        /// matchit's captures) decides the same.
        #[test]
        fn packed_checks_agree_with_the_full_check(
            pattern in 0usize..8,
            mut values in proptest::collection::vec("[0-9]{1,3}|[0-9a-f_.-]{1,5}", 4),
            special in proptest::option::of((0usize..4, "%3[0-9]|%2F|%|/|[0-9]%")),
        ) {
            let patterns = [
                "/r/{o}/{n:int}/x/{s:slug}",
                "/r/{o}/{r}/p/{n:int}/c",
                "/r/{m:int}/{r}/{n:int}",
                "/u/{id:int}/",
                "/a/x{id:int}",
                "/f/{a}/{*rest}",
                "/t/{t:uuid}/{s:slug}",
                "/long-prefix/{a}/{b}/long-suffix-text",
            ];
            let pattern = Pattern::parse(patterns[pattern]).unwrap();
            if let Some((at, text)) = special {
                values[at].push_str(&text);
            }
            let mut values = values.iter();
            let path = pattern.parts.iter().fold(String::new(), |mut path, part| {
                match part {
                    Part::Static(text) => path.push_str(text),
                    Part::Param(_) => path.push_str(values.next().unwrap()),
                }
                path
            });
            let mut matcher = matchit::Router::new();
            matcher.insert(pattern.shape.clone(), ()).unwrap();
            if let Ok(matched) = matcher.at(&path) {
                let full = pattern.accepts(matched.params.iter().map(|(_, v)| v));
                if let Some(fast) = pattern.checks().check(&path) {
                    proptest::prop_assert_eq!(fast, full, "{}", path);
                }
            }
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
