//! Text fields with a shape Django checks: slugs, e-mail addresses, URLs.

/// The shape a text field's values must have (`#[tack(slug)]`,
/// `#[tack(email)]`, `#[tack(url)]`); forms pick their input type from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TextFormat {
    /// Letters, digits, hyphens and underscores (ASCII), as in URLs.
    Slug,
    /// An e-mail address.
    Email,
    /// An `http`, `https`, `ftp` or `ftps` URL with a host.
    Url,
}

impl TextFormat {
    /// The longest value when the field sets no `max_length` (Django's
    /// defaults: 50, 254, 200).
    pub const fn default_max_length(self) -> u32 {
        match self {
            TextFormat::Slug => 50,
            TextFormat::Email => 254,
            TextFormat::Url => 200,
        }
    }

    /// `Err` with the message a form shows when `text` has the wrong shape.
    pub fn check(self, text: &str) -> Result<(), &'static str> {
        let (ok, message) = match self {
            TextFormat::Slug => (
                is_slug(text),
                "Enter a valid “slug” consisting of letters, numbers, underscores or hyphens.",
            ),
            TextFormat::Email => (is_email(text), "Enter a valid email address."),
            TextFormat::Url => (is_url(text), "Enter a valid URL."),
        };
        if ok { Ok(()) } else { Err(message) }
    }
}

fn is_slug(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A domain name label: letters (any script), digits and inner hyphens.
fn is_label(label: &str) -> bool {
    let chars: Vec<char> = label.chars().collect();
    !chars.is_empty()
        && chars.len() <= 63
        && chars.iter().all(|c| c.is_alphanumeric() || *c == '-')
        && chars[0] != '-'
        && chars[chars.len() - 1] != '-'
}

/// A host name with a top-level domain of letters (`example.com`), or
/// `localhost`.
fn is_domain(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let host = host.strip_suffix('.').unwrap_or(host);
    let labels: Vec<&str> = host.split('.').collect();
    let Some(tld) = labels.last() else {
        return false;
    };
    labels.len() >= 2
        && host.chars().count() <= 253
        && labels.iter().all(|l| is_label(l))
        && tld.chars().count() >= 2
        && (tld.chars().all(char::is_alphabetic) || tld.starts_with("xn--"))
}

fn is_email(text: &str) -> bool {
    if text.len() > 320 {
        return false;
    }
    let Some((user, domain)) = text.rsplit_once('@') else {
        return false;
    };
    let atom = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c))
    };
    let user_ok = user.split('.').all(atom)
        || (user.len() >= 2
            && user.starts_with('"')
            && user.ends_with('"')
            && !user[1..user.len() - 1].contains(['"', '\\', '\n', '\r']));
    let literal = domain
        .strip_prefix('[')
        .and_then(|d| d.strip_suffix(']'))
        .is_some_and(|ip| ip.parse::<std::net::IpAddr>().is_ok());
    user_ok && (literal || is_domain(domain))
}

fn is_url(text: &str) -> bool {
    if text.len() > 2048 || text.chars().any(char::is_whitespace) {
        return false;
    }
    let Some((scheme, rest)) = text.split_once("://") else {
        return false;
    };
    if !["http", "https", "ftp", "ftps"]
        .iter()
        .any(|s| s.eq_ignore_ascii_case(scheme))
    {
        return false;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
        match v6.split_once(']') {
            Some((ip, after)) if ip.parse::<std::net::Ipv6Addr>().is_ok() => {
                (None, after.strip_prefix(':'))
            }
            _ => return false,
        }
    } else {
        match host_port.rsplit_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(host_port), None),
        }
    };
    if let Some(port) = port
        && (port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    match host {
        None => true,
        Some(host) => host.parse::<std::net::Ipv4Addr>().is_ok() || is_domain(host),
    }
}

#[cfg(test)]
mod tests {
    use super::TextFormat::{self, Email, Slug, Url};

    #[test]
    fn values_are_checked_as_django_does() {
        let cases: &[(TextFormat, &str, bool)] = &[
            (Slug, "hello-world_2", true),
            (Slug, "", false),
            (Slug, "hello world", false),
            (Slug, "héllo", false),
            (Slug, "a/b", false),
            (Email, "ada@example.com", true),
            (Email, "first.last+tag@mail.example.co.uk", true),
            (Email, "user@localhost", true),
            (Email, "user@[127.0.0.1]", true),
            (Email, "\"quoted name\"@example.com", true),
            (Email, "\"quoted\"@example.com", true),
            (Email, "josé@example.com", false),
            (Email, "user@bücher.de", true),
            (Email, "ada", false),
            (Email, "ada@", false),
            (Email, "@example.com", false),
            (Email, "ada@example", false),
            (Email, "ada@-example.com", false),
            (Email, "ada@example.c", false),
            (Email, "a..b@example.com", false),
            (Email, "ada@exa mple.com", false),
            (Url, "https://example.com", true),
            (Url, "http://example.com/a/b?c=d#e", true),
            (Url, "HTTP://EXAMPLE.COM", true),
            (Url, "https://user:pw@example.com:8080/", true),
            (Url, "http://localhost:8000/admin/", true),
            (Url, "http://127.0.0.1/", true),
            (Url, "http://[::1]:80/", true),
            (Url, "ftp://files.example.org/x.tar.gz", true),
            (Url, "https://bücher.de/", true),
            (Url, "example.com", false),
            (Url, "javascript://example.com", false),
            (Url, "http:///", false),
            (Url, "http://", false),
            (Url, "http://example", false),
            (Url, "http://exa mple.com", false),
            (Url, "http://example.com:port/", false),
            (Url, "http://[zz]/", false),
        ];
        for (format, text, ok) in cases {
            assert_eq!(format.check(text).is_ok(), *ok, "{format:?} {text:?}");
        }
    }
}
