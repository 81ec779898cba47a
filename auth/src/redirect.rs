//! Checking `?next=` so that a sign-in never redirects to another site.

use percent_encoding::percent_decode_str;

/// `next` if it is safe to redirect to after signing in, else `None` (use
/// your default then).
///
/// Accepted: a path on this site (`/articles/x/?page=2`), or an absolute
/// `https://` URL whose host is in `allowed_hosts` (exact, case-insensitive,
/// port included if given). Refused: other hosts, scheme-relative URLs
/// (`//evil.example`), backslashes that browsers read as slashes
/// (`/\evil.example`, `\\evil`), `javascript:` and other schemes, control
/// characters and whitespace, relative paths, and all of these again when
/// percent-encoded (up to three times; more is refused) — the value is checked raw and decoded.
///
/// ```
/// use tack_auth::safe_redirect_target;
///
/// assert_eq!(safe_redirect_target("/articles/?page=2", &[]), Some("/articles/?page=2"));
/// assert_eq!(safe_redirect_target("//evil.example", &[]), None);
/// assert_eq!(safe_redirect_target("https://news.example/x", &["news.example"]),
///            Some("https://news.example/x"));
/// ```
pub fn safe_redirect_target<'a>(next: &'a str, allowed_hosts: &[&str]) -> Option<&'a str> {
    if next.is_empty() || next.len() > 2048 {
        return None;
    }
    // Check what the browser may see: the raw value, then each decoding (a
    // server or proxy in between may decode once more). A value still
    // encoded after three decodings is refused: nobody links like that.
    let mut current = next.to_owned();
    for round in 0..4 {
        if !is_safe(&current, allowed_hosts, round == 0) {
            return None;
        }
        let decoded = percent_decode_str(&current)
            .decode_utf8()
            .ok()?
            .into_owned();
        if decoded == current {
            return Some(next);
        }
        current = decoded;
    }
    None
}

/// Whether `url` is a same-site path or an allowed https URL. The raw
/// value may hold no whitespace or backslash at all; a decoded one may hold
/// them in its query (`?q=a%20b`), not before it.
fn is_safe(url: &str, allowed_hosts: &[&str], raw: bool) -> bool {
    let checked = if raw {
        url
    } else {
        url.split(['?', '#']).next().unwrap_or_default()
    };
    if url.chars().any(char::is_control) || checked.chars().any(|c| c.is_whitespace() || c == '\\')
    {
        return false;
    }
    if let Some(rest) = url.strip_prefix('/') {
        // `//host` is scheme-relative: another site.
        return !rest.starts_with('/');
    }
    // Otherwise only an absolute https URL to an allowed host.
    let Some(rest) = url
        .get(..8)
        .filter(|scheme| scheme.eq_ignore_ascii_case("https://"))
        .map(|_| &url[8..])
    else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') {
        return false;
    }
    allowed_hosts
        .iter()
        .any(|host| !host.is_empty() && authority.eq_ignore_ascii_case(host))
}

/// Where to go after signing in: `next` when [`safe_redirect_target`]
/// accepts it, else `default` (Django's `LOGIN_REDIRECT_URL`).
///
/// ```
/// use tack_auth::redirect_after_login;
///
/// assert_eq!(redirect_after_login(Some("/articles/"), &[], "/"), "/articles/");
/// assert_eq!(redirect_after_login(Some("https://evil.example/"), &[], "/"), "/");
/// assert_eq!(redirect_after_login(None, &[], "/"), "/");
/// ```
pub fn redirect_after_login<'a>(
    next: Option<&'a str>,
    allowed_hosts: &[&str],
    default: &'a str,
) -> &'a str {
    next.and_then(|next| safe_redirect_target(next, allowed_hosts))
        .unwrap_or(default)
}
